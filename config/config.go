// Package config loads and validates parity's YAML configuration. Every
// check runs before any data is read, and every error names the file, the
// line and the key, so an operator can fix a bad deploy from the log line
// alone.
package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/parity-eval/parity/scorers/jsonpath"
	"gopkg.in/yaml.v3"
)

// Config is the whole configuration file.
type Config struct {
	// Version of the config format; 1.
	Version int `yaml:"version"`
	// Source locations (local path or s3://bucket/prefix).
	Source Source `yaml:"source"`
	// Output location (local path or s3://bucket/prefix).
	Output string `yaml:"output"`
	// S3 settings for every s3:// location.
	S3 S3 `yaml:"s3"`
	// Window is the evaluation window length, e.g. 24h or 6h. Windows are
	// aligned to multiples of the length since the Unix epoch (UTC), so a
	// 24h window runs from midnight UTC to midnight UTC.
	Window Duration `yaml:"window"`
	// Columns remaps the data contract's default column names.
	Columns Columns `yaml:"columns"`
	// Stats sets the statistical defaults for every feature.
	Stats Stats `yaml:"stats"`
	// Baseline is the reference period for drift tests.
	Baseline Baseline `yaml:"baseline"`
	// Features to evaluate.
	Features []Feature `yaml:"features"`
	// Jobs for `parity run --job` and `parity schedule`.
	Jobs []Job `yaml:"jobs"`
	// Reconcile jobs' dataset settings, by name.
	Reconcile []Reconcile `yaml:"reconcile"`
	// Publish configures what routers, flag systems and monitoring read
	// (flagd file, metrics, overrides); see docs/routers.md.
	Publish Publish `yaml:"publish"`

	// Path is the file the config was loaded from.
	Path string `yaml:"-"`
	// Hash is the SHA-256 of the file's bytes, recorded in every output.
	Hash string `yaml:"-"`
	// Raw holds the file's bytes, copied into reports for reproduction.
	Raw []byte `yaml:"-"`
}

// Source names the input datasets.
type Source struct {
	Logs   string `yaml:"logs"`
	Labels string `yaml:"labels"`
	// LabelsKey is the join column in the labels dataset; default request_id.
	LabelsKey string `yaml:"labels_key"`
}

// S3 holds settings for s3:// locations. Empty values fall back to the
// standard AWS chain (AWS_REGION, AWS_ENDPOINT_URL_S3, profile, IRSA, IMDS).
type S3 struct {
	Endpoint  string `yaml:"endpoint"`
	Region    string `yaml:"region"`
	PathStyle bool   `yaml:"path_style"`
}

// Columns maps the data contract's logical names to the dataset's columns.
type Columns struct {
	RequestID       string `yaml:"request_id"`
	TS              string `yaml:"ts"`
	Feature         string `yaml:"feature"`
	InputClass      string `yaml:"input_class"`
	AIConfidence    string `yaml:"ai_confidence"`
	AIModelVersion  string `yaml:"ai_model_version"`
	InputHash       string `yaml:"input_hash"`
	LegacyLatencyMS string `yaml:"legacy_latency_ms"`
	AILatencyMS     string `yaml:"ai_latency_ms"`
	LegacyError     string `yaml:"legacy_error"`
	AIError         string `yaml:"ai_error"`
	LegacyCost      string `yaml:"legacy_cost"`
	AICost          string `yaml:"ai_cost"`
	ServedBy        string `yaml:"served_by"`
}

// Stats are the statistical settings.
type Stats struct {
	// Alpha is the significance level of every test (default 0.05).
	Alpha float64 `yaml:"alpha"`
	// Power is the power at which a class is judged to have enough data
	// (default 0.8).
	Power float64 `yaml:"power"`
	// Adjust is the multiple-comparison method across classes and
	// criteria of a feature in a window: holm (default) or bh.
	Adjust string `yaml:"adjust"`
	// Graduation is the rule the graduation decision uses: consecutive
	// (N consecutive passing windows, default) or anytime (additionally
	// requires the anytime-valid confidence sequence over all windows in
	// the streak to show non-inferiority).
	Graduation string `yaml:"graduation"`
}

