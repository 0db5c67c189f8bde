package synth

import (
	"fmt"
	"sync"
	"time"
)

// truth assembles the per-feature truth from the scenario tables and the
// per-day counts.
func (p *plan) truth(days []*dayResult) []FeatureTruth {
	var out []FeatureTruth
	for fi := range scenario {
		f := &scenario[fi]
		ft := FeatureTruth{Name: f.name, Kind: f.kind, Categories: append([]string(nil), f.categories...), Expect: f.expect, Notes: append([]string(nil), f.notes...)}
		for ci := range f.classes {
			c := &f.classes[ci]
			ct := ClassTruth{Name: c.name}
			for _, ph := range p.phases(f) {
				pt := p.phaseTruth(f, c, ph[0], ph[1])
				for d := ph[0]; d < ph[1]; d++ {
					pt.Observed.add(*days[d-1].counts[f.name+"|"+c.name])
				}
				ct.Phases = append(ct.Phases, pt)
			}
			ft.Classes = append(ft.Classes, ct)
		}
		out = append(out, ft)
	}
	return out
}

// phases splits [1, Days+1) at the days where a feature's rates change.
func (p *plan) phases(f *featureSpec) [][2]int {
	last := p.o.Days + 1
	if f.kind == KindExtraction && dayInvoiceV2 > 1 && dayInvoiceV2 < last {
		return [][2]int{{1, dayInvoiceV2}, {dayInvoiceV2, last}}
	}
	return [][2]int{{1, last}}
}

func (p *plan) phaseTruth(f *featureSpec, c *classSpec, from, to int) PhaseTruth {
	pt := PhaseTruth{
		From:            p.o.Start.AddDate(0, 0, from-1),
		To:              p.o.Start.AddDate(0, 0, to-1),
		ModelVersion:    p.modelVersion(f, from),
		RowsPerDay:      c.perDay * p.o.Scale,
		LegacyErrorRate: legacyErrRate,
		AIErrorRate:     aiErrRate,
		Expect:          c.expect,
	}
	if c.fixed[1] > 0 {
		pt.RowsPerDay = float64(c.fixed[0]+c.fixed[1]) / 2
	}
	switch f.kind {
	case KindClassification:
		for i, cat := range f.categories {
			accL, accA, agree := catParams(f, c, cat)
			s := c.shares[i]
			pt.Agreement += s * agree
			pt.LegacyAccuracy += s * accL
			pt.AIAccuracy += s * accA
			pt.Categories = append(pt.Categories, CategoryTruth{Name: cat, Share: s, LegacyRecall: accL, AIRecall: accA})
		}
	case KindExtraction:
		pt.Agreement = c.agreeV1
		if from >= dayInvoiceV2 {
			pt.Agreement = c.agreeV2
			pt.AIErrorRate = c.errV2
			if c.agreeV2 < c.agreeV1 {
				pt.Expect = "fail"
			} else {
				pt.Expect = "pass"
			}
		} else {
			pt.Expect = "pass"
		}
	case KindGeneration:
		pt.Agreement = expectedOverlap(c)
	}
	return pt
}

// expectedOverlap estimates E[TokenF1] of a class's reply pairs from a
// fixed stream, independent of the seed: it is a property of the
// templates, not of one draw.
func expectedOverlap(c *classSpec) float64 {
	overlapMu.Lock()
	defer overlapMu.Unlock()
	if v, ok := overlapCache[c.name]; ok {
		return v
	}
	v := sampleOverlap(c)
	overlapCache[c.name] = v
	return v
}

var (
	overlapMu    sync.Mutex
	overlapCache = map[string]float64{}
)

func sampleOverlap(c *classSpec) float64 {
	r := stream(0, "overlap|"+c.name)
	const n = 4000
	var s float64
	for i := 0; i < n; i++ {
		a, b := replies(r, c.name, c.lowOverlap)
		s += TokenF1(a, b)
	}
	return s / n
}

// events lists the scenario changes that fall inside the generated days.
func (p *plan) events() []Event {
	day := func(n int) time.Time { return p.o.Start.AddDate(0, 0, n-1) }
	end := p.o.Start.AddDate(0, 0, p.o.Days)
	in := func(from, to time.Time) bool { return from.Before(end) }
	cut := func(t time.Time) time.Time {
		if t.After(end) {
			return end
		}
		return t
	}
	var ev []Event
	add := func(e Event) {
		if in(e.From, e.To) {
			e.To = cut(e.To)
			ev = append(ev, e)
		}
	}
	add(Event{Kind: "cost_spike", Feature: FeatureReplyDraft, From: day(dayCostSpikeFrom), To: day(dayCostSpikeTo + 1),
		Detail: fmt.Sprintf("ai_cost x%.0f (over budget)", costSpikeFactor)})
	add(Event{Kind: "input_drift", Feature: FeatureTicketRouting, Class: "chat", From: day(dayChatDrift), To: end,
		Detail: fmt.Sprintf("input_tokens median x%.1f", chatDriftFactor)})
	add(Event{Kind: "model_version", Feature: FeatureInvoiceExtraction, From: day(dayInvoiceV2), To: end,
		Detail: "ai_model_version v1 -> v2"})
	for _, cl := range []string{"scanned", "handwritten"} {
		add(Event{Kind: "quality_drop", Feature: FeatureInvoiceExtraction, Class: cl, From: day(dayInvoiceV2), To: end,
			Detail: fmt.Sprintf("amount agreement ~70%%, AI error rate %.0f%%", invoiceV2ErrRate*100)})
	}
	add(Event{Kind: "confidence_drift", Feature: FeatureInvoiceExtraction, From: day(dayInvoiceV2), To: end,
		Detail: "ai_confidence mean down ~0.12 with v2"})
	add(Event{Kind: "canary_share", Feature: FeatureRefundApproval, From: day(dayCanaryShiftFrom), To: day(dayCanaryShiftTo + 1),
		Detail: fmt.Sprintf("served_by ai %.0f%% instead of %.0f%%", aiShareShifted*100, aiShare*100)})
	lateFrom := p.o.Days - labelDelayMaxDays + 1
	if lateFrom < 1 {
		lateFrom = 1
	}
	for _, f := range []string{FeatureTicketRouting, FeatureRefundApproval} {
		add(Event{Kind: "late_labels", Feature: f, From: day(lateFrom), To: end,
			Detail: "labels arrive 1-5 days after the request; these days are only partly labelled"})
	}
	return ev
}
