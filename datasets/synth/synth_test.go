package synth

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

// The tests share one generated dataset at Scale 0.1 (~33k log rows) so
// the whole file stays within a few seconds.
var (
	sharedOnce sync.Once
	sharedDir  string
	sharedSum  Summary
	sharedErr  error
	sharedLogs []LogRow
)

const testScale = 0.1

func shared(t *testing.T) (string, Summary, []LogRow) {
	t.Helper()
	sharedOnce.Do(func() {
		sharedDir, sharedErr = os.MkdirTemp("", "synth-test-")
		if sharedErr != nil {
			return
		}
		sharedSum, sharedErr = Generate(sharedDir, Options{Scale: testScale})
		if sharedErr != nil {
			return
		}
		for d := 0; d < 35; d++ {
			day := DefaultStart.AddDate(0, 0, d).Format("2006-01-02")
			rows, _, err := readAll[LogRow](filepath.Join(sharedDir, "logs", "dt="+day, "part-00000.parquet"))
			if err != nil {
				sharedErr = err
				return
			}
			sharedLogs = append(sharedLogs, rows...)
		}
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedDir, sharedSum, sharedLogs
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

// readAll reads a file with parquet-go's GenericReader and reports its
// row-group count.
func readAll[T any](path string) ([]T, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return nil, 0, err
	}
	r := parquet.NewGenericReader[T](pf)
	defer r.Close()
	rows := make([]T, pf.NumRows())
	n, err := r.Read(rows)
	if err != nil && err != io.EOF {
		return nil, 0, err
	}
	return rows[:n], len(pf.RowGroups()), nil
}

func hashTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = hex.EncodeToString(h[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDeterministic(t *testing.T) {
	dir, _, _ := shared(t)
	want := hashTree(t, dir)
	again := t.TempDir()
	if _, err := Generate(again, Options{Seed: 1, Start: DefaultStart, Days: 35, Scale: testScale}); err != nil {
		t.Fatal(err)
	}
	got := hashTree(t, again)
	if len(got) != len(want) {
		t.Fatalf("file count %d vs %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s differs between two runs with the same options", k)
		}
	}

	other := t.TempDir()
	if _, err := Generate(other, Options{Seed: 2, Scale: testScale}); err != nil {
		t.Fatal(err)
	}
	diff := hashTree(t, other)
	same := 0
	for k, v := range want {
		if diff[k] == v {
			same++
		}
	}
	if same != 0 {
		t.Errorf("%d files identical across seeds 1 and 2", same)
	}
}

func TestLayout(t *testing.T) {
	dir, s, logs := shared(t)
	if !s.Start.Equal(DefaultStart) || !s.End.Equal(DefaultStart.AddDate(0, 0, 35)) {
		t.Fatalf("start/end %v %v", s.Start, s.End)
	}
	if s.LogRows != len(logs) {
		t.Fatalf("summary says %d log rows, files hold %d", s.LogRows, len(logs))
	}
	// ~330k at Scale 1, so ~33k here
	if s.LogRows < 28000 || s.LogRows > 38000 {
		t.Errorf("log rows %d, want ~33k", s.LogRows)
	}
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return nil
	})
	if len(files) != s.Files {
		t.Errorf("summary says %d files, found %d", s.Files, len(files))
	}
	logDays, labelDays := 0, 0
	for _, f := range files {
		parts := strings.Split(f, string(filepath.Separator))
		if filepath.Base(f) != "part-00000.parquet" {
			t.Errorf("unexpected file %s (temp file left behind?)", f)
			continue
		}
		switch parts[0] {
		case "logs", "labels":
			day, err := time.Parse("2006-01-02", strings.TrimPrefix(parts[1], "dt="))
			if err != nil || !strings.HasPrefix(parts[1], "dt=") {
				t.Errorf("bad partition %s", f)
				continue
			}
			if day.Before(s.Start) || !day.Before(s.End) {
				t.Errorf("partition %s outside [Start, End)", f)
			}
			if parts[0] == "logs" {
				logDays++
			} else {
				labelDays++
			}
		case "recon":
		default:
			t.Errorf("unexpected path %s", f)
		}
	}
	if logDays != 35 {
		t.Errorf("%d log partitions, want 35", logDays)
	}
	// labels arrive 1-5 days later: none on day 1, then one a day
	if labelDays != 34 {
		t.Errorf("%d label partitions, want 34", labelDays)
	}
	for _, side := range []string{"legacy", "new"} {
		for run := 1; run <= 5; run++ {
			p := filepath.Join(dir, "recon", side, "run=0"+string(rune('0'+run)), "part-00000.parquet")
			if _, err := os.Stat(p); err != nil {
				t.Error(err)
			}
		}
	}

	ids := map[string]bool{}
	for _, r := range logs {
		if ids[r.RequestID] {
			t.Fatalf("duplicate request_id %s", r.RequestID)
		}
		ids[r.RequestID] = true
	}
}

// A Scale-1 day is large enough to be split into several row groups, and
// its time column must be in order and inside the partition day.
func TestRowGroupsAndTimestamps(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)
	s, err := Generate(dir, Options{Start: start, Days: 1})
	if err != nil {
		t.Fatal(err)
	}
	rows, rgs, err := readAll[LogRow](filepath.Join(dir, "logs", "dt=2026-10-05", "part-00000.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if rgs < 2 {
		t.Errorf("%d row groups in a %d-row day, want >= 2", rgs, len(rows))
	}
	if s.LabelRows != 0 {
		t.Errorf("one-day run has %d labels; all should arrive after End", s.LabelRows)
	}
	for i, r := range rows {
		if r.TS.Location() != time.UTC || r.TS.Before(start) || !r.TS.Before(start.AddDate(0, 0, 1)) {
			t.Fatalf("row %d ts %v outside its partition day", i, r.TS)
		}
		if i > 0 && r.TS.Before(rows[i-1].TS) {
			t.Fatalf("rows not in time order at %d", i)
		}
	}
	// refund_approval needs >= 1500 rows per class per day at Scale 1
	per := map[string]int{}
	for _, r := range rows {
		if r.Feature == FeatureRefundApproval {
			per[r.InputClass]++
		}
	}
	for c, n := range per {
		if n < 1500 {
			t.Errorf("refund_approval/%s has %d rows, want >= 1500", c, n)
		}
	}
	if len(per) != 4 {
		t.Errorf("refund classes %v", per)
	}
	// the schema is what readers expect
	f, _ := os.Open(filepath.Join(dir, "logs", "dt=2026-10-05", "part-00000.parquet"))
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"request_id", "ts", "feature", "input_class", "legacy_category", "ai_category", "legacy_output", "ai_output", "legacy_reply", "ai_reply", "ai_confidence", "ai_model_version", "input_hash", "input_tokens", "legacy_latency_ms", "ai_latency_ms", "legacy_error", "ai_error", "legacy_cost", "ai_cost", "served_by", "label_category"}
	fields := pf.Schema().Fields()
	if len(fields) != len(want) {
		t.Fatalf("%d columns, want %d", len(fields), len(want))
	}
	for i, fl := range fields {
		if fl.Name() != want[i] {
			t.Errorf("column %d is %s, want %s", i, fl.Name(), want[i])
		}
	}
	lookup := func(name string) parquet.Node {
		lc, ok := pf.Schema().Lookup(name)
		if !ok {
			t.Fatalf("no column %s", name)
		}
		return lc.Node
	}
	lt := lookup("ts").Type().LogicalType()
	if s := fmt.Sprint(lt); !strings.Contains(s, "TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)") {
		t.Errorf("ts logical type %s, want timestamp(micros, UTC)", s)
	}
	if !lookup("label_category").Optional() || lookup("feature").Optional() {
		t.Error("optional flags wrong")
	}
	if enc := lookup("feature").Encoding(); enc == nil || !strings.Contains(enc.String(), "DICT") {
		t.Errorf("feature encoding %v, want dictionary", enc)
	}
}

