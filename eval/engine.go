// Package eval turns scored rows into evidence: it aggregates per-row
// scores into mergeable per feature × input class × window aggregates,
// runs the statistical tests that fit each kind of score, judges each
// class against its criteria, and replays the window history through the
// graduation / rollback policy to produce verdicts.
package eval

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers"
	"github.com/parity-eval/parity/scorers/jsonpath"
)

// GroupKey identifies one feature × input class × window.
type GroupKey struct {
	Feature string `json:"feature"`
	Class   string `json:"input_class"`
	Window  int64  `json:"window"` // window start, Unix seconds
}

// Group is the aggregates of one group.
type Group struct {
	Rows    int64           `json:"rows"`
	Metrics map[string]*Acc `json:"metrics"`
}

func (g *Group) acc(name string) *Acc {
	a := g.Metrics[name]
	if a == nil {
		a = &Acc{}
		g.Metrics[name] = a
	}
	return a
}

// Aggregates is everything a scan produced: mergeable across shards.
type Aggregates struct {
	Groups map[GroupKey]*Group `json:"-"`
	// Counters of rows not used, by reason, for the run summary.
	Dropped map[string]int64 `json:"dropped"`
	// LabelsUnmatched counts labels whose request was not in the window's
	// logs (labels for unknown or out-of-window requests).
	LabelsUnmatched int64 `json:"labels_unmatched"`
}

// NewAggregates returns empty aggregates.
func NewAggregates() *Aggregates {
	return &Aggregates{Groups: map[GroupKey]*Group{}, Dropped: map[string]int64{}}
}

// Merge adds o into a.
func (a *Aggregates) Merge(o *Aggregates) {
	for k, g := range o.Groups {
		t := a.Groups[k]
		if t == nil {
			t = &Group{Metrics: map[string]*Acc{}}
			a.Groups[k] = t
		}
		t.Rows += g.Rows
		for m, acc := range g.Metrics {
			t.acc(m).Merge(acc)
		}
	}
	for k, v := range o.Dropped {
		a.Dropped[k] += v
	}
	a.LabelsUnmatched += o.LabelsUnmatched
}

// Keys returns the group keys sorted by feature, window, class.
func (a *Aggregates) Keys() []GroupKey {
	out := make([]GroupKey, 0, len(a.Groups))
	for k := range a.Groups {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		x, y := out[i], out[j]
		if x.Feature != y.Feature {
			return x.Feature < y.Feature
		}
		if x.Window != y.Window {
			return x.Window < y.Window
		}
		return x.Class < y.Class
	})
	return out
}

// featurePlan is what the engine does for one feature.
type featurePlan struct {
	idx      int // position in Engine.order; indexes per-worker row lists
	cfg      *config.Feature
	scorers  []scorers.Scorer
	jsonSrcs []jsonSource // JSON fields' paths by source column, each pair once
	// derived are the columns jsonSrcs derive: they exist only in the
	// gathered batch, so no scorer reading one is read from the batch.
	derived  map[string]bool
	classCol string
	// builtin is how many of scorers, from the first, are parity's own:
	// each writes only the outputs of its kind (a test holds them to it),
	// so the next Reset refills only those (scorers.Out.Untouched).
	builtin int
	// cols are the batch columns the feature's scoring reads (its
	// scorers' Needs, JSON sources, and the request id when labels are
	// joined): only these are gathered for its rows. The feature
	// column, already read to split the batch, is not, unless a scorer
	// needs it; nor are the class and time columns, which groupRows reads
	// through the row indexes, nor columns read only by direct scorers.
	cols map[string]bool
	// presence are the columns of cols that every reader asks for
	// PresenceOnly: one not of strings (the audit's timestamp and
	// confidence) is gathered as its null flags alone.
	presence map[string]bool
	// direct[k] is how eval reads scorer k, one of parity's own, from
	// the batch's columns instead of running its Score into Out (0: it
	// does not).
	direct []uint8
	// shape[k] is, for a directPerSystem scorer k, its index in
	// Engine.shapes (-1 for other scorers): features reading the same
	// columns into the same metric share one fold per batch
	// (sharedFolds).
	shape []int
	// rshape[k] is, for a built-in scorer k computed once for the batch
	// (a count scorer, CategoryValue or NumericValue reading only the
	// batch's columns), its index in Engine.rshapes (-1 for others).
	rshape []int
	// rateOnly are the columns of cols read by nothing but such
	// scorers, with their rshapes: a batch that computes all of those
	// once for the batch (sharedFolds) does not gather the column.
	rateOnly map[string][]int
}

