package eval

import "github.com/parity-eval/parity/scorers"

// This file folds the string-valued scorer outputs (categories and
// classification keys) into the groups.

func accumulateCategories(as *accSet, o *scorers.Out) {
	for i := range as.gi {
		c := o.Cat[i]
		if c == "" {
			continue
		}
		a := as.of(i)
		if a.Cats == nil {
			a.Cats = map[string]int64{}
		}
		a.Cats[c]++
	}
}

func accumulateClassification(as *accSet, o *scorers.Out) {
	for i := range as.gi {
		if o.Cat[i] != "" {
			addQuality(as.of(i), o.Cat[i], o.Legacy[i], o.AI[i], o.Value[i])
		}
	}
}
