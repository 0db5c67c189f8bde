package eval

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/eval/stats"
)

func feature(grad, roll int) *config.Feature {
	return &config.Feature{Name: "f", Policy: config.Policy{GraduateAfter: grad, RollbackAfter: roll, Freshness: config.Duration(24 * time.Hour), Steps: []float64{0, 1, 5, 25}}}
}

var day0 = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

// history builds daily records from a string: p pass, f fail, i insufficient, t fail with trigger, _ missing window.
func history(s string) []WindowRecord {
	var out []WindowRecord
	for i, c := range s {
		w := Window{Start: day0.AddDate(0, 0, i), End: day0.AddDate(0, 0, i+1)}
		r := WindowRecord{Window: w, Classes: map[string]string{"a": StatusPass, "b": StatusPass}}
		switch c {
		case 'p':
			r.Status = StatusPass
		case 'f':
			r.Status = StatusFail
			r.Classes["b"] = StatusFail
		case 'i':
			r.Status = StatusInsufficient
			r.Classes["b"] = StatusInsufficient
		case 't':
			r.Status = StatusFail
			r.Triggers = []string{"b: error rate significantly above bound"}
		case '_':
			continue
		}
		out = append(out, r)
	}
	return out
}

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		hist        string
		grad, roll  int
		verdict     string
		percent     float64
		pass, fail  int
		reasonMatch string
	}{
		{"ppp", 3, 2, VerdictGraduate, 1, 3, 0, "3 consecutive"},
		{"pp", 3, 2, VerdictHold, 0, 2, 0, "2 of 3"},
		{"pppppp", 3, 2, VerdictGraduate, 5, 3, 0, ""},      // two graduations: 0 -> 1 -> 5
		{"ppppp", 3, 2, VerdictHold, 1, 2, 0, ""},           // the second step needs a streak of its own
		{"pp_p", 3, 2, VerdictHold, 0, 1, 0, ""},            // a missing window breaks the streak
		{"ppip", 3, 2, VerdictHold, 0, 1, 0, ""},            // insufficient data breaks it too
		{"ppi", 3, 2, VerdictHold, 0, 0, 0, "insufficient"}, // never graduate on incomplete evidence
		{"pppff", 3, 2, VerdictRollback, 0, 0, 2, "2 consecutive failing"},
		{"pppf", 3, 2, VerdictHold, 1, 0, 1, "1 of 2"},
		{"ppppt", 3, 2, VerdictRollback, 0, 0, 1, "immediate"},
		{"fif", 3, 2, VerdictHold, 0, 0, 1, ""}, // failures must be consecutive
	} {
		v := Decide(feature(tc.grad, tc.roll), 24*time.Hour, history(tc.hist), nil, 0, false)
		name := fmt.Sprintf("%s/N=%d/M=%d", tc.hist, tc.grad, tc.roll)
		if v.Verdict != tc.verdict || v.Traffic.Percent != tc.percent || v.Streak.Failing != tc.fail {
			t.Errorf("%s: verdict %s %g%% fail-streak %d, want %s %g%% %d (reasons %v)", name, v.Verdict, v.Traffic.Percent, v.Streak.Failing, tc.verdict, tc.percent, tc.fail, v.Reasons)
		}
		if v.Verdict != VerdictGraduate && v.Streak.Passing != tc.pass {
			t.Errorf("%s: pass streak %d, want %d", name, v.Streak.Passing, tc.pass)
		}
		if tc.reasonMatch != "" && !strings.Contains(strings.Join(v.Reasons, " "), tc.reasonMatch) {
			t.Errorf("%s: reasons %v lack %q", name, v.Reasons, tc.reasonMatch)
		}
		want := history(tc.hist)
		if last := want[len(want)-1]; !v.ValidUntil.Equal(last.Window.End.Add(24 * time.Hour)) {
			t.Errorf("%s: valid_until %s, want window end + 24h", name, v.ValidUntil)
		}
	}
}

