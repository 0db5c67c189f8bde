package html_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	xhtml "golang.org/x/net/html"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets/synth"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/jobs"
	"github.com/parity-eval/parity/reports/html"
	"github.com/parity-eval/parity/storage"
	_ "github.com/parity-eval/parity/storage/file"
)

var update = flag.Bool("update", false, "rewrite testdata/report.json and the golden outputs from a fresh evaluation")

// fixture is a small synthetic shadow log evaluated with the demo config.
type fixture struct {
	dir  string
	cfg  *config.Config
	out  storage.Store
	now  time.Time
	data map[string]*html.Data
}

var (
	fixOnce sync.Once
	fix     *fixture
	fixErr  error
)

func getFixture(t *testing.T) *fixture {
	t.Helper()
	fixOnce.Do(func() { fix, fixErr = newFixture() })
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fix
}

var fixtureDir string

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

func newFixture() (*fixture, error) {
	dir, err := os.MkdirTemp("", "parity-report-test-*")
	if err != nil {
		return nil, err
	}
	fixtureDir = dir
	data := filepath.Join(dir, "data")
	sum, err := synth.Generate(data, synth.Options{Seed: 11, Days: 10, Scale: 0.15})
	if err != nil {
		return nil, err
	}
	cfgText, err := os.ReadFile("testdata/parity.yaml")
	if err != nil {
		return nil, err
	}
	p := filepath.Join(data, "parity.yaml")
	if err := os.WriteFile(p, cfgText, 0o600); err != nil {
		return nil, err
	}
	cfg, err := config.Load(p)
	if err != nil {
		return nil, err
	}
	f := &fixture{dir: dir, cfg: cfg, now: sum.End.Add(time.Hour), data: map[string]*html.Data{}}
	if err := f.evaluate(sum); err != nil {
		return nil, err
	}
	for _, ft := range cfg.Features {
		d, err := html.Build(context.Background(), cfg, f.out, ft.Name, time.Time{}, time.Time{}, html.Options{Now: f.now, Version: "test"})
		if err != nil {
			return nil, err
		}
		f.data[ft.Name] = d
	}
	return f, nil
}