// Baseline selects the drift reference.
type Baseline struct {
	// Windows: the first N evaluated windows form the baseline (default 7).
	Windows int `yaml:"windows"`
	// From/To: a named period instead of the first windows.
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

// Feature is one AI feature under evaluation.
type Feature struct {
	Name string `yaml:"name"`
	// ClassColumn overrides columns.input_class for this feature.
	ClassColumn string `yaml:"class_column"`
	// ExpectedClasses, when set, are classes that must appear in every
	// window; a missing one is insufficient_data.
	ExpectedClasses []string    `yaml:"expected_classes"`
	Fields          []Field     `yaml:"fields"`
	Scorers         []ScorerDef `yaml:"scorers"`
	Criteria        Criteria    `yaml:"criteria"`
	Policy          Policy      `yaml:"policy"`
	// DriftColumns are input columns tested for drift against the baseline.
	DriftColumns []string `yaml:"drift_columns"`
}

// Field is one decision field, produced by both systems.
type Field struct {
	Name string `yaml:"name"`
	// Legacy and AI name one column per system, or
	Legacy string `yaml:"legacy"`
	AI     string `yaml:"ai"`
	// LegacyJSON and AIJSON name a JSON string column per system and Path
	// the JSON path of this field inside it ($.amount, $.items[0].sku).
	LegacyJSON string `yaml:"legacy_json"`
	AIJSON     string `yaml:"ai_json"`
	Path       string `yaml:"path"`
	// Label is the ground-truth column (in the logs or the labels
	// dataset); default label_<name>. "-" disables labels for the field.
	Label string `yaml:"label"`
	// Comparator: exact (default), case_insensitive, numeric, set.
	Comparator   string  `yaml:"comparator"`
	AbsTolerance float64 `yaml:"abs_tolerance"`
	RelTolerance float64 `yaml:"rel_tolerance"`
	// Separator splits set-valued fields (default ",").
	Separator string `yaml:"separator"`
	// Critical fields take part in the agreement criterion.
	Critical bool `yaml:"critical"`
}

// ScorerDef configures a declarative or external scorer.
type ScorerDef struct {
	Name string `yaml:"name"`
	// Type: a registered scorer type (token_f1, edit_similarity, regex,
	// json_equal, numeric_range, jaccard, normalized_equal, ...) or
	// "external".
	Type      string            `yaml:"type"`
	Legacy    string            `yaml:"legacy"`
	AI        string            `yaml:"ai"`
	Label     string            `yaml:"label"`
	Threshold float64           `yaml:"threshold"`
	Params    map[string]string `yaml:"params"`
	// Command runs an external scorer (argv).
	Command []string `yaml:"command"`
	Timeout Duration `yaml:"timeout"`
	// MinPassRate is the pass-rate criterion on the scorer's per-row
	// pass/fail (AI side); 0 = reported only.
	MinPassRate float64 `yaml:"min_pass_rate"`
}

// Criteria are the per-class rules a window must meet to pass.
type Criteria struct {
	// MinAgreement on all critical fields together (default 0.95): the
	// class fails when divergence exceeds 1-MinAgreement.
	MinAgreement float64 `yaml:"min_agreement"`
	// QualityMargin: AI accuracy must be no worse than legacy accuracy
	// minus this margin (default 0.02), judged on labelled requests.
	QualityMargin float64 `yaml:"quality_margin"`
	// RequireLabels makes quality a criterion even when no labels arrived
	// (then the class is insufficient_data). Default true when a label
	// column exists for a critical field.
	RequireLabels *bool `yaml:"require_labels"`
	// MaxP95LatencyMS bounds the AI's P95 latency; 0 disables.
	MaxP95LatencyMS float64 `yaml:"max_p95_latency_ms"`
	// MaxErrorRate bounds the AI's error rate; 0 disables.
	MaxErrorRate float64 `yaml:"max_error_rate"`
	// CostBudgetPerWindow bounds the AI's total cost per window (warning);
	// 0 disables. CostRollbackFactor: rollback trigger when cost exceeds
	// budget × factor (0 disables).
	CostBudgetPerWindow float64 `yaml:"cost_budget_per_window"`
	CostRollbackFactor  float64 `yaml:"cost_rollback_factor"`
	// CriticalAgreement: agreement below this is a critical alert and an
	// immediate rollback trigger (default 0.80).
	CriticalAgreement float64 `yaml:"critical_agreement"`
	// Baseline judges metrics against their own baseline period (see
	// BaselineCriterion).
	Baseline []BaselineCriterion `yaml:"baseline"`
}

// BaselineCriterion bounds how far a proportion metric may fall below
// its value in the baseline period, tested (two independent
// proportions) rather than compared with a fixed bound. Metric names an
// agreement / rate aggregate (agreement.critical, agreement.<field>),
// one system's accuracy (accuracy.<field>.ai) or a scorer's pass rate
// (<scorer>.pass_rate). Give exactly one of MaxDrop (absolute, 0.02 = 2
// points) and MaxRelativeDrop (0.1 = 10% of the baseline value).
type BaselineCriterion struct {
	Metric          string  `yaml:"metric"`
	MaxDrop         float64 `yaml:"max_drop"`
	MaxRelativeDrop float64 `yaml:"max_relative_drop"`
}

// Policy turns window history into verdicts.
type Policy struct {
	// GraduateAfter consecutive passing windows (default 14).
	GraduateAfter int `yaml:"graduate_after"`
	// RollbackAfter consecutive failing windows (default 2).
	RollbackAfter int `yaml:"rollback_after"`
	// Freshness: a verdict is valid until window end + freshness
	// (default 24h).
	Freshness Duration `yaml:"freshness"`
	// Steps of AI traffic share in percent (default 0,1,5,25,50,100).
	Steps []float64 `yaml:"steps"`
	// Graduation rule for this feature: consecutive or anytime (default:
	// stats.graduation). Alpha and Margin are copied from stats.alpha and
	// criteria.quality_margin for the policy's use.
	Graduation string  `yaml:"graduation"`
	Alpha      float64 `yaml:"-"`
	Margin     float64 `yaml:"-"`
	// InitialPercent is the AI share in effect before parity's first
	// verdict (a canary already running); must be one of Steps. Default 0.
	InitialPercent float64 `yaml:"initial_percent"`
	// ForceLegacy (kill switch) and Freeze override computed verdicts.
	ForceLegacy bool   `yaml:"force_legacy"`
	Freeze      bool   `yaml:"freeze"`
	OverrideBy  string `yaml:"override_by"`
	OverrideWhy string `yaml:"override_reason"`
	OverrideAt  string `yaml:"override_at"`
}

// Job is a scheduled or one-shot unit of work.
type Job struct {
	Name string `yaml:"name"`
	// Kind: evaluate (default), backfill, report, reconcile.
	Kind string `yaml:"kind"`
	// Schedule is a cron expression, optionally prefixed "TZ=Zone ".
	Schedule string `yaml:"schedule"`
	// Features limits the job to these features (default all).
	Features []string `yaml:"features"`
	// CatchUp is how many missed windows the daemon evaluates after
	// downtime, oldest first (default 3).
	CatchUp int `yaml:"catch_up"`
	// Jitter delays each run by up to this much.
	Jitter Duration `yaml:"jitter"`
	// Reconcile names a reconcile section (kind reconcile).
	Reconcile string `yaml:"reconcile"`
	// Report writes an HTML report per run when true.
	Report bool `yaml:"report"`
	// Windows: for kind backfill, each run re-evaluates the last N
	// complete windows (e.g. to pick up late labels); ignored when From
	// is set.
	Windows int `yaml:"windows"`
	// From and To bound a backfill job's windows (RFC 3339 or dates; To
	// defaults to the end of the last complete window).
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

// Publish configures the router-facing outputs every run writes
// (jobs/publish.go, docs/routers.md).
type Publish struct {
	// FlagPrefix is prepended to feature names to form flagd flag keys.
	FlagPrefix string `yaml:"flag_prefix"`
	// Textfile, when set, is a local file (e.g. in node_exporter's
	// textfile directory) written atomically with the metrics, in
	// addition to metrics/parity.prom in the output location.
	Textfile string `yaml:"textfile"`
	// Pushgateway, when set, is a Pushgateway URL the metrics are pushed
	// to after each run (job PushJob, default "parity").
	Pushgateway string `yaml:"pushgateway"`
	PushJob     string `yaml:"push_job"`
	// Overrides is the overrides file (local path or s3:// URI); default
	// overrides.yaml in the output location, where a missing file means
	// no overrides. A file named here must exist.
	Overrides string `yaml:"overrides"`
}

func (p *Publish) validate(add func(key, format string, a ...any)) {
	if p.FlagPrefix != "" && !nameRE.MatchString(p.FlagPrefix) {
		add("publish.flag_prefix", "%q: use letters, digits, _ . - only (flagd flag keys)", p.FlagPrefix)
	}
	if p.Pushgateway != "" {
		if u, err := url.Parse(p.Pushgateway); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("publish.pushgateway", "%q: want an http(s) URL such as http://pushgateway:9091", p.Pushgateway)
		} else if u.User != nil {
			add("publish.pushgateway", "%s: credentials in the URL are refused (the config is copied into every report and the URL into logs)", u.Redacted())
		}
	}
	if p.PushJob != "" && !nameRE.MatchString(p.PushJob) {
		add("publish.push_job", "%q: use letters, digits, _ . - only", p.PushJob)
	}
}

// Reconcile configures a dual-write reconciliation.
type Reconcile struct {
	Name           string   `yaml:"name"`
	Legacy         string   `yaml:"legacy"`
	New            string   `yaml:"new"`
	Key            string   `yaml:"key"`
	TypeColumn     string   `yaml:"type_column"`
	CriticalFields []Field  `yaml:"critical_fields"`
	Tolerance      float64  `yaml:"tolerance"`
	MemoryLimitMB  int      `yaml:"memory_limit_mb"`
	SampleKeys     int      `yaml:"sample_keys"`
	RunPartition   string   `yaml:"run_partition"`
	Types          []string `yaml:"types"`
	// SampleValues adds both sides' critical-field values to mismatch
	// samples; off by default because entity stores hold personal data.
	SampleValues bool `yaml:"sample_values"`
	// AlertAfter consecutive failing runs of an entity type raise an
	// alert (default 2).
	AlertAfter int `yaml:"alert_after"`
}

// Duration is a time.Duration written as "6h", "30m" or "7d".
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalYAML accepts Go durations plus a "d" (day) suffix.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return &lineError{line: n.Line, msg: err.Error()}
	}
	*d = Duration(v)
	return nil
}

// ParseDuration parses "90m", "6h", "1d", "7d".
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil {
			return 0, fmt.Errorf("duration %q: want a whole number of days like 7d, or 6h, 30m", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want e.g. 6h, 24h, 30m or 7d", s)
	}
	return v, nil
}