func TestOverrideWins(t *testing.T) {
	f := feature(3, 2)
	v := Decide(f, 24*time.Hour, history("ppp"), &Override{ForceLegacy: true, By: "oncall", Reason: "incident 42"}, 0, false)
	if v.Verdict != VerdictRollback || v.Traffic.Percent != 0 || v.Override == nil {
		t.Fatalf("force_legacy: got %s %g%%", v.Verdict, v.Traffic.Percent)
	}
	if !strings.Contains(v.Reasons[0], "oncall") || !strings.Contains(v.Reasons[0], "incident 42") {
		t.Errorf("override reason not recorded: %v", v.Reasons)
	}
	fr := Decide(f, 24*time.Hour, history("pppp"), nil, 0, false)
	frz := Decide(f, 24*time.Hour, history("pppff"), &Override{Freeze: true, By: "a", Reason: "b"}, 0, false)
	if frz.Verdict != VerdictHold || frz.Traffic.Percent != 1 {
		t.Errorf("freeze after a graduation: got %s %g%%, want hold at 1%% (unfrozen: %s %g%%)", frz.Verdict, frz.Traffic.Percent, fr.Verdict, fr.Traffic.Percent)
	}
}

func TestPerClassRouting(t *testing.T) {
	recs := history("pppp")
	recs[1].Classes["b"] = StatusInsufficient
	recs[1].Status = StatusInsufficient
	f := feature(2, 2)
	v := Decide(f, 24*time.Hour, recs, nil, 0, false)
	// a passed 4 in a row; b only the last 2. With N=2 both may take AI traffic.
	if strings.Join(v.AIAllowedClasses, ",") != "a,b" {
		t.Errorf("allowed %v", v.AIAllowedClasses)
	}
	f3 := feature(3, 2)
	v = Decide(f3, 24*time.Hour, history("ppppp"), nil, 0, false)
	recs = history("ppppp")
	recs[3].Classes["b"] = StatusFail
	recs[3].Status = StatusFail
	v = Decide(f3, 24*time.Hour, recs, nil, 0, false)
	if strings.Join(v.AIAllowedClasses, ",") != "a" || strings.Join(v.LegacyOnlyClasses, ",") != "b" {
		t.Errorf("after b failed: allowed %v legacy-only %v", v.AIAllowedClasses, v.LegacyOnlyClasses)
	}
}

func TestDecommission(t *testing.T) {
	hist := strings.Repeat("p", 5) + "ff" + strings.Repeat("p", 31)
	recs := history(hist)
	for i := range recs {
		recs[i].AuditComplete = 1
	}
	v := Decide(feature(14, 2), 24*time.Hour, recs, nil, 30, true)
	if !v.DecommissionReady {
		t.Errorf("want ready after 31 days of parity, a recovered rollback, complete audit and 30 clean reconciliations: %+v", v.Decommission)
	}
	v = Decide(feature(14, 2), 24*time.Hour, recs[:20], nil, 30, true)
	if v.DecommissionReady {
		t.Error("ready after only 13 days of parity")
	}
	v = Decide(feature(14, 2), 24*time.Hour, recs, nil, 3, true)
	if v.DecommissionReady {
		t.Error("ready with only 3 clean reconciliation runs")
	}
}