func dayNo(ts time.Time) int { return int(ts.Sub(DefaultStart)/(24*time.Hour)) + 1 }

type key struct{ feature, class string }

// TestScenario recomputes every scenario property from the files and
// checks it against the brief and against the Summary's Observed counts.
func TestScenario(t *testing.T) {
	_, s, logs := shared(t)
	obs := map[key]*Counts{}
	for _, f := range s.Features {
		for _, c := range f.Classes {
			var tot Counts
			for _, p := range c.Phases {
				tot.add(p.Observed)
			}
			obs[key{f.Name, c.Name}] = &tot
		}
	}

	type agg struct {
		rows, compared, agree int
	}
	got := map[key]*agg{}
	legalPerDay := map[int]int{}
	var v2First, v1Last int
	refundLabelled, refundRows := 0, 0
	canary := map[bool][2]int{} // in shifted window -> [ai, total]
	var costNormal, costSpike []float64
	var chatBefore, chatAfter []float64
	var confV1, confV2 []float64
	for _, r := range logs {
		k := key{r.Feature, r.InputClass}
		a := got[k]
		if a == nil {
			a = &agg{}
			got[k] = a
		}
		a.rows++
		d := dayNo(r.TS)
		// feature-specific columns are null for other features and on error
		hasCat := r.LegacyCategory != "" || r.AICategory != ""
		hasOut := r.LegacyOutput != "" || r.AIOutput != ""
		hasReply := r.LegacyReply != "" || r.AIReply != ""
		switch r.Feature {
		case FeatureTicketRouting, FeatureRefundApproval:
			if hasOut || hasReply {
				t.Fatalf("%s row %s has output/reply columns", r.Feature, r.RequestID)
			}
		case FeatureInvoiceExtraction:
			if hasCat || hasReply {
				t.Fatalf("%s row has category/reply", r.RequestID)
			}
		case FeatureReplyDraft:
			if hasCat || hasOut {
				t.Fatalf("%s row has category/output", r.RequestID)
			}
		}
		if r.LabelCategory != "" && r.Feature != FeatureRefundApproval {
			t.Fatalf("inline label on %s", r.Feature)
		}
		if r.AIError != (r.AIConfidence == 0) {
			t.Fatalf("%s: ai_confidence must be null exactly when ai_error", r.RequestID)
		}
		if r.AIConfidence < 0 || r.AIConfidence > 1 {
			t.Fatalf("confidence %v", r.AIConfidence)
		}
		if r.ServedBy != "ai" && r.ServedBy != "legacy" {
			t.Fatalf("served_by %q", r.ServedBy)
		}
		if r.AILatencyMS <= 0 || r.LegacyLatencyMS <= 0 || r.AICost <= 0 || r.LegacyCost <= 0 || r.InputTokens <= 0 {
			t.Fatalf("non-positive numeric column in %+v", r)
		}
		if len(r.InputHash) != 16 {
			t.Fatalf("input_hash %q", r.InputHash)
		}
		compared := !r.LegacyError && !r.AIError
		if compared {
			a.compared++
		}
		switch r.Feature {
		case FeatureTicketRouting:
			if r.InputClass == "legal_notice" {
				legalPerDay[d]++
			}
			if r.InputClass == "chat" {
				if d < dayChatDrift {
					chatBefore = append(chatBefore, float64(r.InputTokens))
				} else {
					chatAfter = append(chatAfter, float64(r.InputTokens))
				}
			}
			if compared && r.LegacyCategory == r.AICategory {
				a.agree++
			}
		case FeatureRefundApproval:
			refundRows++
			if r.LabelCategory != "" {
				refundLabelled++
				if r.LabelCategory != "approve" && r.LabelCategory != "deny" {
					t.Fatalf("label %q", r.LabelCategory)
				}
			}
			if r.LegacyCategory != "" && r.LegacyCategory != "approve" && r.LegacyCategory != "deny" {
				t.Fatalf("refund category %q", r.LegacyCategory)
			}
			if compared && r.LegacyCategory == r.AICategory {
				a.agree++
			}
			in := d >= dayCanaryShiftFrom && d <= dayCanaryShiftTo
			c := canary[in]
			if r.ServedBy == "ai" {
				c[0]++
			}
			c[1]++
			canary[in] = c
		case FeatureInvoiceExtraction:
			if d >= dayInvoiceV2 {
				if v2First == 0 || d < v2First {
					v2First = d
				}
				if r.AIModelVersion != "v2" {
					t.Fatalf("day %d invoice row with model %s", d, r.AIModelVersion)
				}
				if !r.AIError {
					confV2 = append(confV2, r.AIConfidence)
				}
			} else {
				if r.AIModelVersion != "v1" {
					t.Fatalf("day %d invoice row with model %s", d, r.AIModelVersion)
				}
				v1Last = max(v1Last, d)
				if !r.AIError {
					confV1 = append(confV1, r.AIConfidence)
				}
			}
			if compared {
				var l, ai Invoice
				if err := json.Unmarshal([]byte(r.LegacyOutput), &l); err != nil {
					t.Fatalf("legacy_output %q: %v", r.LegacyOutput, err)
				}
				if err := json.Unmarshal([]byte(r.AIOutput), &ai); err != nil {
					t.Fatalf("ai_output %q: %v", r.AIOutput, err)
				}
				if math.Abs(l.Amount-ai.Amount) <= 0.01 {
					a.agree++
					if l.Currency != ai.Currency || l.Vendor != ai.Vendor {
						t.Fatalf("agreeing amounts with differing fields: %s vs %s", r.LegacyOutput, r.AIOutput)
					}
				} else if math.Abs(l.Amount-ai.Amount) < 0.05 {
					t.Fatalf("wrong amount too close to call: %s vs %s", r.LegacyOutput, r.AIOutput)
				}
			}
		case FeatureReplyDraft:
			if d >= dayCostSpikeFrom && d <= dayCostSpikeTo {
				costSpike = append(costSpike, r.AICost)
			} else {
				costNormal = append(costNormal, r.AICost)
			}
			if compared && TokenF1(r.LegacyReply, r.AIReply) >= 0.5 {
				a.agree++
			}
		}
		if r.Feature != FeatureInvoiceExtraction && r.AIModelVersion != "v1" {
			t.Fatalf("%s on model %s", r.Feature, r.AIModelVersion)
		}
	}

	// The files agree exactly with the generator's own counts.
	for k, a := range got {
		o := obs[k]
		if o == nil {
			t.Fatalf("class %v not in summary", k)
		}
		if a.rows != o.Rows || a.compared != o.Compared || a.agree != o.Agree {
			t.Errorf("%v: files rows/compared/agree %d/%d/%d, summary %d/%d/%d", k, a.rows, a.compared, a.agree, o.Rows, o.Compared, o.Agree)
		}
	}
	if len(got) != len(obs) {
		t.Errorf("%d classes in files, %d in summary", len(got), len(obs))
	}
	rate := func(f, c string) float64 {
		a := got[key{f, c}]
		return float64(a.agree) / float64(a.compared)
	}
	// 1. ticket_routing: spanish clearly worse, others ~98%
	if r := rate(FeatureTicketRouting, "spanish"); r >= 0.85 || r < 0.72 {
		t.Errorf("spanish agreement %.3f, want ~0.80", r)
	}
	for _, c := range []string{"email", "chat", "phone_transcript", "web_form"} {
		if r := rate(FeatureTicketRouting, c); r < 0.96 {
			t.Errorf("%s agreement %.3f, want ~0.98", c, r)
		}
	}
	for d := 1; d <= 35; d++ {
		if n := legalPerDay[d]; n < 3 || n > 8 {
			t.Errorf("legal_notice day %d has %d rows, want 3-8", d, n)
		}
	}
	// 2. refund parity, inline labels ~40%, canary 80/20 on days 30-32
	for _, c := range []string{"small_amount", "medium_amount", "large_amount", "repeat_customer"} {
		if r := rate(FeatureRefundApproval, c); r < 0.975 {
			t.Errorf("refund %s agreement %.3f, want ~0.99", c, r)
		}
	}
	if fr := float64(refundLabelled) / float64(refundRows); math.Abs(fr-0.40) > 0.02 {
		t.Errorf("refund inline labels %.3f, want ~0.40", fr)
	}
	if in, out := share(canary[true]), share(canary[false]); math.Abs(in-0.20) > 0.025 || math.Abs(out-0.10) > 0.01 {
		t.Errorf("refund ai share %.3f on days 30-32 and %.3f otherwise, want 0.20 / 0.10", in, out)
	}
	// 3. invoice: v2 from day 28, scanned/handwritten collapse after it
	if v2First != dayInvoiceV2 || v1Last != dayInvoiceV2-1 {
		t.Errorf("v2 first seen day %d, v1 last day %d", v2First, v1Last)
	}
	inv := s.feature(t, FeatureInvoiceExtraction)
	for _, c := range []string{"scanned", "handwritten"} {
		ph := inv.Class(c).Phases
		if len(ph) != 2 {
			t.Fatalf("%s phases %d", c, len(ph))
		}
		before := float64(ph[0].Observed.Agree) / float64(ph[0].Observed.Compared)
		after := float64(ph[1].Observed.Agree) / float64(ph[1].Observed.Compared)
		if before < 0.92 || after > 0.78 {
			t.Errorf("%s agreement %.3f before v2, %.3f after; want ~0.95 -> ~0.70", c, before, after)
		}
		errBefore := float64(ph[0].Observed.AIErrors) / float64(ph[0].Observed.Rows)
		errAfter := float64(ph[1].Observed.AIErrors) / float64(ph[1].Observed.Rows)
		if errAfter < 2*errBefore || errAfter < 0.03 {
			t.Errorf("%s AI error rate %.3f -> %.3f, want a clear rise", c, errBefore, errAfter)
		}
		if ph[1].Expect != "fail" || ph[0].Expect != "pass" || ph[1].ModelVersion != "v2" {
			t.Errorf("%s phase truth %+v", c, ph)
		}
	}
	if mean(confV1)-mean(confV2) < 0.08 {
		t.Errorf("ai_confidence %.3f -> %.3f, want a drift down with v2", mean(confV1), mean(confV2))
	}
	// 4. reply_draft: complaint overlap low, cost spike days 20-23
	rd := s.feature(t, FeatureReplyDraft)
	for _, c := range rd.Classes {
		o := c.Phases[0].Observed
		ov := o.SumOverlap / float64(o.Compared)
		if c.Name == "complaint" {
			if ov > 0.45 {
				t.Errorf("complaint token F1 %.3f, want low", ov)
			}
		} else if ov < 0.75 {
			t.Errorf("%s token F1 %.3f, want high", c.Name, ov)
		}
		if math.Abs(ov-c.Phases[0].Agreement) > 0.03 {
			t.Errorf("%s observed F1 %.3f vs expected %.3f", c.Name, ov, c.Phases[0].Agreement)
		}
	}
	if ratio := mean(costSpike) / mean(costNormal); ratio < 4 || ratio > 6 {
		t.Errorf("reply ai_cost ratio on days 20-23 %.2f, want ~5", ratio)
	}
	// 5. drift: chat input_tokens move up from day 24
	if ratio := median(chatAfter) / median(chatBefore); ratio < 1.4 {
		t.Errorf("chat input_tokens median ratio %.2f, want ~1.6", ratio)
	}
	// AI slower than legacy, p95 in the 600-900 ms band
	var ai []float64
	for _, r := range logs {
		ai = append(ai, r.AILatencyMS)
	}
	sort.Float64s(ai)
	if p95 := ai[len(ai)*95/100]; p95 < 550 || p95 > 950 {
		t.Errorf("AI latency p95 %.0f ms", p95)
	}
}

