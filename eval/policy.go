package eval

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/eval/stats"
)

// Verdicts a router acts on.
const (
	VerdictGraduate = "graduate"
	VerdictHold     = "hold"
	VerdictRollback = "rollback"
)

// WindowRecord is what the policy remembers of one feature in one
// window: the class statuses and triggers, stored with the window's
// outputs. Streaks are always replayed from these records, never kept in
// process memory, so a fresh process, a rerun or a backfill agree.
type WindowRecord struct {
	Window        Window            `json:"window"`
	Status        string            `json:"status"`
	Classes       map[string]string `json:"classes"`
	ClassNNeeded  map[string]int64  `json:"class_n_needed,omitempty"`
	Triggers      []string          `json:"triggers,omitempty"`
	AIShare       Float             `json:"ai_share"`
	AIShareN      int64             `json:"ai_share_n"`
	AuditComplete Float             `json:"audit_complete"`
	// AuditN is how many records AuditComplete is a share of, so the
	// decommission item can report the share over a whole period.
	AuditN int64 `json:"audit_n,omitempty"`
	// Evidence for the anytime-valid graduation rule: the window's paired
	// correctness counts on critical fields, summed over classes.
	Paired stats.Paired2x2 `json:"paired"`
	// Override is the human decision that was in force when the window's
	// verdict was decided (the caller stores the one it passed to Decide
	// for that window). A replay needs it: without it, a graduation held
	// back by a freeze reappears in the frozen window once the freeze
	// has lifted, and moves traffic under a later window's hold.
	Override *Override `json:"override,omitempty"`
}

// Record summarises a feature window for the history.
func Record(fw *FeatureWindow, g map[string]*Group) WindowRecord {
	r := WindowRecord{Window: fw.Window, Status: fw.Status, Classes: map[string]string{}, ClassNNeeded: map[string]int64{}, Triggers: fw.Triggers, AIShare: fw.AIShare, AIShareN: fw.AIShareN, AuditComplete: Float(math.NaN())}
	for _, c := range fw.Classes {
		r.Classes[c.Class] = c.Status
		if c.NNeeded > 0 {
			r.ClassNNeeded[c.Class] = c.NNeeded
		}
	}
	var audit Acc
	for _, grp := range g {
		for name, a := range grp.Metrics {
			if len(name) > 9 && name[:9] == "accuracy." {
				r.Paired.BothRight += a.BothRight
				r.Paired.LegacyOnly += a.LegacyOnly
				r.Paired.AIOnly += a.AIOnly
				r.Paired.BothWrong += a.BothWrong
			}
		}
		if a := grp.Metrics["audit.complete"]; a != nil {
			audit.K += a.K
			audit.N += a.N
		}
	}
	if audit.N > 0 {
		r.AuditComplete = Float(float64(audit.K) / float64(audit.N))
		r.AuditN = audit.N
	}
	return r
}

// Override is a recorded human decision that beats any computed verdict.
type Override struct {
	ForceLegacy bool   `json:"force_legacy"`
	Freeze      bool   `json:"freeze"`
	By          string `json:"by"`
	Reason      string `json:"reason"`
	At          string `json:"at"`
	Source      string `json:"source"` // config or override file
}

// Streak is the feature's current run of windows.
type Streak struct {
	Passing            int `json:"passing"`
	Failing            int `json:"failing"`
	RequiredToGraduate int `json:"required_to_graduate"`
	RequiredToRollback int `json:"required_to_rollback"`
}

// Traffic is the AI share the verdict allows.
type Traffic struct {
	Percent float64   `json:"percent"`
	Step    int       `json:"step"`
	Steps   []float64 `json:"steps"`
}

// Event is a milestone in a feature's history.
type Event struct {
	Window  Window  `json:"window"`
	Kind    string  `json:"kind"` // graduate, rollback, override
	Percent float64 `json:"percent"`
	Reason  string  `json:"reason"`
}

// Check is one decommission-readiness item.
type Check struct {
	Item     string `json:"item"`
	Met      bool   `json:"met"`
	Evidence string `json:"evidence"`
}

