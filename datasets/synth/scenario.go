package synth

import (
	"fmt"
	"math"
)

// Feature names and kinds. Kinds tell a scorer which columns carry the
// outputs: classification uses legacy_category/ai_category, extraction
// uses legacy_output/ai_output (JSON), generation uses legacy_reply/ai_reply.
const (
	FeatureTicketRouting     = "ticket_routing"
	FeatureRefundApproval    = "refund_approval"
	FeatureInvoiceExtraction = "invoice_extraction"
	FeatureReplyDraft        = "reply_draft"

	KindClassification = "classification"
	KindExtraction     = "extraction"
	KindGeneration     = "generation"
)

// Scenario days, 1-based: day 1 is Options.Start (2026-10-01 by default),
// so with the default start day N is October N.
const (
	dayCostSpikeFrom   = 20 // reply_draft ai_cost 5x on days 20..23
	dayCostSpikeTo     = 23
	dayChatDrift       = 24 // ticket_routing/chat input_tokens shift up
	dayInvoiceV2       = 28 // invoice_extraction switches to model v2
	dayCanaryShiftFrom = 30 // refund_approval served_by ai ~20% on days 30..32
	dayCanaryShiftTo   = 32
)

const (
	aiShare            = 0.10 // canary split: share of requests served by the AI
	aiShareShifted     = 0.20
	costSpikeFactor    = 5.0
	chatDriftFactor    = 1.6 // mean input_tokens multiplier for chat after the drift
	legacyErrRate      = 0.003
	aiErrRate          = 0.008
	invoiceV2ErrRate   = 0.06 // AI error rate of v2 in scanned/handwritten
	refundInlineLabels = 0.40 // share of refund rows with an inline label_category
	refundDatasetLabel = 0.35 // share of refund rows that also get a labels-dataset row
	ticketDatasetLabel = 0.45
	labelDelayMaxDays  = 5 // labels arrive 1..5 days after the request day
	rowsPerRowGroup    = 4096
	refundMinPerDay    = 1500 // per class per day at Scale 1: enough to graduate
)

// classSpec is the generator's ground truth for one input class. Rates are
// the probabilities the generator draws from, so an evaluation over enough
// rows must recover them.
type classSpec struct {
	name    string
	perDay  float64 // expected rows per weekday at Scale 1
	fixed   [2]int  // when set: uniform [lo,hi] rows per day, independent of Scale (tiny classes)
	weekend float64 // row multiplier on Saturdays and Sundays

	// classification (conditional on neither side erroring)
	accL, accA, agree float64
	// share of disagreements where both are wrong with different answers
	diffFrac float64
	shares   []float64 // category distribution of the truth, aligned with feature categories

	// extraction: probability that the AI amount is within 0.01 of legacy's,
	// before and after the v2 switch.
	agreeV1, agreeV2 float64
	errV2            float64 // AI error rate after v2

	// generation: overlap regime
	lowOverlap bool

	tokens float64 // median input_tokens
	expect string  // expected per-window outcome for the evaluation
}

type featureSpec struct {
	name, abbrev, kind string
	categories         []string
	rare               string // a rare category on which the AI is worse
	classes            []classSpec
	// latency medians (ms) and log-sd
	legLatMed, legLatSD, aiLatMed, aiLatSD float64
	legCost, aiCost                        float64 // USD per request at median tokens
	expect                                 string
	notes                                  []string
}

var ticketCats = []string{"billing", "technical", "account", "sales", "fraud"}
var ticketShares = []float64{0.32, 0.30, 0.22, 0.14, 0.02}

// fraud: legacy recall drops 5 points, the AI's 30 points — the AI is
// worse exactly on the rare category that matters.
const (
	rareLegacyPenalty = 0.05
	rareAIPenalty     = 0.30
)

