package eval

import (
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/parity-eval/parity/scorers"
)

// This file folds the category-valued scorer outputs (categories and
// classification keys) into the groups. Scorers write them in one of two
// forms (scorers.Out): a string per row (Cat), or codes into a per-batch
// key dictionary (Code, Keys). The coded form is counted per (group,
// code) in a dense per-batch array and folded into the string-keyed maps
// once per batch per key, instead of a map increment (and, for
// classification, key splitting and concatenation) per row; the per-row
// numeric parts (confidence bins, Brier sums) are added per row in row
// order either way, so both forms give identical aggregates.

// maxDenseCells bounds the per-batch count array of the coded form:
// beyond it (many groups × many keys, mostly empty) the rows are counted
// one by one into the maps, as in the Cat form.
func maxDenseCells(rows int) int { return 2*rows + 4096 }

// countPool recycles the per-batch count arrays (zeroed again by the fold).
var countPool = sync.Pool{New: func() any { return new([]int64) }}

func getCounts(n int) *[]int64 {
	p := countPool.Get().(*[]int64)
	if cap(*p) < n {
		*p = make([]int64, n)
	}
	*p = (*p)[:n]
	return p
}

func accumulateCategories(as *accSet, o *scorers.Out) {
	if o.Keys != nil {
		accumulateCategoryCodes(as, o)
		// Consumed: the next scorer's output starts in the Cat form even
		// if its Out was not reset.
		o.Keys = nil
		return
	}
	tally := catTally{}
	for i, g := range as.gi {
		if c := o.Cat[i]; c != "" {
			tally[catCell{g, c}]++
		}
	}
	tally.addTo(as)
}

// addCat adds n to category k's count, under a copy of k: k may point
// into a row group's string bytes (a value extracted from a JSON document,
// a PLAIN page's strings), and a map key held for the whole run would
// keep all of those bytes alive, so the live heap would grow with every
// window and group that met a category. Every assignment copies, not only
// a key's first: Go's map stores the assigned key's pointer even when the
// key is already present, so one uncopied update would pin the bytes
// again. Callers tally a batch first, so this runs once per (group,
// category) per batch, not per row.
func (a *Acc) addCat(k string, n int64) {
	if a.Cats == nil {
		a.Cats = map[string]int64{}
	}
	a.Cats[strings.Clone(k)] += n
}

// catTally counts one batch's rows per (group, category) for the
// row-by-row paths (the Cat form, and the coded form's many-keys
// fallback), so keys are copied once per batch (addCat).
type catTally map[catCell]int64

type catCell struct {
	g int32
	k string
}

func (t catTally) addTo(as *accSet) {
	for c, n := range t {
		as.group(c.g).addCat(c.k, n)
	}
}

// accumulateCategoryCodes counts the coded form (countCategoryCodes).
func accumulateCategoryCodes(as *accSet, o *scorers.Out) {
	countCategoryCodes(as, o.Code[:len(as.gi)], nil, o.Keys)
}

// countCategoryCodes counts row i's category keys[code[i]] (none when
// code[i] < 0, null[i] or the key is ""; null may be nil) per group: the
// coded form of Out, or a dictionary column read directly (parity's own
// CategoryValue, whose Score copies the column's codes into Out). A code
// beyond keys (a scorer bug; scorers.Out.CheckCategories reports it in
// tests) counts as an invalid value of the row's group.
//
// Rows are counted per (code, group) in a dense per-batch array, with
// nothing resolved per row, and codes are turned into key strings once
// per batch (a column's dictionary may repeat a value under several
// codes, so the fold adds them up by key). When the array would be too
// large for the batch (many groups × many keys), codes are resolved to
// a slot per distinct key first (countCategorySlots).
func countCategoryCodes(as *accSet, code []int32, null []bool, keys []string) {
	nk, ng := len(keys), len(as.groups)
	if null != nil {
		null = null[:len(code)]
	}
	if 2*nk > len(code) {
		// Keys for about every row (a code per row, as for PLAIN-decoded
		// or JSON-derived columns, or a large dictionary shared with
		// other features' rows): resolving each code costs a string
		// lookup anyway, so rows are counted one by one, as in the Cat
		// form.
		countRows(as, code, null, keys, 0)
		return
	}
	if (nk+1)*ng > maxDenseCells(len(code)) {
		countCategorySlots(as, code, null, keys)
		return
	}
	// counts[code·ng + group]; code nk for the rows without a category.
	cp := getCounts((nk + 1) * ng)
	defer countPool.Put(cp)
	counts := *cp
	gi := as.gi[:len(code)]
	none := int32(nk)
	if null == nil {
		for i, c := range code {
			if uint(c) >= uint(nk) {
				if c >= 0 {
					as.of(i).Invalid++
				}
				c = none
			}
			counts[int(c)*ng+int(gi[i])]++
		}
	} else {
		for i, c := range code {
			if null[i] {
				c = -1
			}
			if uint(c) >= uint(nk) {
				if c >= 0 {
					as.of(i).Invalid++
				}
				c = none
			}
			counts[int(c)*ng+int(gi[i])]++
		}
	}
	// A key met under several codes is added up under its first code
	// with rows first, so it is added (and its string copied, addCat)
	// once per group; only codes with rows are looked up.
	var first map[string]int
	var withRows []int
	for c, k := range keys {
		row := counts[c*ng : (c+1)*ng]
		if k == "" || !slices.ContainsFunc(row, func(n int64) bool { return n != 0 }) {
			continue
		}
		if first == nil {
			first = map[string]int{}
		}
		if f, ok := first[k]; ok {
			to := counts[f*ng : (f+1)*ng]
			for g, n := range row {
				to[g] += n
			}
			continue
		}
		first[k] = c
		withRows = append(withRows, c)
	}
	for _, c := range withRows {
		for g, n := range counts[c*ng : (c+1)*ng] {
			if n != 0 {
				as.group(int32(g)).addCat(keys[c], n)
			}
		}
	}
	clear(counts) // pooled zeroed
}

