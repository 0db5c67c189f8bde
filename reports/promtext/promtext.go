// Package promtext turns a verdicts document into Prometheus metrics: the
// text exposition file node_exporter's textfile collector reads
// (metrics/parity.prom, written by every run) and an optional push to a
// Pushgateway. The format and the push protocol come from
// prometheus/client_golang; nothing here writes exposition text by hand.
//
// Every series is a gauge labelled by feature (and class where per class):
//
//	parity_verdict{feature,verdict}                       1 for the current verdict, 0 for the others
//	parity_verdict_traffic_percent{feature}               AI traffic share the verdict allows
//	parity_verdict_streak_passing_windows{feature}        consecutive passing windows
//	parity_verdict_streak_failing_windows{feature}        consecutive failing windows
//	parity_verdict_valid_until_timestamp_seconds{feature} alert on time() > this: stale, legacy only
//	parity_verdict_override{feature,kind}                 1 while force_legacy / freeze is in force
//	parity_verdict_alerts{feature,severity}               alerts in the verdict, by severity
//	parity_verdict_decommission_ready{feature}            1 when every readiness item is met
//	parity_class_status{feature,class,status}             1 for the class's current status
//	parity_class_agreement_ratio{feature,class}           agreement on critical fields (1 - divergence)
//	parity_class_requests{feature,class}                  requests evaluated in the window
//	parity_class_ai_allowed{feature,class}                1 when the class is on the AI allow-list
//	parity_class_ai_served_ratio{feature,class}           share of requests the AI served (served_by), to compare with the step
//	parity_window_end_timestamp_seconds                   end of the newest evaluated window
//	parity_evaluation_last_success_timestamp_seconds      when the run that wrote these finished
package promtext

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	"github.com/prometheus/common/expfmt"

	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/reports"
)

// Verdicts and statuses enumerated as state-set series, so a dashboard
// or alert can match one with == 1 and every state is always present.
var (
	verdicts = []string{eval.VerdictGraduate, eval.VerdictHold, eval.VerdictRollback}
	statuses = []string{eval.StatusPass, eval.StatusFail, eval.StatusInsufficient, eval.StatusError}
	severity = []string{"critical", "warning", "info"}
)

// Registry builds a fresh registry holding the document's metrics.
// finished is the time the run succeeded.
func Registry(doc *reports.Verdicts, finished time.Time) (*prometheus.Registry, error) {
	if doc == nil {
		return nil, fmt.Errorf("promtext: no verdicts document")
	}
	reg := prometheus.NewRegistry()
	g := func(name, help string, labels ...string) *prometheus.GaugeVec {
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
		reg.MustRegister(v)
		return v
	}
	verdict := g("parity_verdict", "1 for the feature's current verdict (graduate, hold, rollback), 0 for the others.", "feature", "verdict")
	traffic := g("parity_verdict_traffic_percent", "AI traffic share in percent the verdict allows (the traffic step).", "feature")
	passing := g("parity_verdict_streak_passing_windows", "Consecutive passing windows.", "feature")
	failing := g("parity_verdict_streak_failing_windows", "Consecutive failing windows.", "feature")
	validUntil := g("parity_verdict_valid_until_timestamp_seconds", "The verdict is valid until this Unix time; past it a consumer must use legacy only.", "feature")
	override := g("parity_verdict_override", "1 while a human override (force_legacy, freeze) is in force.", "feature", "kind")
	alerts := g("parity_verdict_alerts", "Alerts in the feature's verdict by severity.", "feature", "severity")
	decom := g("parity_verdict_decommission_ready", "1 when every decommission readiness item is met.", "feature")
	status := g("parity_class_status", "1 for the input class's current status (pass, fail, insufficient_data, error).", "feature", "class", "status")
	agreement := g("parity_class_agreement_ratio", "Agreement between AI and legacy on critical fields (1 - divergence) in the window.", "feature", "class")
	requests := g("parity_class_requests", "Requests evaluated in the window.", "feature", "class")
	allowed := g("parity_class_ai_allowed", "1 when the input class is on the AI routing allow-list.", "feature", "class")
	served := g("parity_class_ai_served_ratio", "Share of the class's requests the AI served (served_by) in the window; compare with parity_verdict_traffic_percent / 100.", "feature", "class")
	g("parity_window_end_timestamp_seconds", "End of the newest evaluated window (Unix time).").WithLabelValues().Set(unix(doc.Window.End))
	g("parity_evaluation_last_success_timestamp_seconds", "When the evaluation that wrote these metrics completed (Unix time).").WithLabelValues().Set(unix(finished))

	for name, fd := range doc.Features {
		for _, v := range verdicts {
			verdict.WithLabelValues(name, v).Set(b2f(fd.Verdict == v))
		}
		traffic.WithLabelValues(name).Set(fd.Traffic.Percent)
		passing.WithLabelValues(name).Set(float64(fd.Streak.Passing))
		failing.WithLabelValues(name).Set(float64(fd.Streak.Failing))
		validUntil.WithLabelValues(name).Set(unix(fd.ValidUntil))
		ov := fd.Override
		override.WithLabelValues(name, "force_legacy").Set(b2f(ov != nil && ov.ForceLegacy))
		override.WithLabelValues(name, "freeze").Set(b2f(ov != nil && ov.Freeze))
		count := map[string]int{}
		for _, a := range fd.Alerts {
			count[a.Severity]++
		}
		for _, s := range severity {
			alerts.WithLabelValues(name, s).Set(float64(count[s]))
		}
		decom.WithLabelValues(name).Set(b2f(fd.DecommissionReady))
		ok := map[string]bool{}
		for _, c := range fd.AIAllowedClasses {
			ok[c] = true
		}
		for cls, cd := range fd.Classes {
			for _, s := range statuses {
				status.WithLabelValues(name, cls, s).Set(b2f(cd.Status == s))
			}
			if m, found := cd.Metrics["divergence.critical"]; found && m.Value != nil {
				agreement.WithLabelValues(name, cls).Set(1 - *m.Value)
			}
			requests.WithLabelValues(name, cls).Set(float64(cd.N))
			if m, found := cd.Metrics["ai_share"]; found && m.Value != nil {
				served.WithLabelValues(name, cls).Set(*m.Value)
			}
			allowed.WithLabelValues(name, cls).Set(b2f(ok[cls]))
		}
	}
	return reg, nil
}

// Text renders the registry in the text exposition format (the format
// node_exporter's textfile collector reads), metric families sorted.
func Text(reg prometheus.Gatherer) ([]byte, error) {
	mfs, err := reg.Gather()
	if err != nil {
		return nil, fmt.Errorf("promtext: gather: %w", err)
	}
	sort.Slice(mfs, func(i, j int) bool { return mfs[i].GetName() < mfs[j].GetName() })
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return nil, fmt.Errorf("promtext: encode %s: %w", mf.GetName(), err)
		}
	}
	return b.Bytes(), nil
}

// Push replaces the job's group on a Pushgateway with the registry's
// metrics (HTTP PUT), grouped by instance (e.g. the output location) so
// two parity deployments do not overwrite each other.
func Push(ctx context.Context, url, job, instance string, reg prometheus.Gatherer, client *http.Client) error {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	p := push.New(url, job).Gatherer(reg).Client(client)
	if instance != "" {
		p = p.Grouping("instance", instance)
	}
	if err := p.PushContext(ctx); err != nil {
		return fmt.Errorf("pushgateway %s: %w", url, err)
	}
	return nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unix(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