var scenario = []featureSpec{
	{
		name: FeatureTicketRouting, abbrev: "tr", kind: KindClassification,
		categories: ticketCats, rare: "fraud",
		legLatMed: 90, legLatSD: 0.5, aiLatMed: 320, aiLatSD: 0.45,
		legCost: 0.0002, aiCost: 0.0018,
		expect: "hold",
		notes: []string{
			"spanish: agreement ~80%, AI accuracy 15 points below legacy -> fail every window",
			"legal_notice: 3-8 rows a day whatever the Scale -> insufficient_data",
			"fraud (~2% of truth): AI recall ~30 points below legacy in every class",
			"chat: input_tokens median x1.6 from day 24 (input drift); AI quality unchanged",
		},
		classes: []classSpec{
			{name: "email", perDay: 620, weekend: 0.75, accL: 0.91, accA: 0.92, agree: 0.985, diffFrac: 0.1, shares: ticketShares, tokens: 220, expect: "pass"},
			{name: "chat", perDay: 520, weekend: 0.75, accL: 0.89, accA: 0.90, agree: 0.983, diffFrac: 0.1, shares: ticketShares, tokens: 160, expect: "pass"},
			{name: "phone_transcript", perDay: 300, weekend: 0.75, accL: 0.88, accA: 0.875, agree: 0.98, diffFrac: 0.1, shares: ticketShares, tokens: 480, expect: "pass"},
			{name: "web_form", perDay: 420, weekend: 0.75, accL: 0.92, accA: 0.93, agree: 0.987, diffFrac: 0.1, shares: ticketShares, tokens: 120, expect: "pass"},
			{name: "spanish", perDay: 340, weekend: 0.75, accL: 0.88, accA: 0.73, agree: 0.80, diffFrac: 0.1, shares: ticketShares, tokens: 230, expect: "fail"},
			{name: "legal_notice", fixed: [2]int{3, 8}, weekend: 1, accL: 0.85, accA: 0.86, agree: 0.97, diffFrac: 0.1, shares: ticketShares, tokens: 900, expect: "insufficient_data"},
		},
	},
	{
		name: FeatureRefundApproval, abbrev: "ra", kind: KindClassification,
		categories: []string{"approve", "deny"},
		legLatMed:  60, legLatSD: 0.4, aiLatMed: 300, aiLatSD: 0.45,
		legCost: 0.0002, aiCost: 0.0012,
		expect: "graduate",
		notes: []string{
			"parity in every class on every day (agreement ~99%, equal accuracy), >=1500 rows per class per day at Scale 1",
			"inline label_category on ~40% of rows; ~35% also get a labels-dataset row (same value)",
			"served_by ai ~20% instead of ~10% on days 30-32 (canary split misconfigured)",
		},
		classes: []classSpec{
			{name: "small_amount", perDay: 1580, weekend: 1, accL: 0.95, accA: 0.95, agree: 0.99, shares: []float64{0.80, 0.20}, tokens: 70, expect: "pass"},
			{name: "medium_amount", perDay: 1580, weekend: 1, accL: 0.93, accA: 0.93, agree: 0.99, shares: []float64{0.65, 0.35}, tokens: 80, expect: "pass"},
			{name: "large_amount", perDay: 1580, weekend: 1, accL: 0.90, accA: 0.90, agree: 0.985, shares: []float64{0.45, 0.55}, tokens: 95, expect: "pass"},
			{name: "repeat_customer", perDay: 1580, weekend: 1, accL: 0.94, accA: 0.94, agree: 0.99, shares: []float64{0.75, 0.25}, tokens: 85, expect: "pass"},
		},
	},
	{
		name: FeatureInvoiceExtraction, abbrev: "ie", kind: KindExtraction,
		legLatMed: 150, legLatSD: 0.5, aiLatMed: 420, aiLatSD: 0.4,
		legCost: 0.0003, aiCost: 0.0035,
		expect: "rollback",
		notes: []string{
			"days 1-27 model v1 at parity; from day 28 model v2: scanned and handwritten amount agreement ~70%, AI error rate 6% -> fail on days 28 and 29 -> rollback",
			"agreement = amount within 0.01 (abs); ~40% of agreeing AI amounts differ from legacy's by < 0.005, so exact string compare under-counts",
			"currency and vendor only ever differ on rows where the amount differs",
			"ai_confidence drops after v2 in every class (confidence drift)",
		},
		classes: []classSpec{
			{name: "pdf_native", perDay: 260, weekend: 0.75, agreeV1: 0.985, agreeV2: 0.985, errV2: aiErrRate, tokens: 1200, expect: "pass"},
			{name: "scanned", perDay: 160, weekend: 0.75, agreeV1: 0.96, agreeV2: 0.70, errV2: invoiceV2ErrRate, tokens: 1500, expect: "fail from day 28"},
			{name: "handwritten", perDay: 90, weekend: 0.75, agreeV1: 0.95, agreeV2: 0.68, errV2: invoiceV2ErrRate, tokens: 900, expect: "fail from day 28"},
			{name: "email_body", perDay: 140, weekend: 0.75, agreeV1: 0.975, agreeV2: 0.975, errV2: aiErrRate, tokens: 600, expect: "pass"},
			{name: "multi_page", perDay: 100, weekend: 0.75, agreeV1: 0.965, agreeV2: 0.965, errV2: aiErrRate, tokens: 3500, expect: "pass"},
		},
	},
	{
		name: FeatureReplyDraft, abbrev: "rd", kind: KindGeneration,
		legLatMed: 80, legLatSD: 0.5, aiLatMed: 450, aiLatSD: 0.4,
		legCost: 0.0002, aiCost: 0.0025,
		expect: "hold",
		notes: []string{
			"AI replies paraphrase legacy's (token F1 ~0.8); complaint replies are rewritten (token F1 ~0.3) -> complaint fails",
			"ai_cost 5x normal on days 20-23 (over budget)",
		},
		classes: []classSpec{
			{name: "short", perDay: 150, weekend: 0.75, tokens: 90, expect: "pass"},
			{name: "long", perDay: 100, weekend: 0.75, tokens: 400, expect: "pass"},
			{name: "complaint", perDay: 80, weekend: 0.75, lowOverlap: true, tokens: 300, expect: "fail"},
			{name: "followup", perDay: 90, weekend: 0.75, tokens: 150, expect: "pass"},
		},
	},
}