// countCategorySlots is countCategoryCodes for many keys: each code is
// resolved once per batch to a slot per distinct key string, and rows
// are counted per (slot, group).
func countCategorySlots(as *accSet, code []int32, null []bool, keys []string) {
	nk, ng := len(keys), len(as.groups)
	sp := getSlots(nk)
	defer slotPool.Put(sp)
	slotOf := *sp      // code → slot+1, 0 = not resolved yet
	var used []int32   // codes resolved, to zero slotOf again
	var skeys []string // per slot
	index := map[string]int32{}
	cp := getCounts(0)
	defer countPool.Put(cp)
	counts := (*cp)[:0] // [slot·ng + group]
	limit := maxDenseCells(len(code))
	fold := func() {
		for s, k := range skeys {
			for g, n := range counts[s*ng : (s+1)*ng] {
				if n == 0 {
					continue
				}
				as.group(int32(g)).addCat(k, n)
			}
		}
		clear(counts)
		*cp = counts
		for _, c := range used {
			slotOf[c] = 0
		}
	}
	for i, c := range code {
		if c < 0 || null != nil && null[i] {
			continue
		}
		if int(c) >= nk {
			as.of(i).Invalid++
			continue
		}
		s := slotOf[c] - 1
		if s < 0 {
			k := keys[c]
			if k == "" {
				continue
			}
			var seen bool
			if s, seen = index[k]; !seen {
				if (len(skeys)+1)*ng > limit {
					// Too many distinct categories for a dense count:
					// the rest of the batch is counted row by row.
					fold()
					countRows(as, code, null, keys, i)
					return
				}
				s = int32(len(skeys))
				skeys = append(skeys, k)
				index[k] = s
				// Grow by one zeroed row (the pooled array is zero
				// beyond its length).
				counts = slices.Grow(counts, ng)[:len(counts)+ng]
			}
			slotOf[c] = s + 1
			used = append(used, c)
		}
		counts[int(s)*ng+int(as.gi[i])]++
	}
	fold()
}

// countRows counts the coded form's rows from `from` on one by one.
func countRows(as *accSet, code []int32, null []bool, keys []string, from int) {
	tally := catTally{}
	for i := from; i < len(code); i++ {
		c := code[i]
		switch {
		case c < 0 || null != nil && null[i]:
		case int(c) >= len(keys):
			as.of(i).Invalid++
		case keys[c] != "":
			tally[catCell{as.gi[i], keys[c]}]++
		}
	}
	tally.addTo(as)
}

// slotPool recycles code → slot arrays, all zero between uses.
var slotPool = sync.Pool{New: func() any { return new([]int32) }}

func getSlots(n int) *[]int32 {
	p := slotPool.Get().(*[]int32)
	if cap(*p) < n {
		*p = make([]int32, n)
	}
	*p = (*p)[:n]
	return p
}

func accumulateClassification(as *accSet, o *scorers.Out) {
	if o.Keys != nil {
		accumulateClassificationCodes(as, o)
		o.Keys = nil // consumed, as in accumulateCategories
		return
	}
	for i := range as.gi {
		if o.Cat[i] != "" {
			addQuality(as.of(i), o.Cat[i], o.Legacy[i], o.AI[i], o.Value[i])
		}
	}
}

// What a classification key of the coded form is, decided once per key
// per batch.
const (
	keyUnseen  = iota
	keyNone    // "": no category, the row is skipped
	keyInvalid // not a ClassificationKey: an invalid value
	keyValid
)