type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// Error is a validation error pointing at a line and key of the file.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.File, e.Key, e.Msg)
}

// Errors is every validation error found, in file order.
type Errors []*Error

func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Load reads, parses, defaults and validates a config file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	c.resolve(filepath.Dir(path))
	return c, nil
}

// resolve makes relative local locations relative to the config file's
// folder, so a config and its data can move together.
func (c *Config) resolve(dir string) {
	fix := func(s *string) {
		if *s == "" || strings.Contains(*s, "://") || filepath.IsAbs(*s) {
			return
		}
		*s = filepath.Join(dir, *s)
	}
	fix(&c.Source.Logs)
	fix(&c.Source.Labels)
	fix(&c.Output)
	for i := range c.Reconcile {
		fix(&c.Reconcile[i].Legacy)
		fix(&c.Reconcile[i].New)
	}
}

var yamlLineRE = regexp.MustCompile(`line (\d+): (.*)`)

// Parse parses and validates config bytes; path is used in errors.
func Parse(path string, data []byte) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlErr(path, err)
	}
	if len(root.Content) == 0 {
		return nil, &Error{File: path, Line: 1, Key: "(file)", Msg: "empty config (want at least source, output and features)"}
	}
	// Check every value's shape and type first: decoding stops at the
	// first bad duration and names no key, so an operator would fix one
	// mistake per run.
	tc := typeChecker{path: path, seen: map[typedNode]bool{}}
	tc.check(root.Content[0], root.Content[0].Line, "", reflect.TypeFor[Config]())
	if len(tc.errs) > 0 {
		sort.SliceStable(tc.errs, func(i, j int) bool { return tc.errs[i].Line < tc.errs[j].Line })
		return nil, tc.errs
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, yamlErr(path, err)
	}
	c.Path = path
	c.Hash = HashBytes(data)
	c.Raw = append([]byte(nil), data...)
	lines := map[string]int{}
	indexLines(root.Content[0], "", lines)
	r := &report{path: path, lines: lines}
	c.applyDefaults(lines, r.add)
	c.validate(lines, r.add)
	if len(r.errs) > 0 {
		sort.SliceStable(r.errs, func(i, j int) bool { return r.errs[i].Line < r.errs[j].Line })
		return nil, r.errs
	}
	return &c, nil
}

// report collects validation errors at the lines of their keys.
type report struct {
	path  string
	lines map[string]int
	errs  Errors
}

func (r *report) add(key, format string, a ...any) {
	line := r.lines[key]
	for k := key; line == 0 && k != ""; {
		// fall back to the nearest enclosing key that has a line
		if i := strings.LastIndexAny(k, ".["); i >= 0 {
			k = k[:i]
		} else {
			k = ""
		}
		line = r.lines[k]
	}
	r.errs = append(r.errs, &Error{File: r.path, Line: line, Key: key, Msg: fmt.Sprintf(format, a...)})
}

// typeChecker walks the YAML tree alongside the Go type it decodes into
// and reports every value that would not decode, with its line and key
// path. Scalars are tried with yaml's own decoding, so what it accepts
// (yes for true, 1_000) is accepted here too.
type typeChecker struct {
	path string
	errs Errors
	// seen holds the mappings and lists already checked as a type: an
	// alias repeats its anchor's node, which is checked once, so a file
	// of nested aliases costs what its text does.
	seen map[typedNode]bool
}

type typedNode struct {
	n *yaml.Node
	t reflect.Type
}

var durationType = reflect.TypeFor[Duration]()

func (tc *typeChecker) add(line int, key, format string, a ...any) {
	if key == "" {
		key = "(file)"
	}
	tc.errs = append(tc.errs, &Error{File: tc.path, Line: line, Key: key, Msg: fmt.Sprintf(format, a...)})
}

// check reports what is wrong with n as a t at key; line is the key's.
func (tc *typeChecker) check(n *yaml.Node, line int, key string, t reflect.Type) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.ShortTag() == "!!null" {
		// A key with no value (`labels:`, `~`) is a key left out, as
		// YAML reads it: its default, or none (indexLines does not
		// count it as written).
		return
	}
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		tn := typedNode{n, t}
		if tc.seen[tn] {
			return
		}
		tc.seen[tn] = true
	}
	switch {
	case t == durationType:
		if _, err := ParseDuration(n.Value); n.Kind != yaml.ScalarNode || err != nil {
			tc.add(line, key, "want %s, got %s", want(t), got(n))
		}
	case t.Kind() == reflect.Pointer:
		tc.check(n, line, key, t.Elem())
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			tc.add(line, key, "want %s, got %s", want(t), got(n))
			return
		}
		for i, e := range n.Content {
			ek := fmt.Sprintf("%s[%d]", key, i)
			if e.ShortTag() == "!!null" && e.Kind == yaml.ScalarNode {
				// A list item has no default to leave it to.
				tc.add(e.Line, ek, "no value: want %s", want(t.Elem()))
				continue
			}
			tc.check(e, e.Line, ek, t.Elem())
		}
	case t.Kind() == reflect.Struct || t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			tc.add(line, key, "want %s, got %s", want(t), got(n))
			return
		}
		first := map[string]int{}
		own := map[string]bool{} // keys written here, which win over merged ones
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.ShortTag() != "!!merge" {
				own[k.Value] = true
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.AliasNode {
				k = k.Alias
			}
			if k.ShortTag() == "!!merge" {
				// "<<: *defaults" (or a list of them) adds the keys of
				// other mappings to this one; a key this mapping writes
				// itself overrides the merged one, which is not decoded.
				for _, m := range mergeSources(v) {
					tc.check(withoutKeys(m, own), k.Line, key, t)
				}
				continue
			}
			if k.Kind != yaml.ScalarNode {
				tc.add(k.Line, key, "want a key name, got %s", got(k))
				continue
			}
			kp := joinKey(key, k.Value)
			if l, dup := first[k.Value]; dup {
				tc.add(k.Line, kp, "written twice (first at line %d)", l)
				continue
			}
			first[k.Value] = k.Line
			vt := t
			if t.Kind() == reflect.Map {
				vt = t.Elem()
			} else if f, ok := yamlField(t, k.Value); ok {
				vt = f.Type
			} else {
				tc.add(k.Line, kp, "unknown key (check spelling; see README's config reference)")
				continue
			}
			tc.check(v, k.Line, kp, vt)
		}
	default:
		v := reflect.New(t)
		if n.Kind != yaml.ScalarNode || n.Decode(v.Interface()) != nil || isInt(t) && n.ShortTag() == "!!float" && !wholeNumber(n) {
			if quotedButValid(n, t) {
				tc.add(line, key, "want %s, got the quoted string %s (remove the quotes)", want(t), got(n))
				return
			}
			tc.add(line, key, "want %s, got %s", want(t), got(n))
		}
	}
}

// withoutKeys is mapping m without the keys in drop (m itself when it
// has none of them, or is not a mapping).
func withoutKeys(m *yaml.Node, drop map[string]bool) *yaml.Node {
	if m.Kind == yaml.AliasNode {
		m = m.Alias
	}
	if m.Kind != yaml.MappingNode {
		return m
	}
	var kept []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind != yaml.ScalarNode || !drop[k.Value] || k.ShortTag() == "!!merge" {
			kept = append(kept, m.Content[i], m.Content[i+1])
		}
	}
	if len(kept) == len(m.Content) {
		return m
	}
	c := *m
	c.Content = kept
	return &c
}

