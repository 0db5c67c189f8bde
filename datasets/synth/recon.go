package synth

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// ReconRow is one entity snapshot row in the dual-write reconciliation
// scenario; both stores use the same schema.
type ReconRow struct {
	EntityID   string    `parquet:"entity_id"`
	EntityType string    `parquet:"entity_type,dict"`
	Status     string    `parquet:"status,dict"`
	Amount     float64   `parquet:"amount"`
	UpdatedAt  time.Time `parquet:"updated_at,timestamp(microsecond)"`
	Email      string    `parquet:"email,optional"`
}

// ReconTruth lists, per run, exactly where the two stores differ.
type ReconTruth struct {
	Runs []ReconRun
}

// ReconRun is the truth for one snapshot run. Every entity not listed is
// byte-for-byte equal in both stores.
type ReconRun struct {
	Run                 int
	LegacyRows, NewRows int
	RowsByType          map[string]int // legacy rows per entity_type
	AmountMismatch      []string       // entity_ids whose amount differs (all invoices)
	OnlyInLegacy        []string       // invoices missing from the new store
	OnlyInNew           []string       // always empty in this scenario
	SnapshotAt          time.Time
}

const (
	reconRuns        = 5
	reconEntities    = 20000 // per run at Scale 1 (slowly growing across runs)
	reconDriftRun    = 3     // invoice drift starts with this run
	reconMismatch    = 0.01
	reconMissing     = 0.0015
	reconUpdateShare = 0.15 // entities updated between consecutive runs
)

var reconTypes = []string{"customer", "order", "invoice", "payment"}
var reconTypeShares = []float64{0.25, 0.35, 0.25, 0.15}
var reconPrefix = map[string]string{"customer": "cus", "order": "ord", "invoice": "inv", "payment": "pay"}
var reconStatuses = map[string][]string{
	"customer": {"active", "suspended", "closed"},
	"order":    {"pending", "paid", "shipped", "cancelled"},
	"invoice":  {"draft", "open", "paid", "void"},
	"payment":  {"pending", "settled", "failed", "refunded"},
}

// mix is splitmix64: a cheap, well-distributed hash for per-entity
// decisions, so an entity's fate does not depend on iteration order.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// unit returns a uniform [0,1) value for (seed, entity, salt).
func unit(seed int64, i, salt uint64) float64 {
	return float64(mix(mix(uint64(seed)^mix(i))^salt)>>11) / (1 << 53)
}

func generateRecon(dir string, o Options) (ReconTruth, int, error) {
	var rt ReconTruth
	files := 0
	n := func(run int) int { return reconCount(o, run) }
	expInvoices := float64(n(reconDriftRun)) * reconTypeShares[2]
	// at small Scale, still a handful of differences to find
	pMismatch := math.Max(reconMismatch, 5/expInvoices)
	pMissing := math.Max(reconMissing, 4/expInvoices)
	for run := 1; run <= reconRuns; run++ {
		snap := o.Start.AddDate(0, 0, 7*(run-1)).Add(23 * time.Hour)
		rr := ReconRun{Run: run, SnapshotAt: snap, RowsByType: map[string]int{}}
		var legacy, fresh []ReconRow
		for i := 0; i < n(run); i++ {
			row := reconEntity(o, uint64(i), run, snap)
			legacy = append(legacy, row)
			rr.RowsByType[row.EntityType]++
			if row.EntityType == "invoice" && run >= reconDriftRun {
				if unit(o.Seed, uint64(i), 0xdead) < pMissing {
					rr.OnlyInLegacy = append(rr.OnlyInLegacy, row.EntityID)
					continue
				}
				if unit(o.Seed, uint64(i), 0xbeef) < pMismatch {
					// the new store writes the gross amount (net x 1.19)
					row.Amount = round(row.Amount*1.19, 2)
					rr.AmountMismatch = append(rr.AmountMismatch, row.EntityID)
				}
			}
			fresh = append(fresh, row)
		}
		// legacy is clustered by id, the new store by update time: a
		// reconciliation must not rely on row order.
		sort.Slice(legacy, func(a, b int) bool { return legacy[a].EntityID < legacy[b].EntityID })
		sort.Slice(fresh, func(a, b int) bool {
			if !fresh[a].UpdatedAt.Equal(fresh[b].UpdatedAt) {
				return fresh[a].UpdatedAt.Before(fresh[b].UpdatedAt)
			}
			return fresh[a].EntityID < fresh[b].EntityID
		})
		sort.Strings(rr.AmountMismatch)
		sort.Strings(rr.OnlyInLegacy)
		rr.LegacyRows, rr.NewRows = len(legacy), len(fresh)
		part := fmt.Sprintf("run=%02d", run)
		if err := writeParquet(filepath.Join(dir, "legacy", part, "part-00000.parquet"), legacy); err != nil {
			return rt, files, err
		}
		if err := writeParquet(filepath.Join(dir, "new", part, "part-00000.parquet"), fresh); err != nil {
			return rt, files, err
		}
		files += 2
		rt.Runs = append(rt.Runs, rr)
	}
	return rt, files, nil
}

// reconEntity returns entity i as of a run. An entity's attributes are a
// function of (entity, version), where the version counts the runs in
// which it was updated, so unchanged entities are identical across runs.
func reconEntity(o Options, i uint64, run int, snap time.Time) ReconRow {
	// first run the entity exists in
	created := 1
	for r := 1; r <= reconRuns; r++ {
		if int(i) < reconCount(o, r) {
			created = r
			break
		}
	}
	version, verRun := 0, created
	for r := created + 1; r <= run; r++ {
		if unit(o.Seed, i, uint64(r)) < reconUpdateShare {
			version++
			verRun = r
		}
	}
	typ := reconTypes[pickU(unit(o.Seed, i, 0x7e), reconTypeShares)]
	v := uint64(version) << 32
	sts := reconStatuses[typ]
	status := sts[int(unit(o.Seed, i, 0x51+v)*float64(len(sts)))]
	amount := round(math.Exp(math.Log(120)+unitNorm(o.Seed, i, 0xa0+v)), 2)
	verAt := o.Start.AddDate(0, 0, 7*(verRun-1))
	if verRun == run {
		verAt = snap.Add(-23 * time.Hour)
	}
	at := verAt.Add(time.Duration(unit(o.Seed, i, 0x71+v)*82800e6) * time.Microsecond)
	email := ""
	if unit(o.Seed, i, 0xe0) >= 0.03 {
		email = strings.ToLower(firstNames[int(unit(o.Seed, i, 0xe1)*float64(len(firstNames)))]) + fmt.Sprintf(".%d@example.com", mix(i)%100000)
	}
	return ReconRow{
		EntityID:   fmt.Sprintf("%s-%07d", reconPrefix[typ], i),
		EntityType: typ,
		Status:     status,
		Amount:     amount,
		UpdatedAt:  at,
		Email:      email,
	}
}

func pickU(u float64, w []float64) int {
	for i, p := range w {
		if u < p {
			return i
		}
		u -= p
	}
	return len(w) - 1
}

// unitNorm is an approximately standard normal value (Box-Muller).
func unitNorm(seed int64, i, salt uint64) float64 {
	u1 := math.Max(unit(seed, i, salt), 1e-12)
	u2 := unit(seed, i, salt^0x5555)
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// reconCount is the number of entities in a run's snapshot: ~20k at Scale
// 1, growing 2% a run, and never so few that ~1% drift means nothing.
func reconCount(o Options, run int) int {
	return max(400, int(math.Round(reconEntities*o.Scale*(0.92+0.02*float64(run)))))
}
