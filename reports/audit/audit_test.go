package audit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/reports"
	"github.com/parity-eval/parity/reports/audit"
	"github.com/parity-eval/parity/storage"
	"github.com/parity-eval/parity/storage/file"
	s3store "github.com/parity-eval/parity/storage/s3"
	"github.com/parity-eval/parity/storage/storagetest"
)

func doc(runID string, verdict string, ov *eval.Override) *reports.Verdicts {
	end := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	fd := &reports.FeatureDoc{}
	fd.Verdict, fd.Reasons, fd.Override = verdict, []string{"because " + verdict}, ov
	fd.Traffic.Percent = 5
	fd.ValidUntil = end.Add(24 * time.Hour)
	other := &reports.FeatureDoc{}
	other.Verdict = eval.VerdictHold
	return &reports.Verdicts{Window: eval.Window{Start: end.Add(-24 * time.Hour), End: end},
		Run:      reports.RunInfo{ID: runID, ConfigHash: "cfg-" + runID, ManifestHash: "man-" + runID, ParityVersion: "test"},
		Features: map[string]*reports.FeatureDoc{"refunds": fd, "tickets": other}}
}

func runAuditTests(t *testing.T, st storage.Store) {
	ctx := context.Background()
	ov := &eval.Override{ForceLegacy: true, By: "oncall", Reason: "INC-1", At: "2026-11-21T02:00:00Z", Source: "file"}
	d1 := doc("20261121T010000Z-1", eval.VerdictRollback, ov)
	at := time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC)
	e1 := audit.Entries(d1, at)
	if len(e1) != 3 {
		t.Fatalf("entries = %d, want a verdict per feature plus one override", len(e1))
	}
	k1, err := audit.Write(ctx, st, d1.Window.Key(), d1.Run.ID, e1)
	if err != nil {
		t.Fatal(err)
	}
	before, _, err := st.Get(ctx, k1)
	if err != nil {
		t.Fatal(err)
	}
	// The same run id again (a replay with a fixed clock) must not
	// overwrite the first object.
	d2 := doc("20261121T010000Z-1", eval.VerdictHold, nil)
	k2, err := audit.Write(ctx, st, d2.Window.Key(), d2.Run.ID, audit.Entries(d2, at.Add(time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	if k2 == k1 {
		t.Fatalf("second write reused key %s", k1)
	}
	after, _, err := st.Get(ctx, k1)
	if err != nil || string(after) != string(before) {
		t.Fatalf("first audit object changed (err %v)", err)
	}
	// The identical event again (a retried write) is recorded once.
	k1again, err := audit.Write(ctx, st, d1.Window.Key(), d1.Run.ID, e1)
	if err != nil || k1again != k1 {
		t.Fatalf("identical rewrite: key %s err %v, want the existing %s", k1again, err, k1)
	}
	d3 := doc("20261122T010000Z-9", eval.VerdictGraduate, nil)
	if _, err := audit.Write(ctx, st, d3.Window.Key(), d3.Run.ID, audit.Entries(d3, at.Add(24*time.Hour))); err != nil {
		t.Fatal(err)
	}
	all, err := audit.Read(ctx, st, "refunds")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range all {
		kinds = append(kinds, e.Kind+":"+e.Verdict)
	}
	got := strings.Join(kinds, ",")
	// Both runs of the same id are kept; the later run id comes last.
	if !strings.Contains(got, "override:rollback") || !strings.Contains(got, "verdict:hold") || !strings.HasSuffix(got, "verdict:graduate") || len(all) != 4 {
		t.Fatalf("log = %s", got)
	}
	for _, e := range all {
		if e.ConfigHash == "" || e.ManifestHash == "" || e.RunID == "" || len(e.Reasons) == 0 {
			t.Errorf("entry lacks provenance or reason: %+v", e)
		}
		if e.Kind == audit.KindOverride && (e.Override == nil || e.Override.By != "oncall" || !strings.Contains(e.Reasons[0], "INC-1")) {
			t.Errorf("override entry does not say who and why: %+v", e)
		}
	}
}

func TestAuditFile(t *testing.T) {
	st, err := file.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	runAuditTests(t, st)
}

func TestAuditS3(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs the S3 test server")
	}
	srv := storagetest.StartS3(t)
	st, err := s3store.New(context.Background(), s3store.Config{Bucket: srv.NewBucket(t), Prefix: "out", Endpoint: srv.Endpoint, Region: srv.Region, Credentials: srv.Credentials()})
	if err != nil {
		t.Fatal(err)
	}
	runAuditTests(t, st)
}

func TestReadRejectsCorruptEntry(t *testing.T) {
	st, err := file.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(context.Background(), "audit/window=x/run=y.jsonl", []byte("{\"kind\":\"verdict\"}\nnot json\n")); err != nil {
		t.Fatal(err)
	}
	_, err = audit.Read(context.Background(), st, "")
	if err == nil || !strings.Contains(err.Error(), "run=y.jsonl:2") {
		t.Fatalf("err = %v, want one naming the object and line", err)
	}
}