// quotedButValid reports whether a quoted scalar ("0.95", "true") would
// be a valid t without its quotes: the mistake to name is the quotes.
func quotedButValid(n *yaml.Node, t reflect.Type) bool {
	if n.Kind != yaml.ScalarNode || n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 {
		return false
	}
	plain := &yaml.Node{Kind: yaml.ScalarNode, Value: n.Value}
	return plain.Decode(reflect.New(t).Interface()) == nil
}

// want says in words what a value of type t is.
func want(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration like 24h, 30m or 7d"
	case isInt(t):
		return "a whole number"
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	case reflect.Pointer:
		return want(t.Elem())
	}
	return "a mapping"
}

// got says what a node holds.
func got(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return strconv.Quote(n.Value)
}

func isInt(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return true
	}
	return false
}

// wholeNumber reports whether a float scalar has no fraction: yaml
// decodes 1.5 into an int as 1, which is not what the operator wrote.
func wholeNumber(n *yaml.Node) bool {
	var f float64
	return n.Decode(&f) == nil && f == math.Trunc(f)
}

// yamlField is the field of struct type t that YAML key name decodes into.
func yamlField(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" {
			tag = strings.ToLower(f.Name)
		}
		if f.IsExported() && tag != "-" && tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func joinKey(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func yamlErr(path string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var errs Errors
		for _, m := range te.Errors {
			errs = append(errs, lineMsg(path, m))
		}
		return errs
	}
	var le *lineError
	if errors.As(err, &le) {
		return &Error{File: path, Line: le.line, Key: "(value)", Msg: le.msg}
	}
	return lineMsg(path, err.Error())
}

func lineMsg(path, m string) *Error {
	m = strings.TrimPrefix(m, "yaml: ")
	if sm := yamlLineRE.FindStringSubmatch(m); sm != nil {
		n, _ := strconv.Atoi(sm[1])
		msg := sm[2]
		key := "(yaml)"
		if i := strings.Index(msg, "field "); i >= 0 && strings.Contains(msg, "not found") {
			f := strings.Fields(msg[i+6:])
			if len(f) > 0 {
				key = f[0]
				msg = "unknown key (check spelling; see README's config reference)"
			}
		}
		if nested := yamlLineRE.FindStringSubmatch(msg); nested != nil {
			msg = nested[2]
		}
		return &Error{File: path, Line: n, Key: key, Msg: msg}
	}
	return &Error{File: path, Key: "(yaml)", Msg: m}
}

// indexLines records the line of every key path ("features[0].criteria.min_agreement").
// A key merged in with "<<" is recorded at its line in the anchored
// mapping, unless the mapping sets it itself (which wins, as in decoding).
func indexLines(n *yaml.Node, prefix string, out map[string]int) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		for _, merged := range []bool{false, true} {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Kind == yaml.AliasNode {
					k = k.Alias
				}
				switch {
				case (k.ShortTag() == "!!merge") != merged:
					// the other pass's key
				case merged:
					for _, m := range mergeSources(v) {
						indexLines(m, prefix, out)
					}
				default:
					p := joinKey(prefix, k.Value)
					if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
						// No value: the key counts as left out (typeChecker).
						continue
					}
					if _, ok := out[p]; !ok {
						out[p] = k.Line
						indexLines(v, p, out)
					}
				}
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", prefix, i)
			out[p] = c.Line
			indexLines(c, p, out)
		}
	}
}

// applyDefaults fills the keys the file leaves out. A number written as 0
// keeps it for validation to judge (an operator who wrote graduate_after:
// 0 did not mean 14), and a name written as "" is an error (label: "" is
// not label: "-", and no column is named "").
func (c *Config) applyDefaults(lines map[string]int, add func(key, format string, a ...any)) {
	def := func(key string, s *string, v, what string) {
		if *s != "" {
			return
		}
		if _, written := lines[key]; written {
			add(key, "empty: want %s (omit the key for the default, %q)", what, v)
		}
		*s = v
	}
	const column = "a column name"
	col := &c.Columns
	for _, d := range []struct {
		name string
		s    *string
	}{
		{"request_id", &col.RequestID}, {"ts", &col.TS}, {"feature", &col.Feature}, {"input_class", &col.InputClass},
		{"ai_confidence", &col.AIConfidence}, {"ai_model_version", &col.AIModelVersion}, {"input_hash", &col.InputHash},
		{"legacy_latency_ms", &col.LegacyLatencyMS}, {"ai_latency_ms", &col.AILatencyMS}, {"legacy_error", &col.LegacyError},
		{"ai_error", &col.AIError}, {"legacy_cost", &col.LegacyCost}, {"ai_cost", &col.AICost}, {"served_by", &col.ServedBy},
	} {
		// Each column's default is its key.
		def("columns."+d.name, d.s, d.name, column)
	}
	def("source.labels_key", &c.Source.LabelsKey, "request_id", column)
	defaultTo(lines, "version", &c.Version, 1)
	defaultTo(lines, "window", &c.Window, Duration(24*time.Hour))
	defaultTo(lines, "stats.alpha", &c.Stats.Alpha, 0.05)
	defaultTo(lines, "stats.power", &c.Stats.Power, 0.8)
	def("stats.adjust", &c.Stats.Adjust, "holm", "holm, bh or none")
	def("stats.graduation", &c.Stats.Graduation, "consecutive", "consecutive or anytime")
	if c.Baseline.From == "" {
		defaultTo(lines, "baseline.windows", &c.Baseline.Windows, 7)
	}
	comparators := "one of " + strings.Join(Comparators, ", ")
	for i := range c.Features {
		f := &c.Features[i]
		p := fmt.Sprintf("features[%d]", i)
		def(p+".class_column", &f.ClassColumn, c.Columns.InputClass, column)
		for j := range f.Fields {
			fd := &f.Fields[j]
			fp := fmt.Sprintf("%s.fields[%d]", p, j)
			def(fp+".comparator", &fd.Comparator, "exact", comparators)
			def(fp+".label", &fd.Label, "label_"+fd.Name, `a column name, or "-" for none`)
			def(fp+".separator", &fd.Separator, ",", "the separator of a set's values")
		}
		cr := &f.Criteria
		defaultTo(lines, p+".criteria.min_agreement", &cr.MinAgreement, 0.95)
		defaultTo(lines, p+".criteria.quality_margin", &cr.QualityMargin, 0.02)
		defaultTo(lines, p+".criteria.critical_agreement", &cr.CriticalAgreement, 0.80)
		pol := &f.Policy
		def(p+".policy.graduation", &pol.Graduation, c.Stats.Graduation, "consecutive or anytime")
		pol.Alpha, pol.Margin = c.Stats.Alpha, cr.QualityMargin
		defaultTo(lines, p+".policy.graduate_after", &pol.GraduateAfter, 14)
		defaultTo(lines, p+".policy.rollback_after", &pol.RollbackAfter, 2)
		defaultTo(lines, p+".policy.freshness", &pol.Freshness, Duration(24*time.Hour))
		if _, written := lines[p+".policy.steps"]; !written && len(pol.Steps) == 0 {
			pol.Steps = []float64{0, 1, 5, 25, 50, 100}
		}
		for j := range f.Scorers {
			defaultTo(lines, fmt.Sprintf("%s.scorers[%d].timeout", p, j), &f.Scorers[j].Timeout, Duration(5*time.Minute))
		}
	}
	for i := range c.Jobs {
		p := fmt.Sprintf("jobs[%d]", i)
		def(p+".kind", &c.Jobs[i].Kind, "evaluate", "evaluate, backfill, report or reconcile")
		// catch_up: 0 is a setting: no missed windows are made up.
		defaultTo(lines, p+".catch_up", &c.Jobs[i].CatchUp, 3)
	}
	for i := range c.Reconcile {
		r := &c.Reconcile[i]
		p := fmt.Sprintf("reconcile[%d]", i)
		def(p+".key", &r.Key, "entity_id", column)
		def(p+".type_column", &r.TypeColumn, "entity_type", column)
		// tolerance: 0 (any divergence fails) and sample_keys: 0 (no
		// samples) are settings too.
		defaultTo(lines, p+".tolerance", &r.Tolerance, 0.001)
		defaultTo(lines, p+".sample_keys", &r.SampleKeys, 20)
		defaultTo(lines, p+".memory_limit_mb", &r.MemoryLimitMB, 256)
		defaultTo(lines, p+".alert_after", &r.AlertAfter, 2)
		for j := range r.CriticalFields {
			fp := fmt.Sprintf("%s.critical_fields[%d]", p, j)
			def(fp+".comparator", &r.CriticalFields[j].Comparator, "exact", comparators)
			def(fp+".separator", &r.CriticalFields[j].Separator, ",", "the separator of a set's values")
		}
	}
}