func TestAnytimeGraduation(t *testing.T) {
	f := feature(3, 2)
	f.Policy.Graduation, f.Policy.Alpha, f.Policy.Margin = "anytime", 0.05, 0.02
	recs := history("ppp")
	// Little labelled evidence: three passing windows are not enough.
	for i := range recs {
		recs[i].Paired = stats.Paired2x2{BothRight: 40, LegacyOnly: 3, AIOnly: 2, BothWrong: 5}
	}
	if v := Decide(f, 24*time.Hour, recs, nil, 0, false); v.Verdict != VerdictHold || !strings.Contains(v.Reasons[0], "anytime-valid") {
		t.Errorf("thin evidence: %s %v", v.Verdict, v.Reasons)
	}
	for i := range recs {
		recs[i].Paired = stats.Paired2x2{BothRight: 40000, LegacyOnly: 300, AIOnly: 310, BothWrong: 500}
	}
	if v := Decide(f, 24*time.Hour, recs, nil, 0, false); v.Verdict != VerdictGraduate {
		t.Errorf("ample evidence at parity: %s %v", v.Verdict, v.Reasons)
	}
	f.Policy.Graduation = "consecutive"
	for i := range recs {
		recs[i].Paired = stats.Paired2x2{BothRight: 40, LegacyOnly: 3, AIOnly: 2, BothWrong: 5}
	}
	if v := Decide(f, 24*time.Hour, recs, nil, 0, false); v.Verdict != VerdictGraduate {
		t.Errorf("consecutive rule ignores the sequence: %s", v.Verdict)
	}
}

// TestVanishedClassBreaksStreaks: without expected_classes, a class that
// stops reaching the log leaves the window's evidence incomplete for
// graduate_after windows (the feature neither graduates on the others'
// passes, nor does the class keep its own streak across the gap); once
// it has been gone that long it is no longer waited for.
func TestVanishedClassBreaksStreaks(t *testing.T) {
	f := feature(3, 2)
	drop := func(recs []WindowRecord, days ...int) []WindowRecord {
		for _, d := range days {
			delete(recs[d].Classes, "b")
		}
		return recs
	}
	// b absent on day 2: days 0–3 all "pass" for the classes present.
	v := Decide(f, 24*time.Hour, drop(history("pppp"), 2), nil, 0, false)
	if v.Verdict != VerdictHold || v.Traffic.Percent != 0 || v.Streak.Passing != 1 {
		t.Errorf("b missing on day 2: %s %g%% streak %d, want hold 0%% streak 1 (reasons %v)", v.Verdict, v.Traffic.Percent, v.Streak.Passing, v.Reasons)
	}
	v = Decide(f, 24*time.Hour, drop(history("ppp"), 2), nil, 0, false)
	if r := strings.Join(v.Reasons, " "); v.Verdict != VerdictHold || !strings.Contains(r, `input class "b" seen in the previous 3 windows has no data`) {
		t.Errorf("b missing on the last day: %s, reasons %v", v.Verdict, v.Reasons)
	}
	// The class's own streak: with N=2 and b missing on day 3, b has one
	// passing window since its gap (day 4), a has five.
	v = Decide(feature(2, 2), 24*time.Hour, drop(history("ppppp"), 3), nil, 0, false)
	if got := strings.Join(v.AIAllowedClasses, ","); got != "a" || v.Traffic.Percent == 0 {
		t.Errorf("allowed %v (legacy-only %v), want only a: b's streak restarts after its gap", v.AIAllowedClasses, v.LegacyOnlyClasses)
	}
	// Gone for good after day 1: days 2–4 are incomplete (b seen within
	// the last 3 windows), days 5–7 pass without it: graduate on day 7.
	recs := drop(history("pppppppp"), 2, 3, 4, 5, 6, 7)
	if v := Decide(f, 24*time.Hour, recs[:7], nil, 0, false); v.Verdict != VerdictHold {
		t.Errorf("day 6: %s %v, want hold", v.Verdict, v.Reasons)
	}
	if v := Decide(f, 24*time.Hour, recs, nil, 0, false); v.Verdict != VerdictGraduate {
		t.Errorf("day 7: %s %v, want graduate (b gone for more than 3 windows)", v.Verdict, v.Reasons)
	}
	// A failing window stays a failing window when a class is missing.
	v = Decide(f, 24*time.Hour, drop(history("pff"), 2), nil, 0, false)
	if v.Verdict != VerdictRollback {
		t.Errorf("failing with b missing: %s, want rollback", v.Verdict)
	}
}

