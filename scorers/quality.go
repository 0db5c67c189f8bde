package scorers

import (
	"math"
	"strings"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
)

// NoAnswer stands for a missing prediction (the system errored or logged
// null) in classification keys: a wrong answer that is no category.
const NoAnswer = "(none)"

// ClassificationKey joins a row's true label and both systems'
// predictions for a Classification scorer's Out.Cat; SplitClassificationKey
// undoes it. NUL cannot occur in a category, so the key is unambiguous.
func ClassificationKey(label, legacy, ai string) string {
	return label + "\x00" + legacy + "\x00" + ai
}

// SplitClassificationKey returns the label and predictions of a key made
// by ClassificationKey.
func SplitClassificationKey(k string) (label, legacy, ai string, ok bool) {
	p := strings.Split(k, "\x00")
	if len(p) != 3 {
		return "", "", "", false
	}
	return p[0], p[1], p[2], true
}

// FieldQuality scores one labelled categorical decision field for the
// quality-beyond-accuracy metrics (per-category precision / recall / F1,
// calibration of the AI's confidence, confidence thresholds): Kind
// Classification. Categories are compared with the field's comparator;
// case_insensitive fields are folded so the confusion matrix has one
// row per category.
type FieldQuality struct {
	*FieldAgreement
	LabelCol string
	ConfCol  string
}

// Name is "quality.<field>".
func (s *FieldQuality) Name() string { return "quality." + s.Field }

// Kind is Classification.
func (s *FieldQuality) Kind() Kind { return Classification }

// Needs the field's columns, the label (optional: it may come from the
// labels dataset) and the AI confidence (optional: calibration and
// thresholds are then skipped).
func (s *FieldQuality) Needs() []Need {
	return append(s.FieldAgreement.Needs(),
		Need{Column: s.LabelCol, Kind: datasets.KindString, Optional: true},
		Need{Column: s.ConfCol, Kind: datasets.KindFloat64, Optional: true})
}

func (s *FieldQuality) norm(v string) string {
	if s.Comparator.Kind == "case_insensitive" {
		return strings.ToLower(strings.TrimSpace(v))
	}
	return v
}

// Score fills Code (the coded form: Keys are ClassificationKeys), Legacy,
// AI and Value for labelled rows. The label and prediction columns are
// dictionary-encoded, so each dictionary entry a row uses is normalized
// once and each distinct (label, legacy, AI) triple gets its key and
// correctness once per batch: a row costs a few array loads, not a key
// string.
func (s *FieldQuality) Score(in *Input, out *Out) error {
	if lab := in.LabelColumn(s.LabelCol); lab.Joined == nil && isString(lab.Col) && s.scoreDense(in, lab.Col, out) {
		return nil
	}
	conf := in.Col(s.ConfCol)
	code := out.UseCodes(in.Rows, nil)
	// Pass 1: the normalized label id of every row (-1: unlabelled),
	// held in code until pass 2 overwrites it with the key's code.
	labs := newInterner(s.norm)
	labelIDs(in.LabelColumn(s.LabelCol), labs, code)
	// Pass 2. Predictions are interned with NoAnswer as id 0. A row's
	// label id and raw prediction codes index a dense table of key codes
	// while it is small (small dictionaries); otherwise, and on a cell's
	// first use, the triple of normalized ids is looked up in a map, so
	// codes whose values normalize alike share a key.
	preds := newInterner(s.norm)
	preds.normed(NoAnswer)
	lc, ac := preds.column(in.Col(s.LegacyCol)), preds.column(in.Col(s.AICol))
	lw, aw := lc.width(), ac.width()
	var table []int32 // key code + 1 per (label id, legacy code, AI code); 0 = not seen
	if cells := len(labs.names) * lw * aw; cells <= maxDenseTriples {
		table = make([]int32, cells)
	}
	byIDs := map[[3]int32]int32{}
	var legOK, aiOK []float64 // correctness per key
	keyOf := func(lab int32, i int) int32 {
		t := [3]int32{lab, lc.id(preds, i), ac.id(preds, i)}
		if k, ok := byIDs[t]; ok {
			return k
		}
		k := int32(len(out.Keys))
		byIDs[t] = k
		label, lp, ap := labs.names[t[0]], preds.names[t[1]], preds.names[t[2]]
		out.Keys = append(out.Keys, ClassificationKey(label, lp, ap))
		legOK = append(legOK, b2f(lp != NoAnswer && s.Comparator.EqualStrings(lp, label)))
		aiOK = append(aiOK, b2f(ap != NoAnswer && s.Comparator.EqualStrings(ap, label)))
		return k
	}
	for i, lab := range code {
		out.Value[i] = math.NaN()
		if lab < 0 {
			out.Legacy[i], out.AI[i] = math.NaN(), math.NaN()
			continue
		}
		var k int32
		if table != nil {
			j := (int(lab)*lw+lc.raw(i))*aw + ac.raw(i)
			if k = table[j] - 1; k < 0 {
				k = keyOf(lab, i)
				table[j] = k + 1
			}
		} else {
			k = keyOf(lab, i)
		}
		code[i] = k
		out.Legacy[i], out.AI[i] = legOK[k], aiOK[k]
		if conf != nil && !conf.IsNull(i) && !math.IsNaN(conf.Float[i]) && !math.IsInf(conf.Float[i], 0) {
			out.Value[i] = conf.Float[i]
		}
	}
	return nil
}