// Built-in scorers eval reads from columns (featurePlan.direct).
const (
	// directPerSystem: a PerSystemValue, folded from the batch's columns
	// through the feature's row indexes (foldPerSystemColumns), its
	// columns not gathered for it.
	directPerSystem = 1 + iota
	// directCategory: a CategoryValue, whose Score copies its gathered
	// column's codes into Out: the column is counted instead
	// (countCategoryCodes).
	directCategory
	// directOverBound: an OverBound, its codes read from the batch's
	// column through the feature's row indexes (overBoundCodes), its
	// column not gathered for it.
	directOverBound
)

// jsonSource is the JSON paths read from one source column, extracted
// together so each document is scanned once; names are the derived
// columns' names.
type jsonSource struct {
	src   string
	paths []jsonpath.Path
	names []string
}

// addJSON adds path of column src to jsonSrcs unless it is there already
// (two fields may read the same path).
func (p *featurePlan) addJSON(src string, path jsonpath.Path) {
	name := src + "#" + path.String()
	for k := range p.jsonSrcs {
		s := &p.jsonSrcs[k]
		if s.src != src {
			continue
		}
		if !slices.Contains(s.names, name) {
			s.paths, s.names = append(s.paths, path), append(s.names, name)
		}
		return
	}
	p.jsonSrcs = append(p.jsonSrcs, jsonSource{src: src, paths: []jsonpath.Path{path}, names: []string{name}})
}

// Engine scores batches of one dataset for a set of windows.
type Engine struct {
	cfg      *config.Config
	plans    map[string]*featurePlan
	order    []*featurePlan // plans sorted by name: the scoring order of a batch
	windows  []Window
	winStart int64 // ns of first window start
	winLen   int64 // ns
	inWin    map[int64]bool
	labels   *Labels
	// shapes are the distinct directPerSystem scorers of all plans, by
	// value (metric and columns): a batch's features with one of them
	// are folded from its columns in one pass (sharedFolds).
	shapes []scorers.PerSystemValue
	// rshapes are the distinct built-in scorers of all plans computed
	// once for the batch (rateKey: count scorers, CategoryValue and
	// NumericValue reading only the batch's columns).
	rshapes []rateShape
}