// joint is the distribution of (legacy, AI) outcomes for one truth value.
// Agreement needs correlated errors: with accuracies ~0.9, independent
// errors would agree only ~82% of the time, while real shadow pairs agree
// ~98% because both systems find the same inputs hard.
type joint struct {
	bothRight, legOnly, aiOnly, bothWrongSame, bothWrongDiff float64
}

// newJoint solves for the outcome probabilities given legacy accuracy,
// AI accuracy, agreement and the share of disagreements in which both are
// wrong (with different answers).
func newJoint(accL, accA, agree, diffFrac float64) (joint, error) {
	d := 1 - agree
	c := diffFrac * d
	a := (d - c + accL - accA) / 2
	b := (d - c - accL + accA) / 2
	j := joint{bothRight: accL - a, legOnly: a, aiOnly: b, bothWrongSame: 1 - accL - b - c, bothWrongDiff: c}
	for _, p := range []float64{j.bothRight, j.legOnly, j.aiOnly, j.bothWrongSame, j.bothWrongDiff} {
		if p < -1e-12 || math.IsNaN(p) {
			return j, fmt.Errorf("synth: infeasible outcome model accL=%v accA=%v agree=%v diff=%v: %+v", accL, accA, agree, diffFrac, j)
		}
	}
	return j, nil
}

// catParams returns (accL, accA, agree) for a truth category in a class.
// The rare category gets lower recall on both sides, much lower for the
// AI, and the agreement that follows from it.
func catParams(f *featureSpec, c *classSpec, cat string) (accL, accA, agree float64) {
	if f.rare == "" || cat != f.rare {
		return c.accL, c.accA, c.agree
	}
	accL = c.accL - rareLegacyPenalty
	accA = c.accA - rareAIPenalty
	d := (accL - accA + 0.03) / (1 - c.diffFrac)
	return accL, accA, 1 - d
}