// FeatureVerdict is the decision for one feature as of one window.
type FeatureVerdict struct {
	Verdict           string    `json:"verdict"`
	Reasons           []string  `json:"reasons"`
	ValidUntil        time.Time `json:"valid_until"`
	Window            Window    `json:"window"`
	Traffic           Traffic   `json:"traffic"`
	Streak            Streak    `json:"streak"`
	AIAllowedClasses  []string  `json:"ai_allowed_classes"`
	LegacyOnlyClasses []string  `json:"legacy_only_classes"`
	Override          *Override `json:"override,omitempty"`
	Alerts            []Alert   `json:"alerts"`
	Events            []Event   `json:"events"`
	Decommission      []Check   `json:"decommission"`
	DecommissionReady bool      `json:"decommission_ready"`
}

// Decide replays a feature's window records (sorted by window, ending
// with the window being decided) through the policy. ov is the override
// for the window being decided; each earlier window's is its record's
// Override.
//
// An override binds the state machine, not just the verdict shown: in a
// window under force_legacy the verdict is rollback and traffic goes to
// 0 (a graduation must then be earned again from there); under freeze
// traffic stays where it is and neither a graduation nor a rollback
// happens. The windows under an override still count toward the passing
// and failing streaks (the shadow evidence is real), so a streak that
// reaches graduate_after or rollback_after while an override is in force
// moves traffic in the first window after it lifts, as that window's
// graduate or rollback verdict, never as a step change under a hold.
func Decide(f *config.Feature, window time.Duration, recs []WindowRecord, ov *Override, reconCleanRuns int, reconSeen bool) FeatureVerdict {
	pol := f.Policy
	v := FeatureVerdict{Verdict: VerdictHold, Events: []Event{}, Alerts: []Alert{}, AIAllowedClasses: []string{}, LegacyOnlyClasses: []string{}}
	v.Streak.RequiredToGraduate, v.Streak.RequiredToRollback = pol.GraduateAfter, pol.RollbackAfter
	v.Traffic.Steps = pol.Steps
	step := initialStep(pol)
	pass, fail := 0, 0
	classPass := map[string]int{}
	allowed := map[string]bool{} // classes on the AI allow-list after each window
	// seen is when each class last had a record. A class seen within the
	// last graduate_after windows but absent from a window leaves that
	// window's evidence incomplete, as a missing expected_classes entry
	// does (configured classes are reported as insufficient_data by the
	// evaluation itself): without this a class whose traffic stopped
	// reaching the log would neither break the feature's streak nor its
	// own. One absent for longer is taken to be gone.
	seen := map[string]time.Time{}
	horizon := time.Duration(pol.GraduateAfter) * window
	parityRun := 0 // consecutive windows in which every class passed
	sawRollback, recovered := false, false
	prevVerdict := ""
	var prev *WindowRecord
	for i := range recs {
		r := &recs[i]
		last := i == len(recs)-1
		o := r.Override
		if last {
			o = ov
		}
		// A missing window between two records is a window with no
		// evaluation: it breaks every streak.
		if prev != nil && r.Window.Start.After(prev.Window.End) {
			pass, fail, parityRun = 0, 0, 0
			classPass = map[string]int{}
		}
		prev = r
		expected := pol.Steps[step] / 100
		if r.AIShareN > 0 && last {
			if off := shareOff(float64(r.AIShare), r.AIShareN, expected); off != "" {
				v.Alerts = append(v.Alerts, Alert{Severity: "warning", Message: off})
			}
		}
		var missing []string
		for c, at := range seen {
			if _, ok := r.Classes[c]; !ok && r.Window.Start.Sub(at) <= horizon {
				missing = append(missing, c)
			}
		}
		sort.Strings(missing)
		for c := range classPass {
			if _, ok := r.Classes[c]; !ok {
				classPass[c] = 0 // a class's own streak needs consecutive windows too
			}
		}
		for c, s := range r.Classes {
			seen[c] = r.Window.Start
			if s == StatusPass {
				classPass[c]++
			} else {
				classPass[c] = 0
			}
		}
		verdict := VerdictHold
		var reasons []string
		switch {
		case r.Status == StatusPass && len(r.Triggers) == 0 && len(missing) > 0:
			pass, fail, parityRun = 0, 0, 0
			what := "input class %s seen in the previous %d windows has no data in this one: no graduation on incomplete evidence"
			if len(missing) > 1 {
				what = "input classes %s seen in the previous %d windows have no data in this one: no graduation on incomplete evidence"
			}
			reasons = append(reasons, fmt.Sprintf(what, quoteList(missing), pol.GraduateAfter))
		case r.Status == StatusPass && len(r.Triggers) == 0:
			pass++
			fail = 0
			parityRun++
			if sawRollback {
				recovered = true
			}
		case r.Status == StatusFail || len(r.Triggers) > 0:
			fail++
			pass, parityRun = 0, 0
		default: // insufficient data or error: neither evidence of parity nor of failure
			pass, fail, parityRun = 0, 0, 0
		}
		switch {
		case len(reasons) > 0: // incomplete: hold, as insufficient data
		case len(r.Triggers) > 0:
			verdict = VerdictRollback
			reasons = append(reasons, "immediate rollback trigger: "+r.Triggers[0])
		case fail >= pol.RollbackAfter:
			verdict = VerdictRollback
			reasons = append(reasons, fmt.Sprintf("%d consecutive failing windows (rollback after %d)", fail, pol.RollbackAfter))
		case pass >= pol.GraduateAfter && pol.Graduation == "anytime" && !anytimeOK(pol, recs[i-pass+1:i+1]):
			reasons = append(reasons, fmt.Sprintf("%d consecutive passing windows, but the anytime-valid confidence sequence over them does not yet exclude AI accuracy worse than legacy by %g", pass, pol.Margin))
		case pass >= pol.GraduateAfter:
			verdict = VerdictGraduate
			reasons = append(reasons, fmt.Sprintf("%d consecutive windows in which every input class passed (graduate after %d)", pass, pol.GraduateAfter))
			if step == len(pol.Steps)-1 {
				reasons[0] += fmt.Sprintf("; already at the last step, %g%% AI traffic", pol.Steps[step])
			}
		default:
			switch r.Status {
			case StatusPass:
				reasons = append(reasons, fmt.Sprintf("passing: %d of %d consecutive windows needed to graduate", pass, pol.GraduateAfter))
			case StatusFail:
				reasons = append(reasons, fmt.Sprintf("failing: %d of %d consecutive failing windows before rollback", fail, pol.RollbackAfter))
			case StatusInsufficient:
				reasons = append(reasons, "some input classes have insufficient data: no graduation on incomplete evidence")
			default:
				reasons = append(reasons, "some input classes could not be evaluated (error): no graduation on incomplete evidence")
			}
		}
		// Overrides win over computed verdicts. A move the streaks call
		// for but the override stops is said so; the streaks carry on.
		if o != nil && (o.ForceLegacy || o.Freeze) {
			by := fmt.Sprintf("override: frozen by %s (%s)", o.By, o.Reason)
			forced := VerdictHold
			if o.ForceLegacy {
				by = fmt.Sprintf("override: force_legacy by %s (%s)", o.By, o.Reason)
				forced = VerdictRollback
			}
			if verdict != forced && verdict != VerdictHold {
				reasons[0] += fmt.Sprintf(": no %s while the override is in force", verdict)
			}
			verdict = forced
			reasons = append([]string{by}, reasons...)
		}
		switch verdict {
		case VerdictGraduate:
			if step < len(pol.Steps)-1 {
				step++
				v.Events = append(v.Events, Event{Window: r.Window, Kind: "graduate", Percent: pol.Steps[step], Reason: reasons[0]})
				if last {
					v.Alerts = append(v.Alerts, Alert{Severity: "info", Message: fmt.Sprintf("milestone: graduated to %g%% AI traffic", pol.Steps[step])})
				}
			}
			// The next step needs a streak of its own. The last step has
			// none after it: the streak that reached it goes on, so the
			// verdict stays graduate for as long as every window passes
			// (rather than alternating graduate and hold, which reads as
			// promote/inconclusive with traffic unchanged), and a window
			// that does not pass ends it like any other streak.
			if step < len(pol.Steps)-1 {
				pass = 0
			}
		case VerdictRollback:
			// One event per rollback: when traffic actually moves, or when
			// a failing streak first turns into a rollback.
			if step != 0 || prevVerdict != VerdictRollback {
				v.Events = append(v.Events, Event{Window: r.Window, Kind: "rollback", Percent: 0, Reason: reasons[0]})
				if last {
					v.Alerts = append(v.Alerts, Alert{Severity: "critical", Message: "rollback: " + reasons[0]})
				}
			}
			step = 0
			sawRollback, recovered = true, false
		}
		// The classes routed to the AI: under a freeze the allow-list
		// stays as it was (traffic must not change under a hold, by
		// class either), under force_legacy it is empty, otherwise every
		// class passing with its own streak, while the step routes any.
		switch {
		case o != nil && o.Freeze && !o.ForceLegacy:
		case o != nil && o.ForceLegacy || pol.Steps[step] == 0:
			allowed = map[string]bool{}
		default:
			allowed = map[string]bool{}
			for c, st := range r.Classes {
				if st == StatusPass && classPass[c] >= pol.GraduateAfter {
					allowed[c] = true
				}
			}
		}
		prevVerdict = verdict
		if last {
			v.Verdict, v.Reasons = verdict, reasons
			v.Window = r.Window
			v.Streak.Passing, v.Streak.Failing = pass, fail
			if verdict == VerdictGraduate && pass == 0 {
				// the streak that moved traffic, reset for the next step
				v.Streak.Passing = pol.GraduateAfter
			}
		}
	}
	v.Traffic.Step = step
	v.Traffic.Percent = pol.Steps[step]
	v.Override = ov
	if len(recs) > 0 {
		last := recs[len(recs)-1]
		v.ValidUntil = last.Window.End.Add(pol.Freshness.D())
		names := make([]string, 0, len(last.Classes))
		for c := range last.Classes {
			names = append(names, c)
		}
		sort.Strings(names)
		for _, c := range names {
			if allowed[c] {
				v.AIAllowedClasses = append(v.AIAllowedClasses, c)
			} else {
				v.LegacyOnlyClasses = append(v.LegacyOnlyClasses, c)
			}
		}
		v.Decommission = decommission(window, parityRun, recs, sawRollback, recovered, reconCleanRuns, reconSeen)
		v.DecommissionReady = true
		for _, c := range v.Decommission {
			v.DecommissionReady = v.DecommissionReady && c.Met
		}
	}
	return v
}

