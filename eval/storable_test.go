package eval

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// TestStorableIsJSONs: storable(s) is what encoding/json reads back
// after storing s, for strings with and without invalid UTF-8.
func TestStorableIsJSONs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []string{"", "plain", "café", "caf\xe9", "\xff", "\xfe\xff", "a\xc3", "\xc3\x28", "\xed\xa0\x80", "€\x80€"}
	for range 2000 {
		b := make([]byte, rng.IntN(8))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		data, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back string
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		if got := storable(s); got != back {
			t.Fatalf("storable(%q) = %q, encoding/json reads back %q", s, got, back)
		}
	}
}

// TestStorableKeysRoundTrip: aggregates with classes, categories and
// confusion cells that are not valid UTF-8 encode, once storableKeys has
// run, to the same bytes as their stored copy read back, and keys that
// become equal add up instead of one overwriting the other.
func TestStorableKeysRoundTrip(t *testing.T) {
	a := NewAggregates()
	acc := func() *Acc {
		q := newQualityAcc()
		q.Legacy[ConfusionKey("\xff", "x")] = 1
		q.Legacy[ConfusionKey("\xfe", "x")] = 2
		q.PerLabel["\xff"] = Pair{1, 0, 0, 0}
		q.PerLabel["\xfe"] = Pair{0, 1, 0, 0}
		return &Acc{N: 3, Cats: map[string]int64{"\xff": 1, "\xfe": 2, "ok": 4}, Quality: q, Errors: 1, Error: "bad \xe9"}
	}
	for i, class := range []string{"\xff", "\xfe", "fine"} {
		a.Groups[GroupKey{Feature: "f", Class: class, Window: 60}] = &Group{Rows: int64(i + 1), Metrics: map[string]*Acc{"m": acc()}}
	}
	a.storableKeys()

	if len(a.Groups) != 2 {
		t.Fatalf("%d groups, want 2 (the two invalid classes are one stored class)", len(a.Groups))
	}
	g := a.Groups[GroupKey{Feature: "f", Class: "\uFFFD", Window: 60}]
	if g == nil || g.Rows != 3 {
		t.Fatalf("merged group %+v, want 3 rows", g)
	}
	m := g.Metrics["m"]
	if m.N != 6 || m.Cats["\uFFFD"] != 6 || m.Cats["ok"] != 8 || len(m.Cats) != 2 {
		t.Errorf("merged categories %v (n %d)", m.Cats, m.N)
	}
	if q := m.Quality; q.Legacy[ConfusionKey("\uFFFD", "x")] != 6 || len(q.Legacy) != 1 || q.PerLabel["\uFFFD"] != (Pair{2, 2, 0, 0}) || len(q.PerLabel) != 1 {
		t.Errorf("merged quality %v %v", q.Legacy, q.PerLabel)
	}
	if m.Error != "bad \uFFFD" {
		t.Errorf("error %q", m.Error)
	}

	mem, err := json.Marshal(a.File())
	if err != nil {
		t.Fatal(err)
	}
	var f AggregatesFile
	if err := json.Unmarshal(mem, &f); err != nil {
		t.Fatal(err)
	}
	stored, err := json.Marshal(f.Aggregates().File())
	if err != nil {
		t.Fatal(err)
	}
	if string(mem) != string(stored) {
		t.Errorf("in memory and read back differ:\n%s\n%s", mem, stored)
	}
}