func (f *fixture) evaluate(sum synth.Summary) error {
	r, err := jobs.Open(context.Background(), f.cfg)
	if err != nil {
		return err
	}
	f.out = r.Out
	ws := eval.WindowsBetween(sum.Start, sum.End, f.cfg.Window.D())
	_, err = r.Evaluate(context.Background(), ws, jobs.Options{Now: func() time.Time { return f.now }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return err
}

func render(t *testing.T, d *html.Data) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := html.Render(&b, d); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sections a reviewer needs, by element id.
var sections = []string{"summary", "classes", "charts", "forest", "latency", "drift", "context", "history", "audit", "decommission", "methodology", "lineage"}

// TestReportStructure parses the HTML: every section is there, charts
// are inline SVG with labelled axes, nothing references an external
// resource, and the embedded data is the report's data.
func TestReportStructure(t *testing.T) {
	f := getFixture(t)
	for name, d := range f.data {
		t.Run(name, func(t *testing.T) {
			page := render(t, d)
			doc, err := xhtml.Parse(bytes.NewReader(page))
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]bool{}
			svgs, texts := 0, 0
			var embedded string
			walk(doc, func(n *xhtml.Node) {
				if n.Type != xhtml.ElementNode {
					return
				}
				if id := attr(n, "id"); id != "" {
					ids[id] = true
				}
				switch n.Data {
				case "svg":
					svgs++
				case "text":
					texts++
				case "img", "iframe", "object", "embed", "video", "audio":
					t.Errorf("<%s> element: the report must not load resources", n.Data)
				case "link":
					if href := attr(n, "href"); attr(n, "rel") != "icon" || href != "data:," {
						t.Errorf("<link rel=%q href=%q>: the report must not load resources", attr(n, "rel"), href)
					}
				case "script":
					if attr(n, "src") != "" || attr(n, "type") != "application/json" {
						t.Errorf("<script src=%q type=%q>: only the embedded JSON data is allowed", attr(n, "src"), attr(n, "type"))
					}
					if attr(n, "id") == "parity-data" && n.FirstChild != nil {
						embedded = n.FirstChild.Data
					}
				}
				for _, a := range n.Attr {
					if (a.Key == "href" || a.Key == "src" || strings.HasSuffix(a.Key, ":href")) && a.Val != "" && !strings.HasPrefix(a.Val, "#") && a.Val != "data:," {
						t.Errorf("<%s %s=%q>: external reference", n.Data, a.Key, a.Val)
					}
				}
			})
			for _, s := range sections {
				if !ids[s] {
					t.Errorf("section #%s missing", s)
				}
			}
			if !ids["generated-at"] {
				t.Error("the generated-at field is not marked")
			}
			// Agreement per class, latency, drift (after the 7-window
			// baseline), and for labelled features quality and the forest plot.
			min := len(d.Windows[0].Classes) + 2
			if svgs < min {
				t.Errorf("%d inline SVG charts, want at least %d", svgs, min)
			}
			if texts < 10*svgs {
				t.Errorf("%d SVG text elements in %d charts: axes are not labelled", texts, svgs)
			}
			for _, bad := range []string{"@font-face", "url(", "@import", "http://fonts", "https://"} {
				if bytes.Contains(page, []byte(bad)) {
					t.Errorf("the page contains %q: it would fetch a resource", bad)
				}
			}
			for _, want := range []string{"window start (UTC)", "agreement (% of requests)", "P95 latency (ms)", "pass threshold 95%"} {
				if !bytes.Contains(page, []byte(want)) {
					t.Errorf("no chart label %q", want)
				}
			}
			got, err := html.Decode([]byte(embedded))
			if err != nil {
				t.Fatalf("embedded data: %v", err)
			}
			a, _ := got.Encode()
			b, _ := d.Encode()
			if !bytes.Equal(a, b) {
				t.Error("the embedded data differs from the report's data")
			}
			if len(got.Lineage.Inputs) == 0 || got.Lineage.Config == "" || got.Lineage.ConfigHash != config.HashBytes([]byte(got.Lineage.Config)) {
				t.Errorf("lineage: %d inputs, config hash %s does not match the embedded config text", len(got.Lineage.Inputs), got.Lineage.ConfigHash)
			}
			for _, in := range got.Lineage.Inputs {
				if in.Size <= 0 || in.ETag == "" || in.Rows <= 0 {
					t.Errorf("input %s: size %d, ETag %q, rows %d", in.Location, in.Size, in.ETag, in.Rows)
				}
			}
		})
	}
}

func walk(n *xhtml.Node, fn func(*xhtml.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *xhtml.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// TestReproducible evaluates the same inputs with the same config again,
// in a new run (another run id, another clock), and renders the report
// at another time: only the generated-at field differs.
func TestReproducible(t *testing.T) {
	f := getFixture(t)
	d1 := f.data["ticket_routing"]
	first := render(t, d1)
	// A fresh run into an emptied output.
	if err := os.RemoveAll(f.cfg.Output); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(5 * time.Minute)
	last := d1.Windows[len(d1.Windows)-1].Window
	if err := f.evaluate(synth.Summary{Start: d1.Windows[0].Window.Start, End: last.End}); err != nil {
		t.Fatal(err)
	}
	later := time.Date(2027, 5, 6, 7, 8, 9, 0, time.UTC)
	d2, err := html.Build(context.Background(), f.cfg, f.out, "ticket_routing", time.Time{}, time.Time{}, html.Options{Now: later, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	second := render(t, d2)
	stamp := func(b []byte, at time.Time) []byte {
		return bytes.ReplaceAll(b, []byte(at.UTC().Format(time.RFC3339)), []byte("<GENERATED-AT>"))
	}
	if bytes.Equal(first, second) {
		t.Fatal("the reports are identical although generated at different times")
	}
	a, b := stamp(first, d1.GeneratedAt), stamp(second, later)
	if !bytes.Equal(a, b) {
		i := 0
		for i < len(a) && i < len(b) && a[i] == b[i] {
			i++
		}
		lo := max(0, i-80)
		t.Fatalf("reports of the same inputs and config differ beyond generated-at, first at byte %d:\n%q\nvs\n%q", i, a[lo:min(len(a), i+80)], b[lo:min(len(b), i+80)])
	}
}

// TestCompareNamesFigures: Compare names a changed figure and a changed
// input object, and nothing else.
func TestCompareNamesFigures(t *testing.T) {
	a := loadGoldenData(t)
	b := loadGoldenData(t)
	if c := html.Compare(a, b); !c.OK() || c.Figures < 100 {
		t.Fatalf("identical data: %d figures, diffs %v", c.Figures, c.Diffs)
	}
	w := &b.Windows[len(b.Windows)-2]
	cr := w.Classes[0]
	var m *eval.Metric
	for _, x := range cr.Metrics {
		if x.Name == "divergence.critical" {
			m = x
		}
	}
	if m == nil {
		t.Fatal("no divergence.critical metric in the fixture")
	}
	m.Value += 0.0003
	b.Lineage.Inputs[0].Size++
	c := html.Compare(a, b)
	if len(c.Diffs) != 2 {
		t.Fatalf("want 2 diffs, got %d: %v", len(c.Diffs), c.Diffs)
	}
	want := fmt.Sprintf("%s/%s %s divergence.critical: report %.4f, recomputed %.4f", a.Feature, cr.Class, w.Window.Start.Format("2006-01-02"), m.Value-0.0003, m.Value)
	if got := c.Diffs[0].String(); got != want {
		t.Errorf("diff\n got %s\nwant %s", got, want)
	}
	if !c.Diffs[1].Input || !strings.Contains(c.Diffs[1].String(), a.Lineage.Inputs[0].Location) {
		t.Errorf("input diff: %v", c.Diffs[1])
	}
}

// TestCompareEveryField: fields outside the named figures (the verdict's
// validity, the decommission checklist, the methodology, the config
// text, a warning) are compared too and named by their path; the
// generated-at time and the output location are not.
func TestCompareEveryField(t *testing.T) {
	a := loadGoldenData(t)
	b := loadGoldenData(t)
	b.GeneratedAt = b.GeneratedAt.Add(time.Hour)
	b.Lineage.Output = "/elsewhere"
	if c := html.Compare(a, b); !c.OK() {
		t.Fatalf("generated_at and lineage.output are compared: %v", c.Diffs)
	}
	b.Verdict.ValidUntil = b.Verdict.ValidUntil.Add(24 * time.Hour)
	if len(b.Verdict.Decommission) == 0 {
		t.Fatal("no decommission checklist in the fixture")
	}
	b.Verdict.Decommission[0].Met = !b.Verdict.Decommission[0].Met
	b.Verdict.Decommission[0].Evidence += " (edited)"
	b.Methodology.Alpha = 0.1
	b.Methodology.Adjust = "none"
	b.Lineage.Config = strings.Replace(b.Lineage.Config, "\n", "\n# edited\n", 1)
	w := &b.Windows[len(b.Windows)-1]
	cr := w.Classes[0]
	var m *eval.Metric
	for _, x := range cr.Metrics {
		if len(x.Warnings) > 0 {
			m = x
		}
	}
	if m == nil {
		t.Fatal("no metric with a warning in the fixture")
	}
	m.Warnings[0] = "edited"
	c := html.Compare(a, b)
	var got []string
	for _, d := range c.Diffs {
		got = append(got, d.Name)
	}
	day := w.Window.Start.UTC().Format(time.RFC3339)
	for _, want := range []string{"verdict.valid_until", "verdict.decommission[0].met", "verdict.decommission[0].evidence",
		"methodology.alpha", "methodology.adjust", "lineage.config",
		"windows[" + day + "].classes[" + cr.Class + "].metrics[" + m.Name + "].warnings[0]"} {
		found := false
		for _, g := range got {
			found = found || g == a.Feature+" "+want
		}
		if !found {
			t.Errorf("no difference named %q in %q", a.Feature+" "+want, got)
		}
	}
	if len(c.Diffs) != 7 {
		t.Errorf("want 7 differences, got %d: %v", len(c.Diffs), c.Diffs)
	}
}

// TestCompareInputMetadata: a local object whose ETag (size, mtime,
// inode) changed with the same size and rows is a notice, not a
// difference; an S3 object's ETag hashes its content, so there a change
// is a difference, and so is a local size change.
func TestCompareInputMetadata(t *testing.T) {
	a := loadGoldenData(t)
	a.Lineage.Inputs = append(a.Lineage.Inputs, html.Input{Location: "s3://bucket/logs/part-0.parquet", Size: 10, ETag: `"abc"`, Rows: 3, RowsUsed: 3})
	b := loadGoldenData(t)
	b.Lineage.Inputs = append(b.Lineage.Inputs, a.Lineage.Inputs[len(a.Lineage.Inputs)-1])
	b.Lineage.Inputs[0].ETag = "touched"
	c := html.Compare(a, b)
	if !c.OK() || len(c.MetadataChanged) != 1 || c.MetadataChanged[0] != a.Lineage.Inputs[0].Location {
		t.Errorf("touched local object: diffs %v, metadata changed %v", c.Diffs, c.MetadataChanged)
	}
	b.Lineage.Inputs[1].Size++
	b.Lineage.Inputs[len(b.Lineage.Inputs)-1].ETag = `"abd"`
	c = html.Compare(a, b)
	if len(c.Diffs) != 2 || !strings.Contains(c.Diffs[0].Name, a.Lineage.Inputs[1].Location) || !strings.Contains(c.Diffs[1].Name, "s3://bucket/logs/part-0.parquet") {
		t.Errorf("local size change and S3 ETag change: diffs %v", c.Diffs)
	}
}

func loadGoldenData(t *testing.T) *html.Data {
	t.Helper()
	if *update {
		f := getFixture(t)
		// A trimmed copy keeps testdata small: the last two windows,
		// their judged and headline metrics, three input objects.
		d := *f.data["ticket_routing"]
		d.Windows = append([]html.Window(nil), d.Windows[len(d.Windows)-2:]...)
		for i := range d.Windows {
			var cs []*eval.ClassResult
			for _, c := range d.Windows[i].Classes {
				cc := *c
				cc.Metrics = nil
				for _, m := range c.Metrics {
					if m.Criterion || strings.HasPrefix(m.Name, "agreement.") || strings.HasPrefix(m.Name, "accuracy.") {
						cc.Metrics = append(cc.Metrics, m)
					}
				}
				cs = append(cs, &cc)
			}
			d.Windows[i].Classes = cs
		}
		d.Lineage.Inputs = d.Lineage.Inputs[:3]
		d.From = d.Windows[0].Window.Start
		b, err := d.Encode()
		if err != nil {
			t.Fatal(err)
		}
		// Machine-specific paths become stable placeholders.
		b = bytes.ReplaceAll(b, []byte(f.dir), []byte("/fixture"))
		if err := os.WriteFile("testdata/report.json", b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile("testdata/report.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := html.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestMarkdownGolden renders the Markdown summary of a stored report's
// data (testdata/report.json) and compares it with testdata/report.md,
// in the manner of benchstat's golden tests; -update rewrites both from
// a fresh evaluation.
func TestMarkdownGolden(t *testing.T) {
	d := loadGoldenData(t)
	var b bytes.Buffer
	if err := html.Markdown(&b, d); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("testdata/report.md", b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/report.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("markdown differs from testdata/report.md (run go test -run TestMarkdownGolden -update after checking):\n%s", b.String())
	}
}

// chromium finds the browser; a missing one skips the test, or fails it
// under CI=true.
func chromium(t *testing.T) string {
	t.Helper()
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found and CI=true: install it (apt-get install chromium)")
	}
	t.Skip("chromium not found: apt-get install chromium")
	return ""
}

// TestChromiumRender loads a report in headless Chromium from a local
// HTTP server that logs every request, with a dead proxy for anything
// else and a network log: the report must be the only request the page
// makes, and the screenshot must be a full page.
func TestChromiumRender(t *testing.T) {
	bin := chromium(t)
	f := getFixture(t)
	dir := t.TempDir()
	page := render(t, f.data["ticket_routing"])
	var mu sync.Mutex
	var requests []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, r.URL.Path)
		mu.Unlock()
		if r.URL.Path != "/report.html" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	}))
	defer srv.Close()
	shot := filepath.Join(dir, "report.png")
	netlog := filepath.Join(dir, "netlog.json")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--proxy-server=http://127.0.0.1:9", "--log-net-log="+netlog,
		"--screenshot="+shot, "--window-size=1280,4000", srv.URL+"/report.html")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	mu.Lock()
	if len(requests) != 1 || requests[0] != "/report.html" {
		t.Errorf("the server saw %v, want only /report.html", requests)
	}
	mu.Unlock()
	// Every request the page initiated carries its origin as initiator;
	// Chromium's own background requests (no initiator) are not the
	// report's and go to the dead proxy.
	for _, u := range pageRequests(t, netlog, srv.URL) {
		t.Errorf("the page requested %s", u)
	}
	fi, err := os.Stat(shot)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	img, err := png.Decode(pf)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 4000 || fi.Size() < 150_000 {
		t.Errorf("screenshot %dx%d, %d bytes: want 1280x4000 with content", b.Dx(), b.Dy(), fi.Size())
	}
	// A rendered page has text and colour all the way down, not a blank
	// or an error page: sample rows and count non-white pixels.
	b := img.Bounds()
	blankBands := 0
	for band := 0; band < 10; band++ {
		ink := 0
		for y := b.Min.Y + band*b.Dy()/10; y < b.Min.Y+(band+1)*b.Dy()/10; y += 4 {
			for x := b.Min.X; x < b.Max.X; x += 4 {
				r, g, bl, _ := img.At(x, y).RGBA()
				if r < 0xe000 || g < 0xe000 || bl < 0xe000 {
					ink++
				}
			}
		}
		if ink < 200 {
			blankBands++
		}
	}
	if blankBands > 0 {
		t.Errorf("%d of 10 horizontal bands of the screenshot are blank", blankBands)
	}
	if *update {
		// Keep a copy to look at: testdata is not committed for PNGs.
		data, _ := os.ReadFile(shot)
		os.WriteFile(filepath.Join(os.TempDir(), "parity-report.png"), data, 0o644)
	}
}

// pageRequests lists URL requests in a Chromium net log initiated by a
// page (initiator is an origin), other than the report itself.
func pageRequests(t *testing.T, path, base string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Chromium may leave the log without its closing brackets when it
	// exits; close them.
	s := strings.TrimSpace(string(raw))
	if !json.Valid([]byte(s)) {
		s = strings.TrimSuffix(s, ",") + "]}"
	}
	var nl struct {
		Constants struct {
			LogEventTypes map[string]int `json:"logEventTypes"`
		} `json:"constants"`
		Events []struct {
			Type   int `json:"type"`
			Params struct {
				URL       string `json:"url"`
				Initiator string `json:"initiator"`
			} `json:"params"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(s), &nl); err != nil {
		t.Fatalf("net log: %v", err)
	}
	start, ok := nl.Constants.LogEventTypes["URL_REQUEST_START_JOB"]
	if !ok {
		t.Fatal("net log: no URL_REQUEST_START_JOB event type")
	}
	var out []string
	seenReport := false
	for _, e := range nl.Events {
		if e.Type != start {
			continue
		}
		if e.Params.URL == base+"/report.html" {
			seenReport = true
			continue
		}
		if e.Params.Initiator != "" && e.Params.Initiator != "not an origin" {
			out = append(out, e.Params.URL)
		}
	}
	if !seenReport {
		t.Error("net log: the report itself was not requested; is the log complete?")
	}
	return out
}

// TestRunReports: a run with reports on writes
// reports/<feature>/<window>.html to the output store, and the config's
// `report: true` jobs select the features.
func TestRunReports(t *testing.T) {
	f := getFixture(t)
	d := f.data["refund_approval"]
	last := d.Windows[len(d.Windows)-1].Window
	r, err := jobs.Open(context.Background(), f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Evaluate(context.Background(), []eval.Window{last}, jobs.Options{Features: []string{"refund_approval"}, Report: true, Now: func() time.Time { return f.now }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	key := html.KeyRunReport("refund_approval", last)
	found := false
	for _, k := range res.Outputs {
		found = found || k == key
	}
	if !found {
		t.Fatalf("outputs %v lack %s", res.Outputs, key)
	}
	page, _, err := r.Out.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, []byte(`id="parity-data"`)) || !bytes.Contains(page, []byte("refund_approval")) {
		t.Errorf("%s is not a report of refund_approval", key)
	}
	cfg := *f.cfg
	if got := html.RunFeatures(&cfg, nil, false); len(got) != 0 {
		t.Errorf("no report job: features %v", got)
	}
	cfg.Jobs = []config.Job{{Name: "daily", Features: []string{"ticket_routing"}, Report: true}}
	if got := html.RunFeatures(&cfg, nil, false); len(got) != 1 || got[0] != "ticket_routing" {
		t.Errorf("report job for ticket_routing: features %v", got)
	}
	if got := html.RunFeatures(&cfg, []string{"refund_approval"}, false); len(got) != 0 {
		t.Errorf("run of refund_approval with a report job for ticket_routing: features %v", got)
	}
}

// TestHTMLGolden renders the whole HTML report of testdata/report.json
// and compares it with testdata/report.html byte for byte (charts
// included); -update rewrites it after a deliberate change.
func TestHTMLGolden(t *testing.T) {
	d := loadGoldenData(t)
	page := render(t, d)
	if *update {
		if err := os.WriteFile("testdata/report.html", page, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/report.html")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(page, want) {
		i := 0
		for i < len(page) && i < len(want) && page[i] == want[i] {
			i++
		}
		lo := max(0, i-120)
		t.Errorf("HTML differs from testdata/report.html at byte %d (run go test -run TestHTMLGolden -update after checking):\n got %q\nwant %q", i, page[lo:min(len(page), i+120)], want[lo:min(len(want), i+120)])
	}
}
