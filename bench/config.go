package bench

import (
	"fmt"
	"os"
	"path/filepath"
)

// Config is the parity configuration the benchmark evaluates: the demo's
// three decision features (categorical fields with inline labels, JSON
// fields with a numeric comparator) with every built-in scorer, latency
// bound and statistical test enabled, over dir/logs. Labels are inline
// (label_category) so the evaluation reads nothing but the log.
const Config = `version: 1
source:
  logs: logs
output: out
window: 24h
stats: {alpha: 0.05, power: 0.8, adjust: holm}
baseline: {windows: 3}
features:
  - name: ticket_routing
    fields:
      - {name: category, legacy: legacy_category, ai: ai_category, label: label_category, critical: true}
    criteria: {min_agreement: 0.95, quality_margin: 0.03, max_p95_latency_ms: 2000, max_error_rate: 0.05}
    policy: {graduate_after: 14, rollback_after: 2, steps: [0, 10, 25, 50, 100], initial_percent: 10}
  - name: refund_approval
    fields:
      - {name: decision, legacy: legacy_category, ai: ai_category, label: label_category, critical: true}
    criteria: {min_agreement: 0.95, quality_margin: 0.03, max_p95_latency_ms: 2000, max_error_rate: 0.05}
    policy: {graduate_after: 14, rollback_after: 2, steps: [0, 10, 25, 50, 100], initial_percent: 10}
  - name: invoice_extraction
    fields:
      - {name: amount, legacy_json: legacy_output, ai_json: ai_output, path: $.amount, comparator: numeric, abs_tolerance: 0.01, label: "-", critical: true}
      - {name: currency, legacy_json: legacy_output, ai_json: ai_output, path: $.currency, label: "-", critical: true}
      - {name: vendor, legacy_json: legacy_output, ai_json: ai_output, path: $.vendor, comparator: case_insensitive, label: "-"}
    criteria: {min_agreement: 0.95, max_p95_latency_ms: 2500, max_error_rate: 0.05}
    policy: {graduate_after: 14, rollback_after: 2, steps: [0, 10, 25, 50, 100], initial_percent: 10}
`

// WriteConfig writes Config to dir/parity.yaml and returns its path.
func WriteConfig(dir string) (string, error) {
	p := filepath.Join(dir, "parity.yaml")
	if err := os.WriteFile(p, []byte(Config), 0o644); err != nil {
		return "", fmt.Errorf("bench: %w", err)
	}
	return p, nil
}