// NewEngine plans the evaluation of the given features over windows.
// extra supplies additional scorers per feature (declarative and
// external ones built by the caller).
func NewEngine(cfg *config.Config, features []string, windows []Window, extra map[string][]scorers.Scorer, labels *Labels) (*Engine, error) {
	if len(windows) == 0 {
		return nil, fmt.Errorf("eval: no windows to evaluate")
	}
	e := &Engine{cfg: cfg, plans: map[string]*featurePlan{}, windows: windows, labels: labels, inWin: map[int64]bool{}}
	e.winLen = int64(cfg.Window.D())
	e.winStart = windows[0].Start.UnixNano()
	for _, w := range windows {
		e.inWin[w.Start.UnixNano()] = true
	}
	want := map[string]bool{}
	for _, f := range features {
		want[f] = true
	}
	for i := range cfg.Features {
		f := &cfg.Features[i]
		if len(features) > 0 && !want[f.Name] {
			continue
		}
		p := &featurePlan{cfg: f, classCol: f.ClassColumn}
		p.scorers = scorers.Builtins(f, &cfg.Columns)
		if b := f.Criteria.MaxP95LatencyMS; b > 0 {
			p.scorers = append(p.scorers, &scorers.OverBound{Metric: "latency_ms.ai.over_bound", Column: cfg.Columns.AILatencyMS, Bound: b})
		}
		p.builtin = len(p.scorers)
		for _, def := range f.Scorers {
			sc, err := scorers.New(def, f)
			if err != nil {
				return nil, fmt.Errorf("feature %q: %w", f.Name, err)
			}
			p.scorers = append(p.scorers, sc)
		}
		p.scorers = append(p.scorers, extra[f.Name]...)
		for _, s := range p.scorers {
			if err := scorers.Validate(s); err != nil {
				return nil, fmt.Errorf("feature %q: %w", f.Name, err)
			}
		}
		for j := range f.Fields {
			fd := &f.Fields[j]
			if fd.Path != "" {
				jp, err := jsonpath.Parse(fd.Path)
				if err != nil {
					return nil, fmt.Errorf("feature %q field %q: %w", f.Name, fd.Name, err)
				}
				p.addJSON(fd.LegacyJSON, jp)
				p.addJSON(fd.AIJSON, jp)
			}
		}
		p.cols = map[string]bool{}
		values := map[string]bool{} // columns whose values are read
		if labels != nil {
			// The request id is read by the labels' join; without a
			// labels dataset only a scorer needing it has it gathered.
			p.cols[cfg.Columns.RequestID], values[cfg.Columns.RequestID] = true, true
		}
		derived := map[string]bool{}
		for _, j := range p.jsonSrcs {
			p.cols[j.src], values[j.src] = true, true
			for _, name := range j.names {
				derived[name] = true
			}
		}
		p.derived = derived
		p.direct = make([]uint8, len(p.scorers))
		for k, s := range p.scorers[:p.builtin] {
			switch s := s.(type) {
			case *scorers.PerSystemValue:
				// A column derived from JSON exists only in the
				// gathered batch, so a scorer reading one is not direct.
				if !derived[s.LegacyCol] && !derived[s.AICol] {
					p.direct[k] = directPerSystem
				}
			case *scorers.CategoryValue:
				p.direct[k] = directCategory
			case *scorers.OverBound:
				if !derived[s.Column] {
					p.direct[k] = directOverBound
				}
			}
		}
		for k, s := range p.scorers {
			if d := p.direct[k]; d == directPerSystem || d == directOverBound {
				continue
			}
			for _, n := range s.Needs() {
				p.cols[n.Column] = true
				if !n.PresenceOnly {
					values[n.Column] = true
				}
			}
		}
		p.presence = map[string]bool{}
		for c := range p.cols {
			if !values[c] {
				p.presence[c] = true
			}
		}
		e.plans[f.Name] = p
	}
	if len(e.plans) == 0 {
		return nil, fmt.Errorf("eval: none of the features %v is configured", features)
	}
	for i, name := range sortedPlanNames(e.plans) {
		e.plans[name].idx = i
		e.order = append(e.order, e.plans[name])
	}
	e.planShapes()
	return e, nil
}

