package scorers

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// numberTexts are on and off parseNumber's own path: plain decimals up to
// and beyond 15 digits, halfway and subnormal-adjacent values, signs,
// spaces, exponents and text ParseFloat refuses or reads differently.
var numberTexts = []string{
	"0", "-0", "0.0", "-0.000", "1", "-7", "12.50", "1234.56", "4999.99", "0.1", "0.3", "2.675", "1.005",
	"999999999999999", "99999999999999.9", "9999999999999999", "0.000000000000001", "0.1234567890123456",
	"123456789012345.6", "9007199254740993", "00012.5", ".5", "-.5", "5.", "-", ".", "", " 12.5 ", "\t3\n",
	"1e5", "1E-3", "+1", "1_000", "0x1p-2", "inf", "-Inf", "NaN", "1.2.3", "--1", "1-", "12a", "١٢",
}

func TestParseNumberMatchesParseFloat(t *testing.T) {
	for _, s := range numberTexts {
		checkParseNumber(t, s)
	}
}

func checkParseNumber(t *testing.T, s string) {
	t.Helper()
	got, ok := parseNumber(s)
	want, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if ok != (err == nil) || (ok && math.Float64bits(got) != math.Float64bits(want)) {
		t.Errorf("parseNumber(%q) = %v (ok %v), ParseFloat %v (err %v)", s, got, ok, want, err)
	}
}

// FuzzParseNumber checks parseNumber against ParseFloat bit for bit.
func FuzzParseNumber(f *testing.F) {
	for _, s := range numberTexts {
		f.Add(s)
	}
	f.Fuzz(checkParseNumber)
}
