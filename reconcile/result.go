package reconcile

import (
	_ "embed"
	"time"

	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/eval"
)

// DecommissionAfter is the number of consecutive clean runs after which
// the legacy store may be decommissioned (the decommission checklist in
// eval.Decide asks for the same 30).
const DecommissionAfter = 30

// ResultSchema is the JSON Schema of result.json and latest.json.
//
//go:embed schema/result.schema.json
var ResultSchema []byte

// SchemaVersion is the version of the result document.
const SchemaVersion = 1

// Result is one reconciliation run: result.json and latest.json.
type Result struct {
	SchemaVersion int    `json:"schema_version"`
	Name          string `json:"name"`
	Run           string `json:"run"`
	// Status is fail when a critical entity type's divergence exceeds the
	// tolerance, else insufficient_data when a critical type has no entity
	// to compare (or there is no critical type), else pass.
	Status string `json:"status"`
	// Clean: every critical type has entities to compare, none of them
	// diverges, and no row was left unreconciled (null key). Zero
	// divergences among zero entities is no evidence, not a clean run.
	Clean bool `json:"clean"`
	// NotClean says why the run is not clean, one reason per type or
	// store; empty when clean.
	NotClean []string `json:"not_clean"`
	// Alert is true when a critical type has failed for alert_after
	// consecutive runs (default 2); Alerts says which.
	Alert  bool         `json:"alert"`
	Alerts []eval.Alert `json:"alerts"`
	// ConsecutiveCleanRuns counts clean runs ending with this one, from
	// the stored results of earlier runs.
	ConsecutiveCleanRuns int `json:"consecutive_clean_runs"`
	// PrimarySwitchReady: this run is a full reconciliation with zero
	// critical divergences, the precondition for making the new store
	// the read primary.
	PrimarySwitchReady bool `json:"primary_switch_ready"`
	// DecommissionReady: at least DecommissionAfter consecutive clean runs.
	DecommissionReady bool          `json:"decommission_ready"`
	Types             []*TypeResult `json:"types"`
	Legacy            SideInfo      `json:"legacy"`
	New               SideInfo      `json:"new"`
	Settings          Settings      `json:"settings"`
	Spill             SpillInfo     `json:"spill"`
	StartedAt         time.Time     `json:"started_at"`
	CompletedAt       time.Time     `json:"completed_at"`
	ConfigHash        string        `json:"config_hash"`
	ParityVersion     string        `json:"parity_version"`
}

// Type returns the named entity type's result, or nil.
func (r *Result) Type(name string) *TypeResult {
	for _, t := range r.Types {
		if t.Type == name {
			return t
		}
	}
	return nil
}

// TypeResult is one entity type of one run. Entities counts distinct keys
// on either side; every one is exactly one of only_in_legacy, only_in_new,
// mismatched or equal.
type TypeResult struct {
	Type string `json:"entity_type"`
	// Critical types are judged; others (outside reconcile.types) are
	// reported with status info.
	Critical     bool     `json:"critical"`
	Status       string   `json:"status"`
	Reasons      []string `json:"reasons"`
	Entities     int64    `json:"entities"`
	OnlyInLegacy int64    `json:"only_in_legacy"`
	OnlyInNew    int64    `json:"only_in_new"`
	Mismatched   int64    `json:"mismatched"`
	Equal        int64    `json:"equal"`
	// FieldMismatches counts mismatched entities per critical field
	// (an entity can count under several); the type column when the two
	// stores disagree on the type, and _duplicate when one store holds
	// conflicting rows for the key.
	FieldMismatches map[string]int64 `json:"field_mismatches"`
	// DuplicateKeys counts keys present more than once in a store;
	// DuplicateRows the rows beyond the first.
	DuplicateKeys Sides `json:"duplicate_keys"`
	DuplicateRows Sides `json:"duplicate_rows"`
	Divergent     int64 `json:"divergent"`
	// DivergenceRate = Divergent / Entities, with a two-sided
	// Clopper–Pearson interval at level 1-alpha, and the one-sided exact
	// binomial test of H1: rate > tolerance.
	DivergenceRate eval.Float `json:"divergence_rate"`
	CILow          eval.Float `json:"ci_low"`
	CIHigh         eval.Float `json:"ci_high"`
	CILevel        float64    `json:"ci_level"`
	CIMethod       string     `json:"ci_method"`
	Test           string     `json:"test"`
	PValue         eval.Float `json:"p_value"`
	Significant    bool       `json:"significant"`
	Tolerance      float64    `json:"tolerance"`
	// ConsecutiveFailing counts failing runs ending with this one.
	ConsecutiveFailing int       `json:"consecutive_failing"`
	Checksum           Checksums `json:"checksum"`
	Samples            Samples   `json:"samples"`
}

