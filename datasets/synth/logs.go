package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// plan holds the resolved scenario for one Generate call.
type plan struct {
	o      Options
	joints map[string]joint // key feature|class|category
}

func newPlan(o Options) (*plan, error) {
	p := &plan{o: o, joints: map[string]joint{}}
	for fi := range scenario {
		f := &scenario[fi]
		if f.kind != KindClassification {
			continue
		}
		for ci := range f.classes {
			c := &f.classes[ci]
			for _, cat := range f.categories {
				accL, accA, agree := catParams(f, c, cat)
				j, err := newJoint(accL, accA, agree, c.diffFrac)
				if err != nil {
					return nil, fmt.Errorf("%s/%s/%s: %w", f.name, c.name, cat, err)
				}
				p.joints[f.name+"|"+c.name+"|"+cat] = j
			}
		}
	}
	return p, nil
}

// dayResult is one day's output: the log file has been written already.
type dayResult struct {
	rows   int
	labels []LabelRow
	counts map[string]*Counts // key feature|class
}

func (p *plan) modelVersion(f *featureSpec, day int) string {
	if f.name == FeatureInvoiceExtraction && day >= dayInvoiceV2 {
		return "v2"
	}
	return "v1"
}

// rowsFor draws the number of rows of a class on a day.
func (p *plan) rowsFor(r *rand.Rand, f *featureSpec, c *classSpec, date time.Time) int {
	if c.fixed[1] > 0 {
		// tiny classes stay tiny at every Scale: that is their point.
		return c.fixed[0] + r.IntN(c.fixed[1]-c.fixed[0]+1)
	}
	n := c.perDay * p.o.Scale
	if wd := date.Weekday(); wd == time.Saturday || wd == time.Sunday {
		n *= c.weekend
	}
	n *= 1 + 0.03*(2*r.Float64()-1)
	if f.name == FeatureRefundApproval {
		n = math.Max(n, refundMinPerDay*p.o.Scale)
	}
	return int(math.Round(n))
}

// secondOfDay spreads requests over the day with a business-hours peak.
func secondOfDay(r *rand.Rand) time.Duration {
	var s float64
	if r.Float64() < 0.3 {
		s = r.Float64() * 86400
	} else {
		s = math.Mod(14*3600+3.5*3600*r.NormFloat64(), 86400)
		if s < 0 {
			s += 86400
		}
	}
	return time.Duration(int64(s*1e6)) * time.Microsecond
}

func lognormal(r *rand.Rand, median, sd float64) float64 {
	return median * math.Exp(sd*r.NormFloat64())
}

// day generates and writes one day's log file.
func (p *plan) day(dir string, day int) (*dayResult, error) {
	date := p.o.Start.AddDate(0, 0, day-1)
	end := p.o.Start.AddDate(0, 0, p.o.Days)
	res := &dayResult{counts: map[string]*Counts{}}
	var rows []LogRow
	for fi := range scenario {
		f := &scenario[fi]
		seq := 0 // request numbers run across a feature's classes: ids are per feature and day
		for ci := range f.classes {
			c := &f.classes[ci]
			r := stream(p.o.Seed, f.name+"|"+c.name+"|"+date.Format("2006-01-02"))
			cnt := &Counts{}
			res.counts[f.name+"|"+c.name] = cnt
			n := p.rowsFor(r, f, c, date)
			for i := 0; i < n; i++ {
				row, labels := p.row(r, f, c, day, date, seq, cnt, end)
				seq++
				rows = append(rows, row)
				res.labels = append(res.labels, labels...)
			}
		}
	}
	// A log is written in time order; ties (same microsecond) break on
	// request_id so the order is total and the bytes deterministic.
	sort.Slice(rows, func(i, j int) bool {
		if !rows[i].TS.Equal(rows[j].TS) {
			return rows[i].TS.Before(rows[j].TS)
		}
		return rows[i].RequestID < rows[j].RequestID
	})
	path := filepath.Join(dir, "logs", "dt="+date.Format("2006-01-02"), "part-00000.parquet")
	if err := writeParquet(path, rows); err != nil {
		return nil, err
	}
	res.rows = len(rows)
	return res, nil
}