func initialStep(pol config.Policy) int {
	for i, s := range pol.Steps {
		if s == pol.InitialPercent {
			return i
		}
	}
	return 0
}

// anytimeOK is the repeated-look-safe graduation check: the asymptotic
// confidence sequence (Waudby-Smith et al. 2021) for the mean paired
// difference in correctness (AI right − legacy right) over the streak's
// labelled requests must lie above −margin. Unlike a fixed-n test applied
// every window, its coverage holds at every look, so judging daily for
// weeks does not inflate false graduations (see eval/stats SimulateGraduation).
func anytimeOK(pol config.Policy, streak []WindowRecord) bool {
	var t stats.Paired2x2
	for _, r := range streak {
		t.BothRight += r.Paired.BothRight
		t.LegacyOnly += r.Paired.LegacyOnly
		t.AIOnly += r.Paired.AIOnly
		t.BothWrong += r.Paired.BothWrong
	}
	n := t.N()
	if n == 0 {
		return false
	}
	b, c := float64(t.LegacyOnly)/float64(n), float64(t.AIOnly)/float64(n)
	mean := c - b
	variance := b + c - mean*mean
	ci := stats.ConfidenceSequence(n, mean, variance, pol.Alpha, n)
	return ci.Lo > -pol.Margin
}

// shareOff compares the observed AI share with the step's expected share
// and describes a significant difference (Wilson interval excludes it).
func shareOff(share float64, n int64, expected float64) string {
	k := int64(math.Round(share * float64(n)))
	ci := stats.Wilson(k, n, 0.999)
	if expected < ci.Lo || expected > ci.Hi {
		return fmt.Sprintf("routing share off: AI served %.1f%% of %d requests, the traffic step allows %.1f%%", 100*share, n, 100*expected)
	}
	return ""
}