// planShapes sets Engine.shapes and rshapes and each plan's shape,
// rshape and rateOnly.
func (e *Engine) planShapes() {
	e.shapes, e.rshapes = nil, nil
	for _, p := range e.order {
		p.shape = make([]int, len(p.scorers))
		p.rshape = make([]int, len(p.scorers))
		for k, s := range p.scorers {
			p.rshape[k] = -1
			key, ok := rateKeyOf(s)
			if !ok || k >= p.builtin {
				continue
			}
			if slices.ContainsFunc(s.Needs(), func(n scorers.Need) bool { return p.derived[n.Column] }) {
				continue // a column that exists only in the gathered batch
			}
			p.rshape[k] = slices.IndexFunc(e.rshapes, func(r rateShape) bool { return r.key == key })
			if p.rshape[k] < 0 {
				p.rshape[k] = len(e.rshapes)
				e.rshapes = append(e.rshapes, rateShape{key: key, s: s})
			}
		}
		// Columns read only by those: not gathered when all are shared.
		p.rateOnly = map[string][]int{}
		kept := map[string]bool{}
		for _, j := range p.jsonSrcs {
			kept[j.src] = true
		}
		if e.labels != nil {
			kept[e.cfg.Columns.RequestID] = true // read by the labels' join
		}
		for k, s := range p.scorers {
			if d := p.direct[k]; d == directPerSystem || d == directOverBound {
				continue // read from the batch, not gathered
			}
			for _, n := range s.Needs() {
				if p.rshape[k] < 0 {
					kept[n.Column] = true
				} else if !slices.Contains(p.rateOnly[n.Column], p.rshape[k]) {
					p.rateOnly[n.Column] = append(p.rateOnly[n.Column], p.rshape[k])
				}
			}
		}
		for c := range kept {
			delete(p.rateOnly, c)
		}
		for k, s := range p.scorers {
			p.shape[k] = -1
			if p.direct[k] != directPerSystem {
				continue
			}
			v := *s.(*scorers.PerSystemValue)
			p.shape[k] = slices.Index(e.shapes, v)
			if p.shape[k] < 0 {
				p.shape[k] = len(e.shapes)
				e.shapes = append(e.shapes, v)
			}
		}
	}
}

// Projection is the set of log columns the evaluation needs.
func (e *Engine) Projection() []datasets.ColumnSpec {
	c := &e.cfg.Columns
	seen := map[string]int{}
	var out []datasets.ColumnSpec
	add := func(n datasets.ColumnSpec) {
		if i, ok := seen[n.Name]; ok {
			if !n.Optional {
				out[i].Optional = false
			}
			if !n.PresenceOnly {
				out[i].PresenceOnly = false // someone reads the values
			}
			return
		}
		seen[n.Name] = len(out)
		out = append(out, n)
	}
	add(datasets.ColumnSpec{Name: c.RequestID, Kind: datasets.KindString})
	add(datasets.ColumnSpec{Name: c.TS, Kind: datasets.KindTimestamp})
	add(datasets.ColumnSpec{Name: c.Feature, Kind: datasets.KindString})
	derived := map[string]bool{}
	for _, name := range sortedPlanNames(e.plans) {
		p := e.plans[name]
		add(datasets.ColumnSpec{Name: p.classCol, Kind: datasets.KindString})
		for _, j := range p.jsonSrcs {
			add(datasets.ColumnSpec{Name: j.src, Kind: datasets.KindString})
			for _, name := range j.names {
				derived[name] = true
			}
		}
		for _, s := range p.scorers {
			for _, n := range s.Needs() {
				if derived[n.Column] {
					continue
				}
				// Label columns may come from the labels dataset instead.
				opt := n.Optional || (e.labels != nil && e.labels.Has(n.Column))
				add(datasets.ColumnSpec{Name: n.Column, Kind: n.Kind, Optional: opt, PresenceOnly: n.PresenceOnly})
			}
		}
	}
	return out
}

func sortedPlanNames(m map[string]*featurePlan) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// worker is one scan goroutine's private state. The buffers are reused
// from batch to batch so the per-batch hot path allocates little.
type worker struct {
	agg   *Aggregates
	out   *scorers.Out
	rows  [][]int32               // row indices per plan (Engine.order)
	use   map[fileWindow]*FileUse // rows of each file and window this worker saw
	plans []*featurePlan          // the batch's feature dictionary's plans, by code
	seen  []bool                  // request-id dictionary codes seen in this batch
	dups  dupFinder               // duplicate request ids, when their Dict repeats
	cand  []int32                 // rows whose request id is checked by dups
	gi    []int32                 // group of each row of the feature being scored
	accs  []*Acc                  // per group of the batch: the current scorer's accumulator
	gbuf  gatherBufs              // the feature being scored: its gathered columns
	cells cellTable               // resolves rows to groups
	nrows []int64                 // rows per group of the feature being scored
	rates rateTally               // built-in count scorers' codes per group
	// shared folds the batch's per-system columns, and computes its
	// shared built-in scorers (rshapes), once for all its features that
	// read them alike.
	shared sharedFolds

	// json derives the JSON fields of the feature being scored in
	// buffers recycled from one batch to the next.
	json scorers.JSONFields
}