// row draws one request. It returns the log row and the label rows that
// arrive before end.
func (p *plan) row(r *rand.Rand, f *featureSpec, c *classSpec, day int, date time.Time, i int, cnt *Counts, end time.Time) (LogRow, []LabelRow) {
	row := LogRow{
		RequestID:      "req-" + f.abbrev + "-" + date.Format("20060102") + "-" + pad6(i),
		TS:             date.Add(secondOfDay(r)),
		Feature:        f.name,
		InputClass:     c.name,
		AIModelVersion: p.modelVersion(f, day),
		InputHash:      fmt.Sprintf("%016x", r.Uint64()),
	}
	// draw every per-row variable in a fixed order, whatever the branch, so
	// that a change in one feature's logic does not shift other columns.
	tokMed := c.tokens
	if f.name == FeatureTicketRouting && c.name == "chat" && day >= dayChatDrift {
		tokMed *= chatDriftFactor
	}
	tok := math.Max(5, math.Round(lognormal(r, tokMed, 0.45)))
	row.InputTokens = int64(tok)
	row.LegacyLatencyMS = round(lognormal(r, f.legLatMed, f.legLatSD), 3)
	row.AILatencyMS = round(lognormal(r, f.aiLatMed*math.Pow(tok/c.tokens, 0.15), f.aiLatSD), 3)
	row.LegacyCost = round(f.legCost*(0.9+0.2*r.Float64()), 8)
	aiCost := f.aiCost * (0.5 + 0.5*tok/c.tokens)
	if f.name == FeatureReplyDraft && day >= dayCostSpikeFrom && day <= dayCostSpikeTo {
		aiCost *= costSpikeFactor
	}
	row.AICost = round(aiCost, 8)
	share := aiShare
	if f.name == FeatureRefundApproval && day >= dayCanaryShiftFrom && day <= dayCanaryShiftTo {
		share = aiShareShifted
	}
	row.ServedBy = "legacy"
	if r.Float64() < share {
		row.ServedBy = "ai"
	}
	aiErr := aiErrRate
	if f.kind == KindExtraction && day >= dayInvoiceV2 {
		aiErr = c.errV2
	}
	row.LegacyError = r.Float64() < legacyErrRate
	row.AIError = r.Float64() < aiErr
	confNoise := r.NormFloat64()

	cnt.Rows++
	if row.LegacyError {
		cnt.LegacyErrors++
	}
	if row.AIError {
		cnt.AIErrors++
	}
	compared := !row.LegacyError && !row.AIError
	if compared {
		cnt.Compared++
	}

	var labels []LabelRow
	var aiGood bool // drives ai_confidence: calibrated-ish
	switch f.kind {
	case KindClassification:
		ti := pick(r, c.shares)
		truth := f.categories[ti]
		j := p.joints[f.name+"|"+c.name+"|"+truth]
		leg, ai := outcome(r, j, f.categories, c.shares, ti)
		aiGood = ai == truth
		if !row.LegacyError {
			row.LegacyCategory = leg
		}
		if !row.AIError {
			row.AICategory = ai
		}
		if compared {
			if leg == ai {
				cnt.Agree++
			}
			if leg == truth {
				cnt.LegacyCorrect++
			}
			if ai == truth {
				cnt.AICorrect++
			}
		}
		// labels: inline (refund only) and the labels dataset
		uInline, uLabel := r.Float64(), r.Float64()
		delay := 1 + r.IntN(labelDelayMaxDays)
		labelTOD := time.Duration(r.Int64N(86400e6)) * time.Microsecond
		labelled := false
		if f.name == FeatureRefundApproval && uInline < refundInlineLabels {
			row.LabelCategory = truth
			labelled = true
		}
		frac := ticketDatasetLabel
		if f.name == FeatureRefundApproval {
			frac = refundDatasetLabel
		}
		if uLabel < frac {
			at := date.AddDate(0, 0, delay).Add(labelTOD)
			if at.Before(end) {
				labels = append(labels, LabelRow{RequestID: row.RequestID, LabelCategory: truth, LabelledAt: at})
				labelled = true
			}
		}
		if labelled {
			cnt.Labelled++
			if compared {
				cnt.LabelledCompared++
			}
		}
	case KindExtraction:
		pAgree := c.agreeV1
		if day >= dayInvoiceV2 {
			pAgree = c.agreeV2
		}
		agree := r.Float64() < pAgree
		leg, ai := invoices(r, agree)
		aiGood = agree
		if !row.LegacyError {
			row.LegacyOutput = leg
		}
		if !row.AIError {
			row.AIOutput = ai
		}
		if compared && agree {
			cnt.Agree++
		}
	case KindGeneration:
		leg, ai := replies(r, c.name, c.lowOverlap)
		ov := TokenF1(leg, ai)
		aiGood = ov >= 0.5
		if !row.LegacyError {
			row.LegacyReply = leg
		}
		if !row.AIError {
			row.AIReply = ai
		}
		if compared {
			cnt.SumOverlap += ov
			if aiGood {
				cnt.Agree++
			}
		}
	}
	if !row.AIError {
		mean, sd := 0.88, 0.06
		if !aiGood {
			mean, sd = 0.62, 0.12
		}
		if f.kind == KindExtraction && day >= dayInvoiceV2 {
			// v2 is less sure of itself everywhere: the confidence
			// distribution drifts down even where quality did not change.
			mean -= 0.12
		}
		row.AIConfidence = round(clamp(mean+sd*confNoise, 0.01, 0.999), 4)
	}
	return row, labels
}

// outcome draws (legacy, ai) answers for truth index ti from the joint
// outcome model. Wrong answers are drawn from the other categories in
// proportion to their shares.
func outcome(r *rand.Rand, j joint, cats []string, shares []float64, ti int) (string, string) {
	truth := cats[ti]
	u := r.Float64()
	other := func(excl ...int) string {
		var tot float64
		for i, s := range shares {
			if !contains(excl, i) {
				tot += s
			}
		}
		v := r.Float64() * tot
		last := -1
		for i, s := range shares {
			if contains(excl, i) {
				continue
			}
			last = i
			if v < s {
				return cats[i]
			}
			v -= s
		}
		return cats[last]
	}
	switch {
	case u < j.bothRight:
		return truth, truth
	case u < j.bothRight+j.legOnly:
		return truth, other(ti)
	case u < j.bothRight+j.legOnly+j.aiOnly:
		return other(ti), truth
	case u < j.bothRight+j.legOnly+j.aiOnly+j.bothWrongSame:
		w := other(ti)
		return w, w
	default:
		w := other(ti)
		if len(cats) < 3 {
			return w, w
		}
		return w, other(ti, index(cats, w))
	}
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func index(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

func pad6(i int) string {
	s := strconv.Itoa(i)
	for len(s) < 6 {
		s = "0" + s
	}
	return s
}