func (s *FieldQuality) overwrites() uint8 { return 1<<outValue | 1<<outLegacy | 1<<outAI }

// maxDenseTriples bounds Score's dense table of key codes (256 KiB).
const maxDenseTriples = 1 << 16

// scoreDense is Score for labels from the log column lab alone (the
// common case), when a dense table over (label, legacy, AI) raw codes,
// null counted as one more code each, fits maxDenseTriples; it reports
// false, having written nothing, otherwise. A row is one table read
// whose cell says everything Score writes for the row, unlabelled rows
// included, so no branch depends on whether a row is labelled (labelled
// rows are interleaved at random, and that branch was mispredicted on
// about every other row). Keys are made in the order Score makes them:
// on each normalized triple's first row.
func (s *FieldQuality) scoreDense(in *Input, lab *datasets.Column, out *Out) bool {
	preds := newInterner(s.norm)
	preds.normed(NoAnswer)
	lc, ac := preds.column(in.Col(s.LegacyCol)), preds.column(in.Col(s.AICol))
	lw, aw := lc.width(), ac.width()
	labNull := int32(len(lab.Dict))
	cells := (len(lab.Dict) + 1) * lw * aw
	if cells > maxDenseTriples {
		return false
	}
	code := out.UseCodes(in.Rows, nil)
	labs := newInterner(s.norm)
	labID := make([]int32, len(lab.Dict)) // interned id + 1 per label entry, 0 until used
	table := make([]int32, cells)         // slot + 1 per (label, legacy, AI) raw codes; 0 = not seen
	byIDs := map[[3]int32]int32{}
	// What Score writes for a row of each slot: slot 0 is an unlabelled
	// row, slot k+1 key k.
	slots := []denseSlot{{code: -1, legOK: math.NaN(), ok: math.NaN()}}
	slotOf := func(lr int32, i int) int32 {
		if lr == labNull {
			return 0
		}
		id := labID[lr] - 1
		if id < 0 {
			id = labs.id(lab.Dict[lr])
			labID[lr] = id + 1
		}
		t := [3]int32{id, lc.id(preds, i), ac.id(preds, i)}
		if k, ok := byIDs[t]; ok {
			return k + 1
		}
		k := int32(len(out.Keys))
		byIDs[t] = k
		label, lp, ap := labs.names[t[0]], preds.names[t[1]], preds.names[t[2]]
		out.Keys = append(out.Keys, ClassificationKey(label, lp, ap))
		slots = append(slots, denseSlot{code: k, conf: ^uint64(0),
			legOK: b2f(lp != NoAnswer && s.Comparator.EqualStrings(lp, label)),
			ok:    b2f(ap != NoAnswer && s.Comparator.EqualStrings(ap, label))})
		return k + 1
	}
	n := len(code)
	rows := denseRows{code: code, table: table, lw: lw, aw: aw,
		legacy: out.Legacy[:n], ai: out.AI[:n], value: out.Value[:n]}
	rows.lab, rows.labNulls, rows.labNull = lab.Codes[:n], nullFlags(lab.Null, n), labNull
	l, lNulls, lNull := lc.rawCodes(n)
	a, aNulls, aNull := ac.rawCodes(n)
	rows.l, rows.lNulls, rows.lNull = l, nullFlags(lNulls, n), int32(lNull)
	rows.a, rows.aNulls, rows.aNull = a, nullFlags(aNulls, n), int32(aNull)
	if conf := in.Col(s.ConfCol); conf != nil {
		rows.conf, rows.confNulls = conf.Float[:n], nullFlags(conf.Null, n)
	} else {
		fillNaN(rows.value)
	}
	// Runs of rows whose cells have slots, each stopped by a row whose
	// cell has none yet (a few per batch): slotOf makes it, in row
	// order, and the run goes on from that row.
	for i := 0; ; {
		if i = rows.run(i, slots); i == n {
			break
		}
		j, lr := rows.cell(i)
		table[j] = slotOf(lr, i) + 1
	}
	return true
}