// Workers creates per-worker state for n workers.
type Workers struct {
	e     *Engine
	ws    []*worker
	files map[string]int // file key → index
	names []string       // file index → key
}

// FileUse counts one input file's rows in one evaluated window: the
// rows used, and those dropped there for a missing or repeated request
// id. A window's manifest lists the files with any such row.
type FileUse struct {
	Used               int64 `json:"used"`
	NullRequestID      int64 `json:"null_request_id"`
	DuplicateRequestID int64 `json:"duplicate_request_id"`
}

func (u *FileUse) add(o FileUse) {
	u.Used += o.Used
	u.NullRequestID += o.NullRequestID
	u.DuplicateRequestID += o.DuplicateRequestID
}

// fileWindow keys a worker's FileUse: file index and window start (ns).
type fileWindow struct {
	file int
	win  int64
}

// NewWorkers prepares state for a scan with n workers over files.
func (e *Engine) NewWorkers(n int, files []string) *Workers {
	w := &Workers{e: e, ws: make([]*worker, n), files: map[string]int{}, names: files}
	for i := range w.ws {
		w.ws[i] = &worker{agg: NewAggregates(), out: &scorers.Out{}, rows: make([][]int32, len(e.order)), use: map[fileWindow]*FileUse{}}
	}
	for i, f := range files {
		w.files[f] = i
	}
	return w
}

// Uses is, after the scan, each evaluated window's rows by input file:
// window start (Unix seconds) → file key → counts. Files with no row in
// a window are absent from it.
func (w *Workers) Uses() map[int64]map[string]FileUse {
	out := map[int64]map[string]FileUse{}
	for _, st := range w.ws {
		for k, u := range st.use {
			win := floorDiv(k.win, int64(time.Second))
			m := out[win]
			if m == nil {
				m = map[string]FileUse{}
				out[win] = m
			}
			x := m[w.names[k.file]]
			x.add(*u)
			m[w.names[k.file]] = x
		}
	}
	return out
}

func floorDiv(a, m int64) int64 { return (a - floorMod(a, m)) / m }

// addUse adds a batch's counts for one window (start ns) of file fi.
func (st *worker) addUse(fi int, win int64, u FileUse) {
	if fi < 0 || u == (FileUse{}) {
		return
	}
	k := fileWindow{fi, win}
	p := st.use[k]
	if p == nil {
		p = &FileUse{}
		st.use[k] = p
	}
	p.add(u)
}

// Result merges every worker's aggregates, with their keys as they
// will be stored (storableKeys).
//
// The scan is over: plug-in scorers' processes are ended (closeScorers).
func (w *Workers) Result() *Aggregates {
	out := NewAggregates()
	for _, x := range w.ws {
		out.Merge(x.agg)
	}
	w.e.closeScorers(out)
	if w.e.labels != nil {
		out.LabelsUnmatched = w.e.labels.Unmatched()
	}
	out.storableKeys()
	return out
}