func (s Summary) feature(t *testing.T, name string) *FeatureTruth {
	for i := range s.Features {
		if s.Features[i].Name == name {
			return &s.Features[i]
		}
	}
	t.Fatalf("feature %s missing", name)
	return nil
}

func share(c [2]int) float64 { return float64(c[0]) / float64(c[1]) }

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func median(x []float64) float64 {
	y := append([]float64(nil), x...)
	sort.Float64s(y)
	return y[len(y)/2]
}

func TestLabels(t *testing.T) {
	dir, s, logs := shared(t)
	byID := map[string]LogRow{}
	for _, r := range logs {
		byID[r.RequestID] = r
	}
	total := 0
	labelledByDay := map[int]int{}
	for d := 0; d < 35; d++ {
		day := DefaultStart.AddDate(0, 0, d)
		p := filepath.Join(dir, "labels", "dt="+day.Format("2006-01-02"), "part-00000.parquet")
		if d == 0 {
			if _, err := os.Stat(p); err == nil {
				t.Error("labels on day 1: nothing can have arrived yet")
			}
			continue
		}
		rows, _, err := readAll[LabelRow](p)
		if err != nil {
			t.Fatal(err)
		}
		total += len(rows)
		for _, l := range rows {
			req, ok := byID[l.RequestID]
			if !ok {
				t.Fatalf("label for unknown request %s", l.RequestID)
			}
			if req.Feature != FeatureTicketRouting && req.Feature != FeatureRefundApproval {
				t.Fatalf("label for %s", req.Feature)
			}
			if !l.LabelledAt.Truncate(24 * time.Hour).Equal(day) {
				t.Fatalf("label at %v in partition %v", l.LabelledAt, day)
			}
			lag := int(l.LabelledAt.Truncate(24*time.Hour).Sub(req.TS.Truncate(24*time.Hour)) / (24 * time.Hour))
			if lag < 1 || lag > 5 || !l.LabelledAt.After(req.TS) {
				t.Fatalf("label %s arrived %d days after the request", l.RequestID, lag)
			}
			if req.LabelCategory != "" && req.LabelCategory != l.LabelCategory {
				t.Fatalf("inline and dataset labels disagree for %s", l.RequestID)
			}
			if req.Feature == FeatureTicketRouting {
				labelledByDay[dayNo(req.TS)]++
			}
		}
	}
	if total != s.LabelRows {
		t.Errorf("summary %d label rows, files %d", s.LabelRows, total)
	}
	// Late labels: the last request day has none, days 31-34 fewer than
	// the complete early days.
	perDay := map[int]int{}
	for _, r := range logs {
		if r.Feature == FeatureTicketRouting {
			perDay[dayNo(r.TS)]++
		}
	}
	frac := func(d int) float64 { return float64(labelledByDay[d]) / float64(perDay[d]) }
	for d := 1; d <= 30; d++ {
		if f := frac(d); f < 0.35 || f > 0.55 {
			t.Errorf("day %d labelled %.2f, want ~0.45", d, f)
		}
	}
	if frac(35) != 0 || frac(34) > 0.2 || frac(31) > 0.42 {
		t.Errorf("late labels: day31 %.2f, day34 %.2f, day35 %.2f", frac(31), frac(34), frac(35))
	}
}

