package scorers

import (
	"math/rand"
	"testing"
)

// The ASCII fast path of Normalizer.Apply gives exactly what the general
// (x/text) path gives, for every combination of options.
func TestNormalizerASCIIFastPath(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var samples []string
	for i := 0; i < 2000; i++ {
		b := make([]byte, r.Intn(40))
		for j := range b {
			b[j] = byte(r.Intn(128)) // every ASCII byte, controls included
		}
		samples = append(samples, string(b))
	}
	samples = append(samples, "Hello,  World!", " \t\n", "", "K-9 (don't) $5+5=10 a_b")
	for _, form := range []string{"nfkc", "nfc", "none"} {
		for mask := 0; mask < 8; mask++ {
			n := Normalizer{Form: form, Fold: mask&1 != 0, Punctuation: mask&2 != 0, Whitespace: mask&4 != 0}
			for _, s := range samples {
				if !isASCII(s) {
					t.Fatalf("sample %q is not ASCII", s)
				}
				if fast, slow := n.Apply(s), n.apply(s); fast != slow {
					t.Fatalf("%+v on %q: fast %q, general %q", n, s, fast, slow)
				}
			}
		}
	}
	if isASCII("café") {
		t.Error("café is not ASCII")
	}
}