// defaultTo sets *v to d when the file leaves key out (so *v is zero).
func defaultTo[T comparable](lines map[string]int, key string, v *T, d T) {
	var zero T
	if _, written := lines[key]; *v == zero && !written {
		*v = d
	}
}

// nameRE is what a name used in output keys may be: no "/", and no
// leading "." (so never "." or "..", which would leave or alias a folder).
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]*$`)

// Comparators known to the built-in field scorer.
var Comparators = []string{"exact", "case_insensitive", "numeric", "set"}

// ScorerTypes is filled by the scorers package with the declarative and
// external scorer types it knows, so validation can name them.
var ScorerTypes = map[string]bool{}

// ScorerCheck is set by the scorers package to build a configured scorer,
// so bad scorer parameters (a bad regex, a missing param) are config
// errors at load, at the line of the key. An error (or each of joined
// errors) with a ConfigKey() method names that key within the scorer.
var ScorerCheck func(def ScorerDef, f *Feature) error

// labelled reports whether the feature may have something the quality
// margin is tested on: a field with a label, or any scorer (a scorer can
// bring its own labels or paired correctness, e.g. paired_correct or a
// plug-in, which the config cannot see).
func (f *Feature) labelled() bool {
	for _, fd := range f.Fields {
		if fd.Label != "-" {
			return true
		}
	}
	return len(f.Scorers) > 0
}

func (c *Config) validate(lines map[string]int, add func(key, format string, a ...any)) {
	written := func(key string) bool { _, ok := lines[key]; return ok }
	if c.Version != 1 {
		add("version", "unsupported version %d (want 1)", c.Version)
	}
	if c.Source.Logs == "" {
		add("source.logs", "required: the location of the shadow logs (a folder or s3://bucket/prefix)")
	}
	if u, err := url.Parse(c.S3.Endpoint); c.S3.Endpoint != "" && err == nil && u.User != nil {
		add("s3.endpoint", "%s: credentials in the URL are refused (the config is copied into every report); use the standard AWS chain", u.Redacted())
	}
	if c.Output == "" {
		add("output", "required: where scores and verdicts are written (a folder or s3://bucket/prefix)")
	}
	if w := c.Window.D(); w < time.Minute || (24*time.Hour)%w != 0 && w%(24*time.Hour) != 0 {
		add("window", "window %s must be at least 1m and divide a day (e.g. 1h, 6h, 24h) or be whole days (omit the key for the default, 24h)", w)
	}
	if c.Stats.Alpha <= 0 || c.Stats.Alpha >= 0.5 {
		add("stats.alpha", "alpha %g out of range: want 0 < alpha < 0.5 (omit the key for the default, 0.05)", c.Stats.Alpha)
	}
	if c.Stats.Power <= 0 || c.Stats.Power >= 1 {
		add("stats.power", "power %g out of range: want 0 < power < 1 (omit the key for the default, 0.8)", c.Stats.Power)
	}
	if c.Stats.Adjust != "holm" && c.Stats.Adjust != "bh" && c.Stats.Adjust != "none" {
		add("stats.adjust", "unknown method %q (want holm, bh or none)", c.Stats.Adjust)
	}
	if c.Stats.Graduation != "consecutive" && c.Stats.Graduation != "anytime" {
		add("stats.graduation", "unknown rule %q (want consecutive or anytime)", c.Stats.Graduation)
	}
	if c.Baseline.Windows < 0 || c.Baseline.From == "" && c.Baseline.Windows < 1 {
		// Without from, 0 windows would be no baseline: drift and
		// baseline criteria never tested.
		add("baseline.windows", "want a whole number ≥ 1, got %d (omit the key for the default, 7, or give from and to)", c.Baseline.Windows)
	}
	for _, k := range []string{c.Baseline.From, c.Baseline.To} {
		if k != "" {
			if _, err := time.Parse(time.RFC3339, k); err != nil {
				if _, err2 := time.Parse("2006-01-02", k); err2 != nil {
					add("baseline", "time %q: want RFC 3339 (2026-11-01T00:00:00Z) or a date (2026-11-01)", k)
				}
			}
		}
	}
	if len(c.Features) == 0 {
		add("features", "required: at least one feature to evaluate")
	}
	seen := map[string]bool{}
	for i := range c.Features {
		f := &c.Features[i]
		p := fmt.Sprintf("features[%d]", i)
		if f.Name == "" {
			add(p+".name", "required")
		} else if !nameRE.MatchString(f.Name) {
			add(p+".name", "%q: use letters, digits, _ . - only, not starting with . (it is used in output keys and flag names)", f.Name)
		} else if seen[f.Name] {
			add(p+".name", "duplicate feature %q", f.Name)
		}
		seen[f.Name] = true
		if len(f.Fields) == 0 && len(f.Scorers) == 0 {
			add(p+".fields", "feature %q needs at least one decision field or scorer", f.Name)
		}
		fseen := map[string]bool{}
		crit := 0
		for j := range f.Fields {
			fd := &f.Fields[j]
			fp := fmt.Sprintf("%s.fields[%d]", p, j)
			if fd.Name == "" || !nameRE.MatchString(fd.Name) {
				add(fp+".name", "required: letters, digits, _ . - only, not starting with . (got %q)", fd.Name)
			}
			if fseen[fd.Name] {
				add(fp+".name", "duplicate field %q", fd.Name)
			}
			fseen[fd.Name] = true
			cols := fd.Legacy != "" || fd.AI != ""
			js := fd.LegacyJSON != "" || fd.AIJSON != "" || fd.Path != ""
			switch {
			case cols && js:
				add(fp, "give either legacy/ai columns or legacy_json/ai_json/path, not both")
			case cols && (fd.Legacy == "" || fd.AI == ""):
				add(fp, "both legacy and ai columns are required")
			case js && (fd.LegacyJSON == "" || fd.AIJSON == "" || fd.Path == ""):
				add(fp, "legacy_json, ai_json and path are all required for a JSON field")
			case !cols && !js:
				fd.Legacy, fd.AI = "legacy_"+fd.Name, "ai_"+fd.Name
			}
			if js && fd.Path != "" {
				if _, err := ParseJSONPath(fd.Path); err != nil {
					add(fp+".path", "%v", err)
				}
			}
			if !contains(Comparators, fd.Comparator) {
				add(fp+".comparator", "unknown comparator %q (want one of %s)", fd.Comparator, strings.Join(Comparators, ", "))
			}
			if fd.AbsTolerance < 0 || fd.RelTolerance < 0 {
				add(fp, "tolerances must be >= 0")
			}
			if fd.Critical {
				crit++
			}
		}
		if len(f.Fields) > 0 && crit == 0 {
			add(p+".fields", "feature %q has no critical field (mark the decision fields that matter with critical: true)", f.Name)
		}
		for j := range f.Scorers {
			s := &f.Scorers[j]
			sp := fmt.Sprintf("%s.scorers[%d]", p, j)
			if s.Name == "" || !nameRE.MatchString(s.Name) {
				add(sp+".name", "required: letters, digits, _ . - only, not starting with . (got %q)", s.Name)
			}
			if s.Type == "" {
				add(sp+".type", "required")
			} else if len(ScorerTypes) > 0 && !ScorerTypes[s.Type] {
				add(sp+".type", "unknown scorer type %q (want one of %s)", s.Type, strings.Join(sortedKeys(ScorerTypes), ", "))
			}
			if s.Type == "external" && len(s.Command) == 0 {
				add(sp+".command", "required for an external scorer: the program and its arguments")
			}
			if ScorerCheck != nil && ScorerTypes[s.Type] {
				if err := ScorerCheck(*s, f); err != nil {
					list := []error{err}
					if j, ok := err.(interface{ Unwrap() []error }); ok {
						list = j.Unwrap()
					}
					for _, e := range list {
						var ke interface{ ConfigKey() string }
						if errors.As(e, &ke) {
							add(sp+"."+ke.ConfigKey(), "%s", strings.TrimPrefix(e.Error(), ke.ConfigKey()+": "))
						} else {
							add(sp, "%v", e)
						}
					}
				}
			}
			if s.Timeout <= 0 {
				add(sp+".timeout", "want a duration > 0, got %s (omit the key for the default, 5m)", s.Timeout.D())
			}
			if s.MinPassRate < 0 || s.MinPassRate > 1 {
				add(sp+".min_pass_rate", "want 0..1")
			}
		}
		cr := f.Criteria
		cp := p + ".criteria"
		if cr.MinAgreement <= 0 || cr.MinAgreement >= 1 {
			add(cp+".min_agreement", "%g out of range: want 0 < x < 1 (omit the key for the default, 0.95)", cr.MinAgreement)
		}
		if cr.QualityMargin <= 0 || cr.QualityMargin >= 1 {
			add(cp+".quality_margin", "%g out of range: want 0 < x < 1 (omit the key for the default, 0.02)", cr.QualityMargin)
		} else if _, set := lines[cp+".quality_margin"]; set && !f.labelled() {
			// The margin is tested on labelled requests only: without a
			// label the configured quality rule would never be checked,
			// and the feature could graduate as if it had passed.
			add(cp+".quality_margin", "set, but feature %q has no labelled field (every field has label: \"-\") and no scorer, so AI quality can never be compared with legacy; give a field its label column or remove quality_margin", f.Name)
		}
		if cr.MaxErrorRate < 0 || cr.MaxErrorRate >= 1 {
			add(cp+".max_error_rate", "%g out of range (want 0 <= x < 1)", cr.MaxErrorRate)
		}
		if cr.MaxP95LatencyMS < 0 {
			add(cp+".max_p95_latency_ms", "must be >= 0")
		}
		// critical_agreement is judged against min_agreement only when
		// that is valid itself (else it is the one error).
		above := cr.MinAgreement > 0 && cr.MinAgreement < 1 && cr.CriticalAgreement > cr.MinAgreement
		switch {
		case above && !written(cp+".critical_agreement"):
			add(cp+".critical_agreement", "the default %g is above min_agreement %g: set critical_agreement, 0 < x ≤ %g", cr.CriticalAgreement, cr.MinAgreement, cr.MinAgreement)
		case above || cr.CriticalAgreement <= 0:
			add(cp+".critical_agreement", "%g out of range: want 0 < x ≤ min_agreement (%g) (omit the key for the default, 0.8)", cr.CriticalAgreement, cr.MinAgreement)
		}
		for j, bc := range cr.Baseline {
			bp := fmt.Sprintf("%s.baseline[%d]", cp, j)
			if bc.Metric == "" {
				add(bp+".metric", "required: the metric to compare with its baseline (e.g. agreement.critical, accuracy.<field>.ai)")
			}
			if (bc.MaxDrop > 0) == (bc.MaxRelativeDrop > 0) || bc.MaxDrop < 0 || bc.MaxDrop >= 1 || bc.MaxRelativeDrop < 0 || bc.MaxRelativeDrop >= 1 {
				add(bp, "give exactly one of max_drop or max_relative_drop, in (0, 1) (e.g. max_drop: 0.02)")
			}
		}
		for j, d := range f.DriftColumns {
			if c, _, _ := strings.Cut(d, ":"); c == "" || strings.Count(d, ":") > 1 || strings.Contains(d, ":") && !strings.HasSuffix(d, ":category") && !strings.HasSuffix(d, ":numeric") {
				add(fmt.Sprintf("%s.drift_columns[%d]", p, j), "%q: want a column name, optionally with :category (string column) or :numeric (the default)", d)
			}
		}
		pol := f.Policy
		pp := p + ".policy"
		if pol.GraduateAfter < 1 {
			add(pp+".graduate_after", "want a whole number ≥ 1, got %d (omit the key for the default, 14)", pol.GraduateAfter)
		}
		if pol.RollbackAfter < 1 {
			add(pp+".rollback_after", "want a whole number ≥ 1, got %d (omit the key for the default, 2)", pol.RollbackAfter)
		}
		if pol.Freshness <= 0 {
			// valid_until = window end + freshness: the verdict would be
			// stale before it is written.
			add(pp+".freshness", "want a duration > 0, got %s (omit the key for the default, 24h)", pol.Freshness.D())
		}
		if len(pol.Steps) == 0 {
			add(pp+".steps", "want at least one step, the first 0 (omit the key for the default, [0 1 5 25 50 100])")
		}
		rising := true
		for k, s := range pol.Steps {
			if s < 0 || s > 100 || (k > 0 && s <= pol.Steps[k-1]) {
				add(pp+".steps", "steps must rise strictly within 0..100 (got %v)", pol.Steps)
				rising = false
				break
			}
		}
		for k, s := range pol.Steps {
			if rising && !wholeHundredths(s) {
				add(fmt.Sprintf("%s.steps[%d]", pp, k), "%s", hundredthsMsg(s))
			}
		}
		if pol.Graduation != "consecutive" && pol.Graduation != "anytime" {
			add(pp+".graduation", "unknown rule %q (want consecutive or anytime)", pol.Graduation)
		}
		switch {
		case pol.InitialPercent >= 0 && pol.InitialPercent <= 100 && !wholeHundredths(pol.InitialPercent):
			add(pp+".initial_percent", "%s", hundredthsMsg(pol.InitialPercent))
		case len(pol.Steps) > 0 && !containsFloat(pol.Steps, pol.InitialPercent):
			add(pp+".initial_percent", "%g is not one of the steps %v", pol.InitialPercent, pol.Steps)
		}
		if len(pol.Steps) > 0 && pol.Steps[0] != 0 {
			add(pp+".steps", "the first step must be 0 (legacy only)")
		}
		if (pol.ForceLegacy || pol.Freeze) && (pol.OverrideBy == "" || pol.OverrideWhy == "") {
			add(pp, "force_legacy/freeze need override_by and override_reason (recorded in the audit log)")
		}
	}
	jseen := map[string]bool{}
	for i := range c.Jobs {
		j := &c.Jobs[i]
		p := fmt.Sprintf("jobs[%d]", i)
		if j.Name == "" || !nameRE.MatchString(j.Name) {
			add(p+".name", "required: letters, digits, _ . - only, not starting with . (got %q)", j.Name)
		}
		if jseen[j.Name] {
			add(p+".name", "duplicate job %q", j.Name)
		}
		jseen[j.Name] = true
		switch j.Kind {
		case "evaluate", "backfill", "report", "reconcile":
		default:
			add(p+".kind", "unknown kind %q (want evaluate, backfill, report or reconcile)", j.Kind)
		}
		for _, fn := range j.Features {
			if !seen[fn] {
				add(p+".features", "unknown feature %q", fn)
			}
		}
		if j.Kind == "reconcile" {
			found := false
			for _, r := range c.Reconcile {
				found = found || r.Name == j.Reconcile
			}
			if !found {
				add(p+".reconcile", "no reconcile section named %q", j.Reconcile)
			}
		}
		if j.CatchUp < 0 || j.CatchUp > 1000 {
			add(p+".catch_up", "want 0..1000")
		}
		c.validateJobSchedule(j, p, add)
	}
	for i := range c.Reconcile {
		r := &c.Reconcile[i]
		p := fmt.Sprintf("reconcile[%d]", i)
		if r.Name == "" {
			add(p+".name", "required")
		}
		if r.Legacy == "" || r.New == "" {
			add(p, "legacy and new locations are required")
		}
		if r.Tolerance < 0 || r.Tolerance >= 1 {
			add(p+".tolerance", "want 0 <= x < 1")
		}
		c.validateReconcile(r, p, i, add)
	}
	c.Publish.validate(add)
}

// validateReconcile checks the reconcile settings the job relies on
// before any data is read.
func (c *Config) validateReconcile(r *Reconcile, p string, i int, add func(key, format string, a ...any)) {
	if r.Name != "" && !nameRE.MatchString(r.Name) {
		add(p+".name", "%q: use letters, digits, _ . - only, not starting with . (it is used in output keys)", r.Name)
	}
	for k := 0; k < i; k++ {
		if c.Reconcile[k].Name == r.Name && r.Name != "" {
			add(p+".name", "duplicate reconcile section %q", r.Name)
		}
	}
	if r.MemoryLimitMB < 1 {
		add(p+".memory_limit_mb", "want a whole number ≥ 1, got %d (omit the key for the default, 256)", r.MemoryLimitMB)
	}
	if r.SampleKeys < 0 {
		add(p+".sample_keys", "want >= 0")
	}
	if r.AlertAfter < 1 {
		add(p+".alert_after", "want a whole number ≥ 1, got %d (omit the key for the default, 2)", r.AlertAfter)
	}
	if len(r.CriticalFields) == 0 {
		add(p+".critical_fields", "required: the columns compared between the two stores")
	}
	fseen := map[string]bool{r.Key: true, r.TypeColumn: true}
	for j := range r.CriticalFields {
		fd := &r.CriticalFields[j]
		fp := fmt.Sprintf("%s.critical_fields[%d]", p, j)
		if fd.Name == "" {
			add(fp+".name", "required: the column, named the same in both stores")
		} else if fseen[fd.Name] {
			add(fp+".name", "%q is the key, the type column or listed twice", fd.Name)
		}
		fseen[fd.Name] = true
		if !contains(Comparators, fd.Comparator) {
			add(fp+".comparator", "unknown comparator %q (want one of %s)", fd.Comparator, strings.Join(Comparators, ", "))
		}
		if fd.AbsTolerance < 0 || fd.RelTolerance < 0 {
			add(fp, "tolerances must be >= 0")
		}
	}
}

// wholeHundredths tells whether a traffic percentage is a whole number of
// hundredths of a percent, allowing for the binary rounding of decimals
// such as 33.33. flagd's fractional split takes integer weights, which
// parity writes in hundredths of a percent (out of 10000): a finer share
// would be routed as another.
func wholeHundredths(p float64) bool {
	h := p * 100
	return math.Abs(h-math.Round(h)) < 1e-6 && (p == 0 || math.Round(h) >= 1)
}

// hundredthsMsg is the error for a traffic percentage wholeHundredths
// refuses, naming a share that flagd can route.
func hundredthsMsg(p float64) string {
	near := math.Max(math.Round(p*100), 1) / 100
	return fmt.Sprintf("%g is finer than a hundredth of a percent: flagd splits traffic in whole hundredths of a percent (weights out of 10000), so %g%% could not be routed as stated (want a multiple of 0.01, such as %g)", p, p, near)
}

func containsFloat(xs []float64, x float64) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Feature returns the named feature or nil.
func (c *Config) Feature(name string) *Feature {
	for i := range c.Features {
		if c.Features[i].Name == name {
			return &c.Features[i]
		}
	}
	return nil
}

// Job returns the named job or nil.
func (c *Config) Job(name string) *Job {
	for i := range c.Jobs {
		if c.Jobs[i].Name == name {
			return &c.Jobs[i]
		}
	}
	return nil
}

// ParseJSONPath validates a decision field's JSON path.
func ParseJSONPath(s string) (jsonpath.Path, error) { return jsonpath.Parse(s) }

// HashBytes is the hex SHA-256 of data, as recorded in manifests.
func HashBytes(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// mergeSources is the mappings a merge key's value ("<<: *defaults", or
// a list of them) adds to its mapping.
func mergeSources(v *yaml.Node) []*yaml.Node {
	if v.Kind == yaml.AliasNode {
		v = v.Alias
	}
	if v.Kind == yaml.SequenceNode {
		return v.Content
	}
	return []*yaml.Node{v}
}

// ScheduleWarnings reports what in the job schedules is valid but works
// against the verdicts, as warnings at the schedule's line (Msg starts
// "warning: "); it reads the schedules with gocron's cron parser, as the
// daemon does, over the year after now:
//
//   - a feature whose verdicts go stale before the next run can replace
//     them: a window's verdict is valid until its end + freshness, and the
//     next window's is written by the first run of an evaluate job at or
//     after that window's end (plus the job's jitter, at worst), so it
//     must start before end + freshness - window;
//   - a TZ= schedule due at a local time that a daylight-saving change
//     skips (02:30 Europe/Berlin on the spring change): robfig cron, which
//     gocron uses, does not run it that day.
//
// c must have been loaded (Parse or Load) without errors.
func (c *Config) ScheduleWarnings(now time.Time) Errors {
	lines := map[string]int{}
	var root yaml.Node
	if yaml.Unmarshal(c.Raw, &root) == nil && len(root.Content) > 0 {
		indexLines(root.Content[0], "", lines)
	}
	r := &report{path: c.Path, lines: lines}
	add := func(key, format string, a ...any) { r.add(key, "warning: "+format, a...) }
	crons := make([]scheduleCron, len(c.Jobs))
	for i := range c.Jobs {
		crons[i] = jobCron(&c.Jobs[i], now)
	}
	c.warnStale(now, crons, add)
	for i := range c.Jobs {
		if crons[i] != nil {
			warnDSTGap(&c.Jobs[i], fmt.Sprintf("jobs[%d]", i), crons[i], now, add)
		}
	}
	return r.errs
}

// scheduleCron is a job's parsed schedule: Next(t) is its first run
// strictly after t (in UTC when the schedule names no zone, as the
// daemon runs it).
type scheduleCron interface{ Next(time.Time) time.Time }

// jobCron parses a job's schedule as the daemon does; nil without one.
func jobCron(j *Job, now time.Time) scheduleCron {
	spec, secs := j.CronSpec()
	if j.Schedule == "" || !strings.Contains(spec, " ") {
		return nil // none, or a zone alone (an error Parse reported)
	}
	cr := gocron.NewDefaultCron(secs)
	if cr.IsValid(spec, time.UTC, now) != nil {
		return nil
	}
	if !secs {
		return minuteCron{cr}
	}
	return cr
}

// minuteCron rounds a five-field schedule's runs up to the minute: the
// same times for a crontab, and "@every 1h" runs an hour after a time
// rather than the second before.
type minuteCron struct{ c scheduleCron }

func (m minuteCron) Next(t time.Time) time.Time {
	n := m.c.Next(t)
	if r := n.Truncate(time.Minute); !n.IsZero() && r.Before(n) {
		return r.Add(time.Minute)
	}
	return n
}

// warnStale warns for each group of features with the same evaluate jobs
// and freshness whose verdicts expire before those jobs can replace them.
func (c *Config) warnStale(now time.Time, crons []scheduleCron, add func(key, format string, a ...any)) {
	w := c.Window.D()
	if w <= 0 {
		return
	}
	// The window ends of the next year (at most 20000 of them): windows
	// are aligned to multiples of their length since the epoch.
	ws := int64(w / time.Second)
	first := time.Unix(now.Unix()-((now.Unix()%ws)+ws)%ws, 0).UTC().Add(w)
	n := min(int((366*24*time.Hour+w-1)/w), 20000)
	type group struct {
		jobs      []int
		freshness time.Duration
		features  []int
	}
	var groups []*group
	byKey := map[string]*group{}
	for fi := range c.Features {
		f := &c.Features[fi]
		var js []int
		for i := range c.Jobs {
			j := &c.Jobs[i]
			if crons[i] != nil && j.Kind == "evaluate" && (len(j.Features) == 0 || contains(j.Features, f.Name)) {
				js = append(js, i)
			}
		}
		if len(js) == 0 {
			continue
		}
		key := fmt.Sprint(js, f.Policy.Freshness)
		g := byKey[key]
		if g == nil {
			g = &group{jobs: js, freshness: f.Policy.Freshness.D()}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.features = append(g.features, fi)
	}
	for _, g := range groups {
		// lag is how long after a window's end its evaluation starts at
		// the latest: the first run at or after the end, of whichever job
		// runs first, plus that job's jitter.
		var worst, worstRun time.Duration
		var worstJitter time.Duration
		stale, windows := 0, 0
		for k := range n {
			end := first.Add(time.Duration(k) * w)
			lag, run, jit := time.Duration(-1), time.Duration(0), time.Duration(0)
			for _, i := range g.jobs {
				next := crons[i].Next(end.Add(-time.Nanosecond))
				if next.IsZero() {
					continue
				}
				d := next.Sub(end) + c.Jobs[i].Jitter.D()
				if lag < 0 || d < lag {
					lag, run, jit = d, next.Sub(end), c.Jobs[i].Jitter.D()
				}
			}
			if lag < 0 {
				continue
			}
			windows++
			if lag+w >= g.freshness {
				stale++
			}
			if lag > worst {
				worst, worstRun, worstJitter = lag, run, jit
			}
		}
		if stale == 0 {
			continue
		}
		unit := min(time.Hour, w/4)
		suggest := (w+worst+unit-1)/unit*unit + unit
		names := make([]string, len(g.features))
		keys := make([]string, len(g.features))
		for k, fi := range g.features {
			names[k] = c.Features[fi].Name
			keys[k] = fmt.Sprintf("features[%d]", fi)
		}
		key := keys[0] + ".policy.freshness"
		if len(keys) > 1 {
			key = "policy.freshness in " + strings.Join(keys[:len(keys)-1], ", ") + " and " + keys[len(keys)-1]
		}
		what := "feature " + andList(names)
		if len(names) > 1 {
			what = "features " + andList(names)
		}
		often := "every window"
		if stale < windows {
			often = fmt.Sprintf("in %d of the next %d windows", stale, windows)
		}
		lagText := FormatDuration(worstRun) + " after its end"
		if worstJitter > 0 {
			lagText += fmt.Sprintf(", plus up to %s of jitter", FormatDuration(worstJitter))
		}
		add(fmt.Sprintf("jobs[%d].schedule", g.jobs[0]),
			"verdicts of %s go stale %s before this schedule replaces them, for up to %s plus the run's own time: a verdict is valid until its window's end + freshness (%s), and the next window's evaluation (that window ends %s later) starts up to %s; set %s to at least %s (window + that delay + a margin for the run), or run sooner after the window's end",
			what, often, FormatDuration(worst+w-g.freshness), FormatDuration(g.freshness), FormatDuration(w), lagText, key, FormatDuration(suggest))
	}
}

// warnDSTGap warns when a job's TZ= schedule is due at a local time that
// a daylight-saving change in the next year skips: robfig cron (under
// gocron) does not run it that day. A schedule is taken to be due in the
// gap when it runs in the same local hours on the same weekday a week
// before.
func warnDSTGap(j *Job, p string, cr scheduleCron, now time.Time, add func(key, format string, a ...any)) {
	f := strings.Fields(j.Schedule)
	if len(f) == 0 {
		return
	}
	name, ok := strings.CutPrefix(f[0], "TZ=")
	if !ok {
		name, ok = strings.CutPrefix(f[0], "CRON_TZ=")
	}
	if !ok {
		return
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return
	}
	limit := now.AddDate(1, 0, 1)
	for t := now.In(loc); t.Before(limit); {
		_, end := t.ZoneBounds()
		if end.IsZero() || !end.After(t) {
			return
		}
		_, before := end.Add(-time.Second).Zone()
		_, after := end.Zone()
		t = end
		gap := time.Duration(after-before) * time.Second
		if gap <= 0 || end.After(limit) {
			continue
		}
		// The wall clock the change skips: [from, from+gap) local time.
		from := end.In(time.FixedZone("", before))
		y, m, d := from.Date()
		wk := time.Date(y, m, d-7, from.Hour(), from.Minute(), from.Second(), 0, loc)
		if next := cr.Next(wk.Add(-time.Nanosecond)); next.IsZero() || !next.Before(wk.Add(gap)) {
			continue
		}
		skipped := fmt.Sprintf("%s–%s", from.Format("15:04"), from.Add(gap).Format("15:04"))
		add(p+".schedule", "%q is due between %s local time, which does not exist in %s on %s (clocks go forward): the cron parser gocron uses skips a run due in that gap, so the job does not run that day; choose a time outside %s, or a zone without daylight saving (TZ=UTC)",
			j.Schedule, skipped, name, from.Format("2006-01-02"), skipped)
		return
	}
}

// andList is "a", "a and b" or "a, b and c", quoted.
func andList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

// FormatDuration is a duration as written in a config: 24h, 26h30m, 35m
// rather than time.Duration's 24h0m0s.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