func TestRecon(t *testing.T) {
	dir, s, _ := shared(t)
	if len(s.Recon.Runs) != 5 {
		t.Fatalf("%d recon runs", len(s.Recon.Runs))
	}
	for _, run := range s.Recon.Runs {
		part := "run=0" + string(rune('0'+run.Run))
		legacy, _, err := readAll[ReconRow](filepath.Join(dir, "recon", "legacy", part, "part-00000.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		fresh, _, err := readAll[ReconRow](filepath.Join(dir, "recon", "new", part, "part-00000.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		if len(legacy) != run.LegacyRows || len(fresh) != run.NewRows {
			t.Fatalf("run %d rows %d/%d, summary %d/%d", run.Run, len(legacy), len(fresh), run.LegacyRows, run.NewRows)
		}
		if n := float64(len(legacy)); n < 1800 || n > 2200 {
			t.Errorf("run %d has %v entities, want ~2000 at Scale 0.1", run.Run, n)
		}
		nw := map[string]ReconRow{}
		for _, r := range fresh {
			nw[r.EntityID] = r
		}
		var mism, only []string
		for _, l := range legacy {
			n, ok := nw[l.EntityID]
			if !ok {
				only = append(only, l.EntityID)
				continue
			}
			delete(nw, l.EntityID)
			if n.Amount != l.Amount {
				mism = append(mism, l.EntityID)
				n.Amount = l.Amount
			}
			if n != l {
				t.Fatalf("run %d: %s differs beyond amount: %+v vs %+v", run.Run, l.EntityID, l, n)
			}
		}
		if len(nw) != 0 {
			t.Errorf("run %d: %d rows only in new", run.Run, len(nw))
		}
		sort.Strings(mism)
		sort.Strings(only)
		if strings.Join(mism, ",") != strings.Join(run.AmountMismatch, ",") || strings.Join(only, ",") != strings.Join(run.OnlyInLegacy, ",") {
			t.Errorf("run %d: diffs %v / %v, summary %v / %v", run.Run, mism, only, run.AmountMismatch, run.OnlyInLegacy)
		}
		if run.Run < reconDriftRun {
			if len(mism)+len(only) != 0 {
				t.Errorf("run %d should be clean", run.Run)
			}
			continue
		}
		inv := run.RowsByType["invoice"]
		if len(mism) < 3 || float64(len(mism)) > 0.04*float64(inv) || len(only) < 1 || len(only) > 20 {
			t.Errorf("run %d: %d amount mismatches, %d only-in-legacy of %d invoices", run.Run, len(mism), len(only), inv)
		}
		for _, id := range append(mism, only...) {
			if !strings.HasPrefix(id, "inv-") {
				t.Errorf("non-invoice difference %s", id)
			}
		}
	}
}

func TestJointModel(t *testing.T) {
	j, err := newJoint(0.88, 0.73, 0.80, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	if acc := j.bothRight + j.legOnly; math.Abs(acc-0.88) > 1e-9 {
		t.Errorf("legacy accuracy %v", acc)
	}
	if acc := j.bothRight + j.aiOnly; math.Abs(acc-0.73) > 1e-9 {
		t.Errorf("ai accuracy %v", acc)
	}
	if ag := j.bothRight + j.bothWrongSame; math.Abs(ag-0.80) > 1e-9 {
		t.Errorf("agreement %v", ag)
	}
	if _, err := newJoint(0.9, 0.5, 0.99, 0); err == nil {
		t.Error("40-point accuracy gap with 99% agreement must be infeasible")
	}
}

func BenchmarkGenerate(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		s, err := Generate(dir, Options{Scale: 0.1})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(s.LogRows), "rows/op")
	}
}

// Nulls must be real Parquet nulls, not zero values: read the optional
// columns into pointer fields, which parquet-go leaves nil for nulls.
func TestNulls(t *testing.T) {
	dir, _, _ := shared(t)
	type nullRow struct {
		Feature        string   `parquet:"feature"`
		LegacyCategory *string  `parquet:"legacy_category,optional"`
		AIOutput       *string  `parquet:"ai_output,optional"`
		AIReply        *string  `parquet:"ai_reply,optional"`
		AIConfidence   *float64 `parquet:"ai_confidence,optional"`
		AIError        bool     `parquet:"ai_error"`
		LabelCategory  *string  `parquet:"label_category,optional"`
	}
	rows, _, err := readAll[nullRow](filepath.Join(dir, "logs", "dt=2026-10-10", "part-00000.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r.Feature] = true
		if (r.AIConfidence == nil) != r.AIError {
			t.Fatalf("ai_confidence null=%v with ai_error=%v", r.AIConfidence == nil, r.AIError)
		}
		isCls := r.Feature == FeatureTicketRouting || r.Feature == FeatureRefundApproval
		if !isCls && (r.LegacyCategory != nil || r.LabelCategory != nil) {
			t.Fatalf("%s row with a category", r.Feature)
		}
		if r.Feature != FeatureInvoiceExtraction && r.AIOutput != nil {
			t.Fatalf("%s row with ai_output", r.Feature)
		}
		if r.Feature != FeatureReplyDraft && r.AIReply != nil {
			t.Fatalf("%s row with ai_reply", r.Feature)
		}
		if r.Feature == FeatureReplyDraft && !r.AIError && (r.AIReply == nil || *r.AIReply == "") {
			t.Fatal("reply_draft row without ai_reply")
		}
	}
	if len(seen) != 4 {
		t.Errorf("features %v", seen)
	}
}

func TestDescribe(t *testing.T) {
	_, s, _ := shared(t)
	d := s.Describe()
	for _, want := range []string{"spanish", "-> fail", "insufficient_data", "model_version", "recon run=03"} {
		if !strings.Contains(d, want) {
			t.Errorf("Describe lacks %q:\n%s", want, d)
		}
	}
}
