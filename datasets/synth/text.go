package synth

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode"
)

var firstNames = []string{"Anna", "Ben", "Carla", "David", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kemal", "Lena", "Marco", "Nora", "Omar", "Paula", "Quentin", "Rosa", "Sven", "Tara"}
var products = []string{"router", "invoice portal", "mobile app", "subscription", "smart meter", "login", "delivery", "payment card"}

var vendors = []string{"Acme GmbH", "Globex Ltd", "Initech Inc.", "Müller & Söhne KG", "Umbrella SARL", "Stark Industries", "Wayne Enterprises", "Soylent Corp", "Hooli BV", "Vandelay Industries", "Tyrell AG", "Nakatomi K.K."}
var currencies = []string{"EUR", "USD", "GBP", "CHF"}
var currencyShares = []float64{0.60, 0.25, 0.10, 0.05}

// Legacy reply templates per class. {n} name, {o} order, {d} days,
// {p} product, {a} amount, {t} ticket.
var legacyTemplates = map[string][]string{
	"short": {
		"Hi {n}, thanks for reaching out. Your order {o} has shipped and should arrive in {d} days.",
		"Hi {n}, thanks for your message. We have updated your address for order {o}.",
		"Hi {n}, your password reset link has been sent and is valid for {d} hours.",
	},
	"long": {
		"Hello {n}, thank you for contacting us about your {p}. We have checked your account and found that the last update failed on our side. Our team has fixed the problem and you should see the change within {d} days. If anything still looks wrong please reply to this email and we will help you right away.",
		"Hello {n}, thank you for your detailed message about order {o}. The package was delayed at the regional depot because of high volume. It is now on its way again and the carrier expects to deliver it within {d} days. We have added a voucher of {a} EUR to your account for the inconvenience.",
	},
	"complaint": {
		"Dear {n}, we are sorry to hear about the problem with order {o}. A refund of {a} EUR has been issued and will appear within {d} business days.",
		"Dear {n}, we are sorry that your {p} did not work as expected. A replacement has been sent and will arrive within {d} business days.",
	},
	"followup": {
		"Hi {n}, just following up on ticket {t}. Please let us know if the issue with your {p} is resolved.",
		"Hi {n}, we are checking in on ticket {t}. Is the {p} working again after the update?",
	},
}

// The AI rewrites complaints from scratch (empathetic style), so its
// replies share only the slot values and a few function words with legacy's.
var aiComplaintTemplates = []string{
	"Hello {n}. I completely understand your frustration and I apologise for the trouble. I have escalated order {o} to our support lead, who will contact you within {d} days to make this right.",
	"{n}, I am really sorry about this experience. I have personally flagged your {p} case so a specialist can review it today, and you will hear from us within {d} days.",
}

// synonyms drive the paraphrase for the normal classes: each listed word
// is swapped with some probability, which keeps token overlap high but
// below 1.
var synonyms = map[string]string{
	"thanks": "thank you", "reaching": "getting", "out": "in touch", "shipped": "been dispatched", "should": "will",
	"arrive": "be delivered", "message": "note", "updated": "changed", "sent": "emailed", "valid": "active",
	"contacting": "writing to", "checked": "reviewed", "found": "seen", "failed": "did not go through", "fixed": "resolved",
	"problem": "issue", "wrong": "off", "help": "assist", "delayed": "held up", "expects": "plans",
	"added": "credited", "inconvenience": "trouble", "just": "", "following": "checking", "let": "tell",
	"resolved": "fixed", "checking": "following", "working": "running", "Hi": "Hello", "Hello": "Hi", "right": "straight",
}

// fill substitutes the {x} slots of a template. It scans by hand because
// a strings.Replacer per reply dominated the generator's profile.
func fill(tpl string, slots *replySlots) string {
	var b strings.Builder
	b.Grow(len(tpl) + 32)
	for i := 0; i < len(tpl); i++ {
		if tpl[i] == '{' && i+2 < len(tpl) && tpl[i+2] == '}' {
			v := ""
			switch tpl[i+1] {
			case 'n':
				v = slots.name
			case 'o':
				v = slots.order
			case 'd':
				v = slots.days
			case 'p':
				v = slots.product
			case 'a':
				v = slots.amount
			case 't':
				v = slots.ticket
			}
			b.WriteString(v)
			i += 2
			continue
		}
		b.WriteByte(tpl[i])
	}
	return b.String()
}

type replySlots struct{ name, order, days, product, amount, ticket string }

func newSlots(r *rand.Rand) *replySlots {
	return &replySlots{
		name:    firstNames[r.IntN(len(firstNames))],
		order:   "A" + strconv.Itoa(100000+r.IntN(900000)),
		days:    strconv.Itoa(2 + r.IntN(6)),
		product: products[r.IntN(len(products))],
		amount:  strconv.FormatFloat(float64(5+r.IntN(200))+float64(r.IntN(100))/100, 'f', 2, 64),
		ticket:  "T-" + strconv.Itoa(10000+r.IntN(90000)),
	}
}

// replies returns (legacy, ai) reply texts for a class.
func replies(r *rand.Rand, class string, lowOverlap bool) (string, string) {
	s := newSlots(r)
	ts := legacyTemplates[class]
	leg := fill(ts[r.IntN(len(ts))], s)
	if lowOverlap {
		return leg, fill(aiComplaintTemplates[r.IntN(len(aiComplaintTemplates))], s)
	}
	// paraphrase: swap ~35% of swappable words
	words := strings.Fields(leg)
	out := make([]string, 0, len(words)+4)
	for _, w := range words {
		core := strings.TrimRightFunc(w, unicode.IsPunct)
		punct := w[len(core):]
		if syn, ok := synonyms[core]; ok && r.Float64() < 0.35 {
			if syn == "" {
				continue
			}
			out = append(out, syn+punct)
			continue
		}
		out = append(out, w)
	}
	if r.Float64() < 0.3 {
		out = append(out, "Best regards.")
	}
	return leg, strings.Join(out, " ")
}

// tokens lowercases and splits on anything that is not a letter or digit.
func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// TokenF1 is the multiset token-overlap F1 between two texts (tokens are
// lowercased runs of letters and digits). The generator's truth for
// reply_draft is stated in this measure.
func TokenF1(a, b string) float64 {
	ta, tb := tokens(a), tokens(b)
	if len(ta) == 0 && len(tb) == 0 {
		return 1
	}
	if len(ta) == 0 || len(tb) == 0 {
		return 0
	}
	cnt := make(map[string]int, len(ta))
	for _, t := range ta {
		cnt[t]++
	}
	common := 0
	for _, t := range tb {
		if cnt[t] > 0 {
			cnt[t]--
			common++
		}
	}
	if common == 0 {
		return 0
	}
	p := float64(common) / float64(len(tb))
	rc := float64(common) / float64(len(ta))
	return 2 * p * rc / (p + rc)
}

// Invoice is the JSON document in legacy_output/ai_output.
type Invoice struct {
	Amount   float64 `json:"amount"`
	Currency string  `json:"currency"`
	Vendor   string  `json:"vendor"`
}

// invoiceJSON renders with a fixed key order and the amount in shortest
// form so equal documents are equal strings and the bytes are stable.
func invoiceJSON(amount float64, currency, vendor string) string {
	v, _ := json.Marshal(vendor)
	var b strings.Builder
	b.WriteString(`{"amount": `)
	b.WriteString(strconv.FormatFloat(amount, 'f', -1, 64))
	b.WriteString(`, "currency": "`)
	b.WriteString(currency)
	b.WriteString(`", "vendor": `)
	b.Write(v)
	b.WriteString("}")
	return b.String()
}

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

// invoices returns (legacy, ai) documents; agree decides whether the AI
// amount is within the 0.01 tolerance.
func invoices(r *rand.Rand, agree bool) (string, string) {
	amount := round(math.Exp(math.Log(350)+0.9*r.NormFloat64()), 2)
	if amount < 1 {
		amount = 1 + float64(r.IntN(100))/100
	}
	ci := pick(r, currencyShares)
	cur := currencies[ci]
	vendor := vendors[r.IntN(len(vendors))]
	leg := invoiceJSON(amount, cur, vendor)
	if agree {
		ai := amount
		if r.Float64() < 0.4 {
			// sub-cent float noise from the model's arithmetic: still agreement
			// under an absolute tolerance of 0.01, but not string-equal.
			d := 0.001 + 0.0039*r.Float64()
			if r.IntN(2) == 0 {
				d = -d
			}
			ai = round(amount+d, 4)
		}
		return leg, invoiceJSON(ai, cur, vendor)
	}
	var ai float64
	switch r.IntN(4) {
	case 0: // decimal point misread
		ai = round(amount*10, 2)
	case 1: // cents dropped
		ai = math.Trunc(amount)
		if amount-ai < 0.05 {
			ai = amount + 1
		}
	case 2: // net instead of gross
		ai = round(amount/1.19, 2)
	default: // another number on the page
		ai = round(amount*(0.3+1.4*r.Float64()), 2)
	}
	if math.Abs(ai-amount) < 0.05 {
		ai = round(amount+0.5+r.Float64()*10, 2)
	}
	aiCur, aiVendor := cur, vendor
	if r.Float64() < 0.1 {
		aiCur = currencies[(ci+1+r.IntN(len(currencies)-1))%len(currencies)]
	}
	if r.Float64() < 0.25 {
		aiVendor = strings.ToUpper(vendor)
	}
	return leg, invoiceJSON(ai, aiCur, aiVendor)
}

// pick draws an index from a discrete distribution (weights sum to ~1).
func pick(r *rand.Rand, w []float64) int {
	u := r.Float64()
	for i, p := range w {
		if u < p {
			return i
		}
		u -= p
	}
	return len(w) - 1
}