// Batch scores one batch on worker wi. Safe to call concurrently for
// distinct wi.
func (w *Workers) Batch(wi int, b *datasets.Batch) error {
	e := w.e
	st := w.ws[wi]
	c := &e.cfg.Columns
	ts, feat, rid := b.Col(c.TS), b.Col(c.Feature), b.Col(c.RequestID)
	if ts == nil || feat == nil || rid == nil {
		return fmt.Errorf("%s: row group %d: missing one of the required columns %q, %q, %q", b.File, b.RowGroup, c.TS, c.Feature, c.RequestID)
	}
	// Map the feature dictionary to plans once per batch.
	if cap(st.plans) < len(feat.Dict) {
		st.plans = make([]*featurePlan, len(feat.Dict))
	}
	planOf := st.plans[:len(feat.Dict)]
	for i, name := range feat.Dict {
		planOf[i] = e.plans[name]
	}
	for k := range st.rows {
		st.rows[k] = st.rows[k][:0]
	}
	fi := -1
	if i, ok := w.files[b.File]; ok {
		fi = i
	}
	// The current window's counts, added to st.use when the window
	// changes (rarely: logs are written in time order) and at the end.
	var cur FileUse
	// Duplicates are found by dictionary code when codes are distinct
	// strings, else (PLAIN-encoded ids, one code per row) by value, for
	// all the rows that pass the other checks at once after this loop.
	byValue := rid.DictRepeats
	var seen []bool
	cand := st.cand[:0]
	if !byValue {
		if cap(st.seen) < len(rid.Dict) {
			st.seen = make([]bool, len(rid.Dict))
		}
		seen = st.seen[:len(rid.Dict)]
		clear(seen)
	}
	// An id column the decoder saw no empty string in (NoEmpty) is not
	// read for "": a string header load per row.
	ridEmpty := !rid.NoEmpty
	// The current window [winLo, winHi) and whether it is configured:
	// logs are written in time order, so consecutive rows mostly share a
	// window, and a range check is cheaper than the division that finds
	// a row's window.
	winLo, winHi, winIn := int64(math.MaxInt64), int64(math.MinInt64), false
	for i := 0; i < b.Rows; i++ {
		if ts.IsNull(i) {
			st.agg.Dropped["null_timestamp"]++
			continue
		}
		if feat.IsNull(i) {
			st.agg.Dropped["null_feature"]++
			continue
		}
		p := planOf[feat.Codes[i]]
		if p == nil {
			st.agg.Dropped["other_feature"]++
			continue
		}
		if t := ts.Int[i]; t < winLo || t >= winHi {
			st.addUse(fi, winLo, cur)
			cur = FileUse{}
			winLo = t - floorMod(t, e.winLen)
			winIn = e.inWin[winLo]
			// A window at the top of int64's range ends at MaxInt64.
			if winHi = winLo + e.winLen; winHi < winLo {
				winHi = math.MaxInt64
			}
		}
		if !winIn {
			st.agg.Dropped["outside_window"]++
			continue
		}
		if rid.IsNull(i) || ridEmpty && rid.Dict[rid.Codes[i]] == "" {
			st.agg.Dropped["null_request_id"]++
			cur.NullRequestID++
			continue
		}
		// Duplicate request ids (a logger's retried write) are detected
		// within a row group, where retries land: the first row is scored,
		// later ones are dropped and counted. Detecting them across files
		// would need memory proportional to the log, which parity refuses.
		if byValue {
			// Listed for its feature now, and struck off below in the
			// rare batch that has a duplicate, rather than listed from
			// cand in a second pass over the batch.
			cand = append(cand, int32(i))
		} else {
			if seen[rid.Codes[i]] {
				st.agg.Dropped["duplicate_request_id"]++
				cur.DuplicateRequestID++
				continue
			}
			seen[rid.Codes[i]] = true
		}
		st.rows[p.idx] = append(st.rows[p.idx], int32(i))
		cur.Used++
	}
	st.addUse(fi, winLo, cur)
	if byValue {
		if dups := st.dups.mark(rid, cand); dups > 0 {
			st.agg.Dropped["duplicate_request_id"] += int64(dups)
			// The repeated rows were counted as used in their windows.
			for _, i := range st.dups.marked {
				t := ts.Int[i]
				st.addUse(fi, t-floorMod(t, e.winLen), FileUse{Used: -1, DuplicateRequestID: 1})
			}
			for k := range st.rows {
				st.rows[k] = st.rows[k][:0]
			}
			for _, i := range cand {
				if i >= 0 {
					p := planOf[feat.Codes[i]]
					st.rows[p.idx] = append(st.rows[p.idx], i)
				}
			}
		}
		st.cand = cand
	}
	st.gbuf.batch()
	st.shared.batch(e, st.rows, b.Rows)
	for _, p := range e.order {
		idx := st.rows[p.idx]
		if len(idx) == 0 {
			continue
		}
		if err := e.scoreFeature(st, p, b, idx); err != nil {
			return fmt.Errorf("%s: row group %d: feature %q: %w", b.File, b.RowGroup, p.cfg.Name, err)
		}
	}
	if err := st.shared.fold(e, b); err != nil {
		return fmt.Errorf("%s: row group %d: %w", b.File, b.RowGroup, err)
	}
	return nil
}