// sixHourly builds 6-hour records from 2026-02-01T00:00Z, as history does.
func sixHourly(s string) []WindowRecord {
	recs := history(s)
	t0 := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	for i := range recs {
		start := t0.Add(recs[i].Window.Start.Sub(day0) / 4)
		recs[i].Window = Window{Start: start, End: start.Add(6 * time.Hour)}
	}
	return recs
}

// decideEach decides every window of recs in turn as a run of that
// window does: the window's own override is the current decision, and
// is then stored in its record for the later windows' replays.
func decideEach(f *config.Feature, recs []WindowRecord, ovs map[int]*Override) []FeatureVerdict {
	var out []FeatureVerdict
	for i := range recs {
		recs[i].Override = ovs[i]
		out = append(out, Decide(f, 6*time.Hour, recs[:i+1], ovs[i], 0, false))
	}
	return out
}

func graduations(v FeatureVerdict) []string {
	var at []string
	for _, e := range v.Events {
		if e.Kind == "graduate" {
			at = append(at, e.Window.Start.Format("15:04"))
		}
	}
	return at
}

// TestFreezeHoldsTheStateMachine is the QA scenario: 6h windows,
// graduate_after 3, a freeze over the 12:00 window, in which the
// streak reaches 3. The frozen window holds at 0% with no event; the
// streak keeps counting, and the 18:00 window after the lift graduates
// as its own verdict. The old policy applied the freeze to the displayed
// verdict only: replayed at 18:00, the 12:00 window graduated after all
// (an event dated 12:00), and 18:00 said hold while traffic went to the
// next step.
func TestFreezeHoldsTheStateMachine(t *testing.T) {
	f := feature(3, 2)
	freeze := &Override{Freeze: true, By: "qa", Reason: "change freeze"}
	v := decideEach(f, sixHourly("pppp"), map[int]*Override{2: freeze})
	if v[2].Verdict != VerdictHold || v[2].Traffic.Percent != 0 || len(graduations(v[2])) != 0 || v[2].Streak.Passing != 3 {
		t.Errorf("12:00 (frozen): %s %g%% graduations %v streak %d, want hold 0%%, none, streak 3", v[2].Verdict, v[2].Traffic.Percent, graduations(v[2]), v[2].Streak.Passing)
	}
	if r := strings.Join(v[2].Reasons, " | "); !strings.Contains(r, "frozen by qa") || !strings.Contains(r, "no graduate while the override is in force") {
		t.Errorf("12:00 (frozen): reasons %q do not say the graduation is held by the freeze", r)
	}
	if v[3].Verdict != VerdictGraduate || v[3].Traffic.Percent != 1 || strings.Join(graduations(v[3]), ",") != "18:00" {
		t.Errorf("18:00 (lifted): %s %g%% graduations %v (reasons %v), want graduate to 1%% in the 18:00 window only", v[3].Verdict, v[3].Traffic.Percent, graduations(v[3]), v[3].Reasons)
	}
	// A longer freeze: one step when it lifts, and the next needs a new streak.
	v = decideEach(f, sixHourly("pppppppp"), map[int]*Override{2: freeze, 3: freeze, 4: freeze, 5: freeze})
	for i, fv := range v[:6] {
		if fv.Traffic.Percent != 0 || len(graduations(fv)) != 0 {
			t.Errorf("window %d (frozen or before): %s %g%% graduations %v, want 0%% and none", i, fv.Verdict, fv.Traffic.Percent, graduations(fv))
		}
	}
	if v[6].Verdict != VerdictGraduate || v[6].Traffic.Percent != 1 || v[7].Verdict != VerdictHold || v[7].Traffic.Percent != 1 {
		t.Errorf("after the lift: %s %g%% then %s %g%%, want graduate to 1%% then hold at 1%%", v[6].Verdict, v[6].Traffic.Percent, v[7].Verdict, v[7].Traffic.Percent)
	}
}