// decommissionDays is how long parity must have held before the legacy
// system may be retired.
const decommissionDays = 30

// decommission lists the readiness items for retiring the legacy system.
// parityRun is how many of the last records form the parity streak.
func decommission(window time.Duration, parityRun int, recs []WindowRecord, sawRollback, recovered bool, reconClean int, reconSeen bool) []Check {
	last := recs[len(recs)-1]
	days := float64(parityRun) * window.Hours() / 24
	var out []Check
	out = append(out, Check{Item: "parity in every input class for at least 30 consecutive days", Met: days >= decommissionDays, Evidence: fmt.Sprintf("%.1f consecutive days of parity", days)})
	enough := len(last.Classes) > 0
	var short []string
	for c, s := range last.Classes {
		if s == StatusInsufficient {
			enough = false
			short = append(short, c)
		}
	}
	sort.Strings(short)
	ev := "every input class had enough data in the latest window"
	if !enough {
		ev = fmt.Sprintf("input classes without enough data: %v", short)
	}
	out = append(out, Check{Item: "every input class seen with enough data", Met: enough, Evidence: ev})
	// The audit trail must be complete on every record the decision to
	// retire rests on, not just the latest window's: every window of the
	// parity streak, and at least of the last 30 days.
	from := len(recs) - parityRun
	cutoff := last.Window.End.Add(-decommissionDays * 24 * time.Hour)
	for from > 0 && !recs[from-1].Window.Start.Before(cutoff) {
		from--
	}
	out = append(out, auditCheck(recs[from:]))
	rb := "no rollback recorded in history"
	if sawRollback && recovered {
		rb = "a rollback followed by recovery is recorded"
	} else if sawRollback {
		rb = "a rollback is recorded, not yet followed by a passing window"
	}
	out = append(out, Check{Item: "a rollback followed by recovery recorded (the rollback path was exercised)", Met: sawRollback && recovered, Evidence: rb})
	re := "no reconciliation runs recorded"
	if reconSeen {
		re = fmt.Sprintf("%d consecutive clean reconciliation runs", reconClean)
	}
	out = append(out, Check{Item: "reconciliation clean for 30 consecutive runs", Met: reconClean >= 30, Evidence: re})
	return out
}

