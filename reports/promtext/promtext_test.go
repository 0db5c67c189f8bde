package promtext_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/reports"
	"github.com/parity-eval/parity/reports/promtext"
)

func f64(v float64) *float64 { return &v }

func sampleDoc() *reports.Verdicts {
	end := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	fd := &reports.FeatureDoc{Status: eval.StatusFail, Classes: map[string]*reports.ClassDoc{
		"small": {Status: eval.StatusPass, N: 1200, Metrics: map[string]reports.MetricDoc{"divergence.critical": {Value: f64(0.03)}, "ai_share": {Value: f64(0.24)}}},
		"large": {Status: eval.StatusFail, N: 300, Metrics: map[string]reports.MetricDoc{"divergence.critical": {Value: f64(0.25)}}},
	}}
	fd.Verdict = eval.VerdictHold
	fd.Traffic = eval.Traffic{Percent: 25, Step: 3}
	fd.Streak = eval.Streak{Passing: 0, Failing: 1}
	fd.ValidUntil = end.Add(24 * time.Hour)
	fd.AIAllowedClasses = []string{"small"}
	fd.Override = &eval.Override{Freeze: true, By: "a", Reason: "b"}
	fd.Alerts = []eval.Alert{{Severity: "critical", Message: "x"}, {Severity: "warning", Message: "y"}, {Severity: "warning", Message: "z"}}
	return &reports.Verdicts{Window: eval.Window{Start: end.Add(-24 * time.Hour), End: end}, Features: map[string]*reports.FeatureDoc{"refunds": fd}}
}

// value finds the gauge with exactly these labels.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	mf, ok := fams[name]
	if !ok {
		t.Fatalf("metric %s missing", name)
	}
	for _, m := range mf.GetMetric() {
		match := len(m.GetLabel()) == len(labels)
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				match = false
			}
		}
		if match {
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("%s%v missing", name, labels)
	return 0
}

func parse(t *testing.T, data []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("exposition text does not parse: %v\n%s", err, data)
	}
	return fams
}

func TestTextfileParses(t *testing.T) {
	doc := sampleDoc()
	done := time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC)
	reg, err := promtext.Registry(doc, done)
	if err != nil {
		t.Fatal(err)
	}
	data, err := promtext.Text(reg)
	if err != nil {
		t.Fatal(err)
	}
	fams := parse(t, data)
	fd := doc.Features["refunds"]
	ft := map[string]string{"feature": "refunds"}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"parity_verdict", map[string]string{"feature": "refunds", "verdict": "hold"}, 1},
		{"parity_verdict", map[string]string{"feature": "refunds", "verdict": "graduate"}, 0},
		{"parity_verdict_traffic_percent", ft, fd.Traffic.Percent},
		{"parity_verdict_streak_failing_windows", ft, float64(fd.Streak.Failing)},
		{"parity_verdict_valid_until_timestamp_seconds", ft, float64(fd.ValidUntil.Unix())},
		{"parity_verdict_override", map[string]string{"feature": "refunds", "kind": "freeze"}, 1},
		{"parity_verdict_override", map[string]string{"feature": "refunds", "kind": "force_legacy"}, 0},
		{"parity_verdict_alerts", map[string]string{"feature": "refunds", "severity": "warning"}, 2},
		{"parity_verdict_alerts", map[string]string{"feature": "refunds", "severity": "critical"}, 1},
		{"parity_verdict_alerts", map[string]string{"feature": "refunds", "severity": "info"}, 0},
		{"parity_class_status", map[string]string{"feature": "refunds", "class": "large", "status": "fail"}, 1},
		{"parity_class_status", map[string]string{"feature": "refunds", "class": "large", "status": "pass"}, 0},
		{"parity_class_agreement_ratio", map[string]string{"feature": "refunds", "class": "large"}, 1 - *fd.Classes["large"].Metrics["divergence.critical"].Value},
		{"parity_class_requests", map[string]string{"feature": "refunds", "class": "small"}, float64(fd.Classes["small"].N)},
		{"parity_class_ai_allowed", map[string]string{"feature": "refunds", "class": "small"}, 1},
		{"parity_class_ai_served_ratio", map[string]string{"feature": "refunds", "class": "small"}, *fd.Classes["small"].Metrics["ai_share"].Value},
		{"parity_class_ai_allowed", map[string]string{"feature": "refunds", "class": "large"}, 0},
		{"parity_evaluation_last_success_timestamp_seconds", nil, float64(done.Unix())},
		{"parity_window_end_timestamp_seconds", nil, float64(doc.Window.End.Unix())},
	}
	for _, c := range checks {
		if got := value(t, fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %g, want %g", c.name, c.labels, got, c.want)
		}
	}
	if fams["parity_verdict"].GetType() != dto.MetricType_GAUGE || fams["parity_verdict"].GetHelp() == "" {
		t.Error("parity_verdict should be a documented gauge")
	}
}

// TestPushgateway pushes to a recording HTTP server speaking the
// Pushgateway API (a real pushgateway binary is not available here).
func TestPushgateway(t *testing.T) {
	var mu sync.Mutex
	var method, path, ctype string
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		method, path, ctype = r.Method, r.URL.Path, r.Header.Get("Content-Type")
		body, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	reg, err := promtext.Registry(sampleDoc(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := promtext.Push(context.Background(), srv.URL, "parity", "s3://bucket/out", reg, nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if method != http.MethodPut {
		t.Errorf("method %s, want PUT (replace the group)", method)
	}
	if !strings.HasPrefix(path, "/metrics/job/parity/instance") {
		t.Errorf("path %s, want /metrics/job/parity/instance...", path)
	}
	// The push body is the protobuf delimited format; decode it with
	// expfmt as the gateway would.
	dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.Format(ctype))
	found := false
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err != nil {
			if err != io.EOF {
				t.Fatalf("decode pushed body (%s): %v", ctype, err)
			}
			break
		}
		if mf.GetName() == "parity_verdict_traffic_percent" && mf.GetMetric()[0].GetGauge().GetValue() == 25 {
			found = true
		}
	}
	if !found {
		t.Error("pushed body lacks parity_verdict_traffic_percent = 25")
	}
	// A failing gateway is an error naming it.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nope", 500) }))
	defer bad.Close()
	if err := promtext.Push(context.Background(), bad.URL, "parity", "", reg, nil); err == nil || !strings.Contains(err.Error(), bad.URL) {
		t.Errorf("push to failing gateway: err = %v", err)
	}
}