// classKey is a valid key's parts, split once per batch.
type classKey struct {
	label, legacy, ai string // confusion keys of both systems
}

// accumulateClassificationCodes folds the coded form of a Classification
// scorer: addQuality's result, with the confusion and per-label counts
// taken per (group, key, paired outcome) and the confidence bins per
// (group, bin, paired outcome).
func accumulateClassificationCodes(as *accSet, o *scorers.Out) {
	nk, ng := len(o.Keys), len(as.groups)
	code := o.Code[:len(as.gi)]
	if ng*nk*4 > maxDenseCells(len(code)) {
		for i, c := range code {
			switch {
			case c < 0:
			case int(c) >= nk:
				as.of(i).Invalid++
			case o.Keys[c] != "":
				addQuality(as.of(i), o.Keys[c], o.Legacy[i], o.AI[i], o.Value[i])
			}
		}
		return
	}
	state := make([]uint8, nk)
	// counts[((g·nk)+key)·4+outcome], outcome as Pair's index.
	cp := getCounts(ng * nk * 4)
	defer countPool.Put(cp)
	counts := *cp
	// conf[((g·ThresholdBins)+bin)·4+outcome]
	fp := getCounts(ng * ThresholdBins * 4)
	defer countPool.Put(fp)
	conf := *fp
	// The rows with a key first, without a branch: unlabelled rows
	// (code -1) come at random, as labels do for a sample of requests,
	// so testing each row's code mispredicted about every other row.
	lp := getBucketBuf(len(code)) // scratch of any content
	defer bucketPool.Put(lp)
	keyed := *lp
	nr := 0
	for i, c := range code {
		keyed[nr] = int32(i)
		nr += int(b2i(c >= 0))
	}
	for _, i32 := range keyed[:nr] {
		i := int(i32)
		c := code[i]
		if int(c) >= nk {
			as.of(i).Invalid++
			continue
		}
		st := state[c]
		if st == keyUnseen {
			st = classifyKey(o.Keys[c])
			state[c] = st
		}
		if st == keyNone {
			continue
		}
		a := as.of(i)
		legacy, ai := o.Legacy[i], o.AI[i]
		if st == keyInvalid || math.IsNaN(legacy) || math.IsNaN(ai) {
			a.Invalid++
			continue
		}
		q := a.Quality
		if q == nil {
			q = newQualityAcc()
			a.Quality = q
		}
		// outcome and addCalibration by arithmetic: whether each system
		// is right varies from row to row, and branches on it
		// mispredicted.
		lr, ar := b2i(legacy != 0), b2i(ai != 0)
		out := int(3 - 2*lr - ar)
		g := int(as.gi[i])
		counts[(g*nk+int(c))*4+out]++
		x := o.Value[i]
		if math.IsNaN(x) || x < 0 || x > 1 {
			q.NoConf.Add(lr != 0, ar != 0)
			continue
		}
		// QualityAcc.addCalibration(x, ar != 0).
		b := &q.Calib[binOf(x, CalibBins)]
		b.N++
		b.ConfSum += x
		b.Correct += ar
		y := float64(ar)
		q.BrierSum += (x - y) * (x - y)
		conf[(g*ThresholdBins+binOf(x, ThresholdBins))*4+out]++
	}
	keys := make([]classKey, nk)
	for g := 0; g < ng; g++ {
		row := counts[g*nk*4 : (g+1)*nk*4]
		for c := 0; c < nk; c++ {
			n := (*Pair)(row[c*4 : c*4+4])
			if *n == (Pair{}) {
				continue
			}
			k := &keys[c]
			if k.legacy == "" { // not split yet (a split key's is never "")
				label, lp, ap, _ := scorers.SplitClassificationKey(o.Keys[c])
				*k = classKey{label: label, legacy: ConfusionKey(label, lp), ai: ConfusionKey(label, ap)}
			}
			q := as.accs[g].Quality
			q.Legacy[k.legacy] += n.N()
			q.AI[k.ai] += n.N()
			q.PerLabel[k.label] = q.PerLabel[k.label].Plus(*n)
			*n = Pair{}
		}
		bins := conf[g*ThresholdBins*4 : (g+1)*ThresholdBins*4]
		for b := 0; b < ThresholdBins; b++ {
			n := (*Pair)(bins[b*4 : b*4+4])
			if *n == (Pair{}) {
				continue
			}
			q := as.accs[g].Quality
			q.Conf[b] = q.Conf[b].Plus(*n)
			*n = Pair{}
		}
	}
}

// classifyKey is what addQuality makes of a key.
func classifyKey(k string) uint8 {
	switch {
	case k == "":
		return keyNone
	case strings.Count(k, "\x00") != 2:
		return keyInvalid
	}
	return keyValid
}