// denseSlot is what scoreDense writes for a row of one slot: a key's
// code and correctness, and conf, all ones when the row's confidence is
// kept (a labelled row) and 0 when not.
type denseSlot struct {
	code      int32
	conf      uint64
	legOK, ok float64
}

// denseRows are scoreDense's inputs and outputs over a batch's n rows,
// every slice n long (null flags included: nullFlags), so the loop has
// no nil checks.
type denseRows struct {
	code                     []int32
	table                    []int32
	lw, aw                   int
	lab, l, a                []int32
	labNulls, lNulls, aNulls []bool
	labNull, lNull, aNull    int32
	conf                     []float64 // nil without a confidence column
	confNulls                []bool
	legacy, ai, value        []float64
}

// cell is row i's index in the table, and its label's raw code.
func (r *denseRows) cell(i int) (j int, lr int32) {
	lr = pick(r.lab[i], r.labNulls[i], r.labNull)
	l, a := int(pick(r.l[i], r.lNulls[i], r.lNull)), int(pick(r.a[i], r.aNulls[i], r.aNull))
	return (int(lr)*r.lw+l)*r.aw + a, lr
}

// run writes rows i, i+1, ... from their cells' slots, and returns the
// first row whose cell has no slot yet (n when none). Its loop calls
// nothing (slotOf runs between runs), and no branch in it depends on a
// row: null codes, labelled rows' confidences and NaN are selected by
// arithmetic, as labels come at random and a branch on them was
// mispredicted on about every other row (one routing batch's quality
// scorer -34% CPU).
func (r *denseRows) run(i int, slots []denseSlot) int {
	code, table, lw, aw := r.code, r.table, r.lw, r.aw
	n := len(code)
	lab, labNulls, l, lNulls, a, aNulls := r.lab[:n], r.labNulls[:n], r.l[:n], r.lNulls[:n], r.a[:n], r.aNulls[:n]
	labNull, lNull, aNull := r.labNull, r.lNull, r.aNull
	legacy, ai, value := r.legacy[:n], r.ai[:n], r.value[:n]
	conf, confNulls := r.conf, r.confNulls
	if conf != nil {
		conf, confNulls = conf[:n], confNulls[:n]
	}
	nanBits := math.Float64bits(math.NaN())
	for ; i < n; i++ {
		lr := int(pick(lab[i], labNulls[i], labNull))
		lc := int(pick(l[i], lNulls[i], lNull))
		ac := int(pick(a[i], aNulls[i], aNull))
		sl := table[(lr*lw+lc)*aw+ac] - 1
		if sl < 0 {
			return i
		}
		st := &slots[sl]
		code[i] = st.code
		legacy[i], ai[i] = st.legOK, st.ok
		if conf != nil {
			// The confidence of a labelled row, when a finite number
			// (x-x is 0 unless x is NaN or ±Inf); NaN otherwise.
			v := conf[i]
			keep := st.conf & -uint64(b2i(v-v == 0)&^b2i(confNulls[i])) // not kept: 0
			value[i] = math.Float64frombits(math.Float64bits(v)&keep | nanBits&^keep)
		}
	}
	return n
}

// labelIDs writes the interned, normalized label of every row into ids
// (-1 when unlabelled): the log column's dictionary entries are
// normalized once each; labels joined from the labels dataset (plain
// strings) are looked up per row.
func labelIDs(lab LabelColumn, in *interner, ids []int32) {
	c := in.column(lab.Col)
	var raw map[string]int32 // joined label → id
	for i := range ids {
		ids[i] = -1
		if lab.Joined != nil && lab.Joined[i] != nil {
			if raw == nil {
				raw = map[string]int32{}
			}
			v := *lab.Joined[i]
			id, ok := raw[v]
			if !ok {
				id = in.id(v)
				raw[v] = id
			}
			ids[i] = id
			continue
		}
		if c.dict != nil && (c.null == nil || !c.null[i]) {
			// id's first step, inline: the entry's id once interned.
			if id := c.dict[c.codes[i]]; id != 0 {
				ids[i] = id - 1
			} else {
				ids[i] = c.id(in, i)
			}
		}
	}
}

// interner numbers the distinct normalized values of one batch.
type interner struct {
	norm  func(string) string
	names []string
	index map[string]int32
}

func newInterner(norm func(string) string) *interner {
	return &interner{norm: norm, index: map[string]int32{}}
}

// id returns the id of raw's normalized value.
func (n *interner) id(raw string) int32 { return n.normed(n.norm(raw)) }

// normed returns the id of an already normalized value.
func (n *interner) normed(v string) int32 {
	id, ok := n.index[v]
	if !ok {
		id = int32(len(n.names))
		n.names = append(n.names, v)
		n.index[v] = id
	}
	return id
}

