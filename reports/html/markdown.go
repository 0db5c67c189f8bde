package html

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// Markdown writes a short summary of the report for a ticket or a pull
// request: the verdict in words, the per-class table of the latest
// window, the checklist and the lineage hashes. The HTML report holds
// the full evidence.
func Markdown(w io.Writer, d *Data) error {
	v, err := buildSummaryView(d)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	fv := d.Verdict
	fmt.Fprintf(&b, "## parity: %s is **%s** (AI traffic %g%%)\n\n", d.Feature, strings.ToUpper(fv.Verdict), fv.Traffic.Percent)
	fmt.Fprintf(&b, "Windows %s to %s (UTC), %d evaluated; verdict valid until %s.\n\n", d.From.UTC().Format("2006-01-02"), d.To.UTC().Format("2006-01-02"), len(d.Windows), fv.ValidUntil.UTC().Format("2006-01-02T15:04Z"))
	for _, s := range v.Summary[1:] {
		fmt.Fprintf(&b, "%s\n", s)
	}
	b.WriteString("\n")
	for _, e := range v.Evidence {
		fmt.Fprintf(&b, "- %s\n", mdEscape(e))
	}
	fmt.Fprintf(&b, "\n### Input classes, window %s\n\n", v.Last.Window.Start.UTC().Format("2006-01-02"))
	b.WriteString("| class | status | n | agreement | AI − legacy accuracy | reason |\n|---|---|--:|--:|--:|---|\n")
	for _, c := range v.Last.Classes {
		agr, acc := "–", "–"
		for _, m := range c.Metrics {
			switch {
			case m.Name == "divergence.critical" && finite(m.Value):
				agr = fpct(1 - m.Value)
			case strings.HasSuffix(m.Name, ".noninferiority") && finite(m.Value) && m.N > 0:
				acc = fmt.Sprintf("%+.1f pt [%+.1f, %+.1f]", 100*m.Value, 100*m.CILow, 100*m.CIHigh)
			}
		}
		reason := ""
		if c.Status != "pass" && len(c.Reasons) > 0 {
			reason = c.Reasons[0]
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s |\n", mdEscape(c.Class), c.Status, c.N, agr, acc, mdEscape(reason))
	}
	b.WriteString("\n### Decommission checklist\n\n")
	for _, c := range fv.Decommission {
		x := " "
		if c.Met {
			x = "x"
		}
		fmt.Fprintf(&b, "- [%s] %s (%s)\n", x, mdEscape(c.Item), mdEscape(c.Evidence))
	}
	fmt.Fprintf(&b, "\n<sub>config `%s` sha256 `%s`; %d input objects; parity %s; generated %s. Full evidence and methodology in the HTML report; `parity verify REPORT.html` recomputes it.</sub>\n",
		d.Lineage.ConfigPath, shortHash(d.Lineage.ConfigHash), len(d.Lineage.Inputs), d.Lineage.ParityVersion, d.GeneratedAt.UTC().Format("2006-01-02T15:04:05Z"))
	_, err = w.Write(b.Bytes())
	return err
}

// buildSummaryView is the part of the HTML view Markdown needs (no charts).
func buildSummaryView(d *Data) (*view, error) {
	if len(d.Windows) == 0 {
		return nil, fmt.Errorf("report: no windows")
	}
	v := &view{D: d, Last: &d.Windows[len(d.Windows)-1]}
	for _, w := range d.Windows {
		switch w.Status {
		case "pass":
			v.Counts.Pass++
		case "fail":
			v.Counts.Fail++
		case "insufficient_data":
			v.Counts.Insufficient++
		default:
			v.Counts.Error++
		}
		v.Counts.Total++
	}
	v.summary()
	return v, nil
}

var mdReplacer = strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;")

func mdEscape(s string) string { return mdReplacer.Replace(s) }