// TestFreezeHoldsRollback: a failing streak that reaches rollback_after
// under a freeze rolls back in the first window after the lift, as that
// window's verdict; when that window passes, nothing moves.
func TestFreezeHoldsRollback(t *testing.T) {
	f := feature(3, 2)
	freeze := &Override{Freeze: true, By: "qa", Reason: "change freeze"}
	v := decideEach(f, sixHourly("pppfff"), map[int]*Override{3: freeze, 4: freeze})
	if v[4].Verdict != VerdictHold || v[4].Traffic.Percent != 1 {
		t.Errorf("frozen with 2 failing windows: %s %g%%, want hold at 1%%", v[4].Verdict, v[4].Traffic.Percent)
	}
	if v[5].Verdict != VerdictRollback || v[5].Traffic.Percent != 0 {
		t.Errorf("lifted, 3rd failing window: %s %g%%, want rollback to 0%%", v[5].Verdict, v[5].Traffic.Percent)
	}
	for _, e := range v[5].Events {
		if e.Kind == "rollback" && !e.Window.Start.Equal(v[5].Window.Start) {
			t.Errorf("rollback event dated %s, in a frozen window", e.Window.Start)
		}
	}
	v = decideEach(f, sixHourly("pppffp"), map[int]*Override{3: freeze, 4: freeze})
	if v[5].Verdict != VerdictHold || v[5].Traffic.Percent != 1 || len(v[5].Events) != 1 {
		t.Errorf("lifted, passing window: %s %g%% events %+v, want hold at 1%% with only the graduation", v[5].Verdict, v[5].Traffic.Percent, v[5].Events)
	}
}

// TestForceLegacyExpiry: force_legacy is a rollback in the state machine
// too. A graduation the streak called for under it happens after the
// lift as a graduate verdict (the old policy stepped traffic 0% -> 1%
// under hold, dated to the forced window), and a step held before the
// kill switch is not handed back under a hold when it expires (old: 0%
// -> 1% under hold): it is earned again.
func TestForceLegacyExpiry(t *testing.T) {
	f := feature(3, 2)
	kill := &Override{ForceLegacy: true, By: "oncall", Reason: "INC-1"}
	v := decideEach(f, sixHourly("pppp"), map[int]*Override{2: kill})
	if v[2].Verdict != VerdictRollback || v[2].Traffic.Percent != 0 || len(graduations(v[2])) != 0 {
		t.Errorf("12:00 (forced): %s %g%% graduations %v, want rollback 0%%, none", v[2].Verdict, v[2].Traffic.Percent, graduations(v[2]))
	}
	if v[3].Verdict != VerdictGraduate || v[3].Traffic.Percent != 1 || strings.Join(graduations(v[3]), ",") != "18:00" {
		t.Errorf("18:00 (lifted): %s %g%% graduations %v (reasons %v), want graduate to 1%% in the 18:00 window only", v[3].Verdict, v[3].Traffic.Percent, graduations(v[3]), v[3].Reasons)
	}
	v = decideEach(f, sixHourly("ppppp"), map[int]*Override{3: kill})
	if v[3].Verdict != VerdictRollback || v[3].Traffic.Percent != 0 {
		t.Errorf("forced after a graduation: %s %g%%, want rollback 0%%", v[3].Verdict, v[3].Traffic.Percent)
	}
	if v[4].Verdict != VerdictHold || v[4].Traffic.Percent != 0 {
		t.Errorf("lifted: %s %g%% (reasons %v), want hold at 0%%: traffic does not move under a hold", v[4].Verdict, v[4].Traffic.Percent, v[4].Reasons)
	}
}