// auditCheck is met only when every window's audit figure is 1. A window
// without one (audit columns not logged, or no records) is no evidence of
// completeness, so it leaves the item unmet.
func auditCheck(recs []WindowRecord) Check {
	c := Check{Item: "audit trail complete (request id, input hash, model version, timestamp and, unless the AI call errored, confidence on every record)"}
	var k float64
	var n int64
	counted := true // every window with a figure has its record count (older histories have none)
	low, complete := -1, 0
	var unlogged []Window
	for i, r := range recs {
		ac := float64(r.AuditComplete)
		if math.IsNaN(ac) {
			unlogged = append(unlogged, r.Window)
			continue
		}
		if ac == 1 {
			complete++
		}
		if low < 0 || ac < float64(recs[low].AuditComplete) {
			low = i
		}
		k += ac * float64(r.AuditN)
		n += r.AuditN
		counted = counted && r.AuditN > 0
	}
	since := windowLabel(recs[0].Window)
	span := fmt.Sprintf("the %d windows since %s", len(recs), since)
	if len(recs) == 1 {
		span = "the window of " + since
	}
	var ev string
	switch {
	case low < 0:
		ev = "audit columns not logged in " + span
	case counted:
		ev = fmt.Sprintf("%s of records complete over %s", auditPct(k/float64(n)), span)
	default:
		ev = fmt.Sprintf("every record complete in %d of %d windows since %s", complete, len(recs), since)
	}
	if low >= 0 && recs[low].AuditComplete < 1 {
		ev += fmt.Sprintf(" (lowest %s on %s)", auditPct(float64(recs[low].AuditComplete)), windowLabel(recs[low].Window))
	}
	if low >= 0 && len(unlogged) > 0 {
		ev += fmt.Sprintf("; no audit figure in %d of them (first on %s)", len(unlogged), windowLabel(unlogged[0]))
	}
	c.Met = complete == len(recs)
	c.Evidence = ev
	return c
}

// auditPct formats a share as a percentage; a share short of 1 never reads as
// 100%.
func auditPct(x float64) string {
	p := math.Round(x*1e5) / 1e3
	if x < 1 && p >= 100 {
		p = 99.999
	}
	return fmt.Sprintf("%.3f%%", p)
}

// windowLabel names a window by its day, or by its start time when
// windows are shorter than a day.
func windowLabel(w Window) string {
	if d := w.End.Sub(w.Start); d%(24*time.Hour) == 0 && w.Start.Equal(w.Start.Truncate(24*time.Hour)) {
		return w.Start.UTC().Format("2006-01-02")
	}
	return w.Start.UTC().Format("2006-01-02T15:04Z")
}

// quoteList is "a", "a and b" or "a, b and c", quoted.
func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}