// internedCol is a column whose dictionary entries get interner ids on
// first use: a batch's dictionary may be shared with other features'
// rows, or hold one entry per document of a JSON column, so entries no
// row uses are never normalized.
type internedCol struct {
	dictStr []string
	codes   []int32
	null    []bool
	dict    []int32 // id+1 per dictionary entry, 0 until used; nil when the column is absent
}

// column prepares c (nil: absent) for interning.
func (n *interner) column(c *datasets.Column) *internedCol {
	if c == nil {
		return &internedCol{}
	}
	c = asStrings(c)
	return &internedCol{dictStr: c.Dict, codes: c.Codes, null: c.Null, dict: make([]int32, len(c.Dict))}
}

// width is the number of raw codes: the dictionary's, and one for null.
func (ic *internedCol) width() int { return len(ic.dictStr) + 1 }

// raw is row i's raw code: its dictionary code, or len(dictionary) when
// null or absent.
func (ic *internedCol) raw(i int) int {
	if ic.codes == nil || ic.null != nil && ic.null[i] {
		return len(ic.dictStr)
	}
	return int(ic.codes[i])
}

// rawCodes returns what raw reads for n rows: the codes (zeros when the
// column is absent), the null flags and the null code.
func (ic *internedCol) rawCodes(n int) (codes []int32, null []bool, nullCode int) {
	if ic.codes == nil {
		return make([]int32, n), nil, 0
	}
	return ic.codes[:n], ic.null, len(ic.dictStr)
}

// id is the id of row i's value: id 0 (NoAnswer, which the predictions'
// interner numbers first) when the column is absent or null.
func (ic *internedCol) id(n *interner, i int) int32 {
	if ic.dict == nil || ic.null != nil && ic.null[i] {
		return 0
	}
	c := ic.codes[i]
	if id := ic.dict[c]; id != 0 {
		return id - 1
	}
	id := n.id(ic.dictStr[c])
	ic.dict[c] = id + 1
	return id
}

// asStrings returns c, or for a column of another kind than string (not
// what Needs asks for, but a column several scorers read is decoded as
// the first one asks) its values formatted as strings, dictionary-encoded.
func asStrings(c *datasets.Column) *datasets.Column {
	if c.Kind == datasets.KindString {
		return c
	}
	n := c.Len()
	out := &datasets.Column{Name: c.Name, Kind: datasets.KindString, Null: c.Null, Codes: make([]int32, n)}
	index := map[string]int32{}
	for i := 0; i < n; i++ {
		if c.IsNull(i) {
			continue
		}
		v := cellString(c, i)
		code, ok := index[v]
		if !ok {
			code = int32(len(out.Dict))
			out.Dict = append(out.Dict, v)
			index[v] = code
		}
		out.Codes[i] = code
	}
	return out
}

// IsClassificationField reports whether a field gets a FieldQuality
// scorer: labelled, compared as categories (exact or case_insensitive)
// on a plain string column.
func IsClassificationField(fd *config.Field) bool {
	return fd.Label != "-" && (fd.Comparator == "exact" || fd.Comparator == "case_insensitive") && FieldKind(fd) == datasets.KindString
}

// DriftColumn is one configured input drift column: `name` is numeric
// (read as float64; integer columns widen), `name:category` categorical.
type DriftColumn struct {
	Column      string
	Categorical bool
}

// ParseDriftColumn splits a features[].drift_columns entry.
func ParseDriftColumn(s string) DriftColumn {
	if c, ok := strings.CutSuffix(s, ":category"); ok {
		return DriftColumn{Column: c, Categorical: true}
	}
	return DriftColumn{Column: strings.TrimSuffix(s, ":numeric")}
}

// QualityScorers are the built-in scorers of issue 12 for a feature: a
// FieldQuality per classification field and an "input.<column>" scorer
// per drift column (NumericValue or CategoryValue; optional, so a
// column missing from older files yields no drift figures rather than a
// failed run).
func QualityScorers(f *config.Feature, cols *config.Columns) []Scorer {
	var out []Scorer
	for i := range f.Fields {
		fd := &f.Fields[i]
		if IsClassificationField(fd) {
			out = append(out, &FieldQuality{FieldAgreement: NewFieldAgreement(fd), LabelCol: fd.Label, ConfCol: cols.AIConfidence})
		}
	}
	for _, d := range f.DriftColumns {
		dc := ParseDriftColumn(d)
		if dc.Categorical {
			out = append(out, &CategoryValue{Metric: "input." + dc.Column, Column: dc.Column, Optional: true})
		} else {
			out = append(out, &NumericValue{Metric: "input." + dc.Column, Column: dc.Column, Optional: true})
		}
	}
	return out
}
