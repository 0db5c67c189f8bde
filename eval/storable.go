package eval

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"
)

// storableKeys rewrites every string the aggregates hold from the data
// (group classes, category counts, confusion cells, per-label pairs,
// scorer errors) as encoding/json stores it, merging keys that become
// equal. Aggregates are stored as JSON and read back by later runs
// (baselines, shard merges, reviews), and encoding/json replaces each
// byte that is not valid UTF-8 with U+FFFD: kept raw in memory, a class
// or category such as "caf\xe9" would evaluate differently in this run
// than when read back, and two such keys ("\xff", "\xfe") would become
// one JSON key, the second count overwriting the first.
//
// It runs once on a scan's result, over the groups and their small
// maps, not per row; keys that are valid UTF-8 (all, in practice) cost
// one check each.
func (a *Aggregates) storableKeys() {
	var bad []GroupKey
	for k, g := range a.Groups {
		if !utf8.ValidString(k.Class) {
			bad = append(bad, k)
		}
		for _, acc := range g.Metrics {
			acc.storableKeys()
		}
	}
	// Merged in a fixed order, so the float sums and the error kept are
	// the same on every run (bad comes from a map).
	slices.SortFunc(bad, func(x, y GroupKey) int {
		return cmp.Or(strings.Compare(x.Feature, y.Feature), cmp.Compare(x.Window, y.Window), strings.Compare(x.Class, y.Class))
	})
	for _, k := range bad {
		g := a.Groups[k]
		delete(a.Groups, k)
		k.Class = storable(k.Class)
		a.Merge(&Aggregates{Groups: map[GroupKey]*Group{k: g}})
	}
}

func (a *Acc) storableKeys() {
	a.Cats = storableCounts(a.Cats)
	a.Error = storable(a.Error)
	if q := a.Quality; q != nil {
		q.Legacy = storableCounts(q.Legacy)
		q.AI = storableCounts(q.AI)
		for k, p := range q.PerLabel {
			if !utf8.ValidString(k) {
				delete(q.PerLabel, k)
				s := storable(k)
				q.PerLabel[s] = q.PerLabel[s].Plus(p)
			}
		}
	}
}

// storableCounts rewrites m's keys with storable, adding up the counts
// of keys that become equal.
func storableCounts(m map[string]int64) map[string]int64 {
	var bad []string
	for k := range m {
		if !utf8.ValidString(k) {
			bad = append(bad, k)
		}
	}
	for _, k := range bad {
		n := m[k]
		delete(m, k)
		m[storable(k)] += n
	}
	return m
}

// storable returns s with each byte that is not part of valid UTF-8
// replaced by U+FFFD, as encoding/json encodes it. Written by hand:
// strings.ToValidUTF8 replaces a run of invalid bytes with one U+FFFD,
// not each byte.
func storable(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