func floorMod(a, m int64) int64 {
	r := a % m
	if r < 0 {
		r += m
	}
	return r
}

func (e *Engine) scoreFeature(st *worker, p *featurePlan, b *datasets.Batch, idx []int32) error {
	sub := &datasets.Batch{File: b.File, RowGroup: b.RowGroup, Rows: len(idx)}
	// idx is increasing, so when it covers every row (a batch of one
	// feature, nothing dropped) it is the identity and the columns can be
	// shared instead of copied.
	// Otherwise only the columns the feature reads are copied, into the
	// worker's recycled buffers (gatherBufs).
	for _, col := range b.Cols {
		if col != nil && p.cols[col.Name] && !st.shared.skips(p, col.Name) {
			sub.Cols = append(sub.Cols, col)
		}
	}
	if len(idx) != b.Rows {
		sub.Cols = st.gbuf.gatherPresence(sub.Cols, idx, p.presence)
	}
	st.json.Reset() // the previous feature's derived columns are done with
	for _, s := range p.jsonSrcs {
		src := sub.Col(s.src)
		if src == nil {
			continue
		}
		// A batch column already of a derived name is kept, not derived.
		var paths []jsonpath.Path
		for k, name := range s.names {
			if sub.Col(name) == nil {
				paths = append(paths, s.paths[k])
			}
		}
		if len(paths) > 0 {
			sub.Cols = append(sub.Cols, st.json.Extract(src, paths)...)
		}
	}
	in := &scorers.Input{Rows: len(idx), Batch: sub, JSON: &st.json}
	if e.labels != nil {
		ts := b.Col(e.cfg.Columns.TS)
		in.Labels = e.labels.Join(sub.Col(e.cfg.Columns.RequestID), func(i int) int64 {
			if len(idx) != b.Rows {
				i = int(idx[i])
			}
			return floorDiv(ts.Int[i], e.winLen) * e.winLen / int64(time.Second)
		})
	}
	// Group of each row, as an index into groups (the batch's distinct
	// groups), so scorers' outputs are folded in without a map lookup per
	// row.
	// The rows of the batch read through idx (direct scorers, groups),
	// nil for all of them.
	var rows []int32
	if len(idx) != b.Rows {
		rows = idx
	}
	gi, groups := st.cells.groupRows(e, st.agg, p, b.Col(p.classCol), b.Col(e.cfg.Columns.TS), rows, len(idx), &st.gi)
	if cap(st.nrows) < len(groups) {
		st.nrows = make([]int64, len(groups))
	}
	nrows := st.nrows[:len(groups)]
	clear(nrows)
	for _, g := range gi {
		nrows[g]++
	}
	for g, n := range nrows {
		groups[g].Rows += n
	}
	st.shared.add(p, rows, gi, groups)
	if cap(st.accs) < len(groups) {
		st.accs = make([]*Acc, len(groups))
	}
	accs := st.accs[:len(groups)]
	st.rates.batch(len(idx))
	for k, s := range p.scorers {
		if sh := p.rshape[k]; sh >= 0 && st.shared.ron[sh] {
			continue // counted for the whole batch by sharedFolds.rates
		}
		switch p.direct[k] {
		case directPerSystem:
			if st.shared.on[p.shape[k]] {
				continue // folded for the whole batch by sharedFolds.fold
			}
			clear(accs)
			foldPerSystemColumns(s.(*scorers.PerSystemValue), b, rows, gi, groups, accs)
			continue
		case directCategory:
			// The coded form CategoryValue.Score writes: the column's
			// codes, none where null; nothing for an absent column.
			if c := sub.Col(s.(*scorers.CategoryValue).Column); c != nil {
				clear(accs)
				countCategoryCodes(&accSet{name: s.Name(), gi: gi, groups: groups, accs: accs}, c.Codes[:len(idx)], c.Null, c.Dict)
			}
			continue
		case directOverBound:
			ob := s.(*scorers.OverBound)
			clear(accs)
			accumulateRateCodes(&st.rates, ob.Name(), overBoundCodes(st.rates.buf, b.Col(ob.Column), rows, ob.Bound), gi, groups, accs)
			continue
		}
		if rc, ok := rateCoder(s); ok && k < p.builtin {
			// A built-in count scorer: its outcomes as codes, counted
			// per group without writing Out (scorers.RateCoder).
			clear(accs)
			accumulateRateCodes(&st.rates, s.Name(), rc.RateCodes(in, st.rates.buf), gi, groups, accs)
			continue
		}
		if k < p.builtin {
			// A built-in scorer's outputs that it writes on every row
			// are not refilled first (scorers.Out.ResetBuiltin).
			st.out.ResetBuiltin(s, len(idx))
		} else {
			st.out.Reset(len(idx))
		}
		err := s.Score(in, st.out)
		if err == nil && k < p.builtin {
			st.out.Untouched(s.Kind())
		}
		if err != nil {
			if !isolated(s) {
				return fmt.Errorf("scorer %q: %w", s.Name(), err)
			}
			// A plug-in scorer's failure is that scorer's "error" for the
			// groups of this batch; other scorers and features go on.
			for _, g := range groups {
				a := g.acc(s.Name())
				a.Errors++
				if a.Error == "" {
					a.Error = err.Error()
				}
			}
			continue
		}
		clear(accs)
		accumulate(s, st.out, gi, groups, accs)
	}
	return nil
}