// Sides is a count per store.
type Sides struct {
	Legacy int64 `json:"legacy"`
	New    int64 `json:"new"`
}

// Checksums compares the two stores' checksums of one entity type.
type Checksums struct {
	Legacy Checksum `json:"legacy"`
	New    Checksum `json:"new"`
	// Equal: same rows and the same sum, i.e. (up to hash collisions) the
	// same multiset of (key, critical fields) — exact equality, stricter
	// than the comparators' tolerances.
	Equal bool `json:"equal"`
}

// Checksum is an order-independent checksum of one store's rows of one
// entity type (by the store's own type column): the sum modulo 2^64 of
// xxhash64(key, critical field values) over the rows, in hex. A sum
// rather than XOR because XOR cancels a row that appears twice, so a
// duplicated row would go unnoticed; both are commutative, so parallel
// workers and partitions combine in any order. xxhash64 because it is
// fast, stable across versions and platforms, and available in most
// languages and databases, so the figure can be recomputed elsewhere.
type Checksum struct {
	Rows int64  `json:"rows"`
	Sum  string `json:"sum"`
	sum  uint64
}

// Samples are keys to investigate: at most sample_keys per list, chosen
// by smallest key hash (deterministic, and stable from run to run).
type Samples struct {
	OnlyInLegacy  []string   `json:"only_in_legacy"`
	OnlyInNew     []string   `json:"only_in_new"`
	Mismatched    []Mismatch `json:"mismatched"`
	DuplicateKeys []string   `json:"duplicate_keys"`
}

// SideInfo describes what was read from one store.
type SideInfo struct {
	Location string              `json:"location"`
	Prefix   string              `json:"prefix"`
	Rows     int64               `json:"rows"`
	NullKeys int64               `json:"null_keys"`
	Files    []datasets.FileInfo `json:"files"`
}

// Settings records the configuration a result was computed with.
type Settings struct {
	Key               string         `json:"key"`
	TypeColumn        string         `json:"type_column"`
	RunPartition      string         `json:"run_partition"`
	CriticalFields    []FieldSetting `json:"critical_fields"`
	CriticalTypes     []string       `json:"critical_types"`
	Tolerance         float64        `json:"tolerance"`
	Alpha             float64        `json:"alpha"`
	AlertAfter        int            `json:"alert_after"`
	DecommissionAfter int            `json:"decommission_after"`
}

// FieldSetting is one critical field's comparator.
type FieldSetting struct {
	Name         string  `json:"name"`
	Comparator   string  `json:"comparator"`
	AbsTolerance float64 `json:"abs_tolerance,omitempty"`
	RelTolerance float64 `json:"rel_tolerance,omitempty"`
}

// SpillInfo says how the join ran.
type SpillInfo struct {
	Spilled          bool  `json:"spilled"`
	MemoryLimitBytes int64 `json:"memory_limit_bytes"`
	Partitions       int   `json:"partitions"` // partition pairs joined
	MaxDepth         int   `json:"max_depth"`  // 0: one partitioning pass
	SpilledBytes     int64 `json:"spilled_bytes"`
}