// TestDecommissionAuditWholePeriod: the audit item holds over every
// window of the parity period, not just the latest (the old policy read
// only the last window's figure: two incomplete windows inside the 30
// days still said met, "100.000% of records complete").
func TestDecommissionAuditWholePeriod(t *testing.T) {
	hist := strings.Repeat("p", 5) + "ff" + strings.Repeat("p", 31)
	audit := func(edit func(recs []WindowRecord)) Check {
		recs := history(hist)
		for i := range recs {
			recs[i].AuditComplete, recs[i].AuditN = 1, 1000
		}
		edit(recs)
		v := Decide(feature(14, 2), 24*time.Hour, recs, nil, 30, true)
		for _, c := range v.Decommission {
			if strings.HasPrefix(c.Item, "audit trail complete") {
				return c
			}
		}
		t.Fatalf("no audit item in %+v", v.Decommission)
		return Check{}
	}
	if c := audit(func([]WindowRecord) {}); !c.Met || c.Evidence != "100.000% of records complete over the 31 windows since 2026-10-08" {
		t.Errorf("complete: %+v", c)
	}
	c := audit(func(recs []WindowRecord) {
		recs[20].AuditComplete = 0 // 2026-10-21
		recs[30].AuditComplete = 0.5
	})
	if c.Met || c.Evidence != "95.161% of records complete over the 31 windows since 2026-10-08 (lowest 0.000% on 2026-10-21)" {
		t.Errorf("two incomplete windows inside the period: %+v", c)
	}
	c = audit(func(recs []WindowRecord) { recs[25].AuditComplete, recs[25].AuditN = Float(math.NaN()), 0 })
	if c.Met || !strings.Contains(c.Evidence, "no audit figure in 1 of them (first on 2026-10-26)") {
		t.Errorf("a window without an audit figure: %+v", c)
	}
	// Before the streak and over 30 days old: not part of the period.
	if c := audit(func(recs []WindowRecord) { recs[2].AuditComplete = 0 }); !c.Met {
		t.Errorf("an incomplete window before the period: %+v", c)
	}
	// The period is at least 30 days even when the streak is shorter.
	c = audit(func(recs []WindowRecord) {
		recs[10].AuditComplete = 0.9
		recs[len(recs)-1].Status = StatusFail
		recs[len(recs)-1].Classes["b"] = StatusFail
	})
	if c.Met || !strings.Contains(c.Evidence, "30 windows since 2026-10-09 (lowest 90.000% on 2026-10-11)") {
		t.Errorf("an incomplete window in the last 30 days after the streak broke: %+v", c)
	}
	// Histories stored before record counts: the share of windows.
	c = audit(func(recs []WindowRecord) {
		for i := range recs {
			recs[i].AuditN = 0
		}
		recs[36].AuditComplete = 0.999999
	})
	if c.Met || c.Evidence != "every record complete in 30 of 31 windows since 2026-10-08 (lowest 99.999% on 2026-11-06)" {
		t.Errorf("no record counts: %+v", c)
	}
}

// TestFreezeHoldsTheAllowList: under a freeze the classes routed to the
// AI stay as they were: a class whose own streak completes while frozen
// joins the allow-list only after the lift (it used to join at once, so
// the flag's AI share rose under a hold).
func TestFreezeHoldsTheAllowList(t *testing.T) {
	f := feature(3, 2)
	freeze := &Override{Freeze: true, By: "qa", Reason: "change freeze"}
	v := decideEach(f, sixHourly("pppfpppp"), map[int]*Override{5: freeze, 6: freeze})
	for i, want := range map[int]string{4: "a", 5: "a", 6: "a", 7: "a,b"} {
		if got := strings.Join(v[i].AIAllowedClasses, ","); got != want {
			t.Errorf("window %d: AI-allowed classes %q at %g%%, want %q", i, got, v[i].Traffic.Percent, want)
		}
	}
	force := &Override{ForceLegacy: true, By: "qa", Reason: "incident"}
	v = decideEach(f, sixHourly("pppp"), map[int]*Override{3: force})
	if len(v[2].AIAllowedClasses) == 0 || len(v[3].AIAllowedClasses) != 0 {
		t.Errorf("force_legacy: allowed %v before, %v under it; want some, then none", v[2].AIAllowedClasses, v[3].AIAllowedClasses)
	}
}