// closeScorers ends the processes of the scorers that have them (a
// Close method) and, for a scorer that wrote an answer it was not asked
// for (Unasked, found during the scan or only now, at the end of its
// answer stream), makes its metric "error" in every group of its feature:
// any answer read from it may have been taken for another batch's, in
// any window, so none of its figures is evidence, including those of
// batches scored before the stray answer was seen.
func (e *Engine) closeScorers(a *Aggregates) {
	for _, p := range e.order {
		for _, s := range p.scorers {
			c, ok := s.(interface{ Close() error })
			if !ok {
				continue
			}
			_ = c.Close() // other end-of-stream errors: the answers were all read
			u, ok := s.(interface{ Unasked() error })
			if !ok || u.Unasked() == nil {
				continue
			}
			msg := u.Unasked().Error()
			for k, g := range a.Groups {
				if k.Feature != p.cfg.Name {
					continue
				}
				acc := g.acc(s.Name())
				if acc.Errors == 0 {
					acc.Error = msg
				}
				acc.Errors++
			}
		}
	}
}

// isolated reports whether a scorer's errors are contained to its own
// metric (configured and external scorers) rather than failing the run
// (built-ins, whose failure means the data or parity is broken).
func isolated(s scorers.Scorer) bool {
	_, ok := s.(scorers.Isolated)
	return ok
}