// TestTopStepStaysGraduated is the QA scenario: a feature at the last
// step (here 25%, the top of feature()'s steps) and passing. The old
// policy reset the streak after every graduate verdict, also at the top
// where traffic cannot move, so the verdict alternated graduate and hold
// with no event. Now the streak goes on at the last step: the verdict is
// graduate while it is at least graduate_after long, a window that does
// not pass drops it to hold (or rollback), and it takes graduate_after
// consecutive passes again to say graduate.
func TestTopStepStaysGraduated(t *testing.T) {
	verdicts := func(f *config.Feature, hist string) (string, []FeatureVerdict) {
		recs := history(hist)
		var b strings.Builder
		var vs []FeatureVerdict
		for i := range recs {
			// as each run (and a backfill re-deciding every window) does:
			// the records up to the window decided
			v := Decide(f, 24*time.Hour, recs[:i+1], nil, 0, false)
			vs = append(vs, v)
			b.WriteString(v.Verdict[:1])
		}
		return b.String(), vs
	}
	f := feature(2, 2)
	f.Policy.InitialPercent = 25 // already at the top step
	got, vs := verdicts(f, "ppppppfppippp")
	if want := "hggggghhghhgg"; got != want {
		t.Errorf("at the top step: verdicts %s, want %s", got, want)
	}
	for i, v := range vs {
		if v.Traffic.Percent != 25 || len(v.Events) != 0 {
			t.Errorf("window %d: %g%% events %v, want 25%% and no event (traffic never moves)", i, v.Traffic.Percent, v.Events)
		}
		if v.Verdict == VerdictGraduate && v.Streak.Passing < 2 {
			t.Errorf("window %d: graduate on a streak of %d (graduate after 2)", i, v.Streak.Passing)
		}
	}
	if v := vs[5]; v.Streak.Passing != 6 || !strings.Contains(v.Reasons[0], "already at the last step, 25% AI traffic") {
		t.Errorf("6th passing window: streak %d reasons %v, want 6 and the last step named", v.Streak.Passing, v.Reasons)
	}

	// Reaching the top: the graduation into it moves traffic once (one
	// event); the streak goes on, so the next passing window is graduate
	// too, with no further event.
	f = feature(2, 2)
	f.Policy.InitialPercent = 5
	got, vs = verdicts(f, "pppppff")
	if want := "hgggghr"; got != want {
		t.Errorf("into the top step: verdicts %s, want %s", got, want)
	}
	if v := vs[4]; v.Traffic.Percent != 25 || len(graduations(v)) != 1 {
		t.Errorf("into the top step: %g%% graduations %v, want 25%% and one", v.Traffic.Percent, graduations(v))
	}
	if v := vs[6]; v.Traffic.Percent != 0 {
		t.Errorf("rollback from the top step: %g%%, want 0", v.Traffic.Percent)
	}

	// Below the top every step still needs a streak of its own.
	got, _ = verdicts(feature(2, 2), "pppppp")
	if want := "hghghg"; got != want {
		t.Errorf("below the top step: verdicts %s, want %s", got, want)
	}

	// Decommission readiness counts days of parity, which a graduation
	// never reset: 30 passing days at the top are 30 days.
	f = feature(2, 2)
	f.Policy.InitialPercent = 25
	v := Decide(f, 24*time.Hour, history(strings.Repeat("p", 30)), nil, 0, false)
	if v.Verdict != VerdictGraduate || !v.Decommission[0].Met || v.Decommission[0].Evidence != "30.0 consecutive days of parity" {
		t.Errorf("30 passing days at the top: %s, %+v", v.Verdict, v.Decommission[0])
	}
}
