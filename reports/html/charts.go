package html

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"regexp"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Charts are drawn with gonum.org/v1/plot onto its SVG canvas without
// embedded fonts: the SVG names a font family (Liberation Sans, metric
// compatible with Arial/Helvetica) that the browser resolves locally or
// substitutes, so nothing is fetched. The SVG is inlined in the HTML.

// palette is Okabe-Ito: distinguishable by readers with colour-vision
// deficiencies and in greyscale print.
var palette = []color.Color{
	color.RGBA{0, 114, 178, 255},   // blue
	color.RGBA{213, 94, 0, 255},    // vermillion
	color.RGBA{0, 158, 115, 255},   // bluish green
	color.RGBA{204, 121, 167, 255}, // reddish purple
	color.RGBA{230, 159, 0, 255},   // orange
	color.RGBA{86, 180, 233, 255},  // sky blue
	color.RGBA{0, 0, 0, 255},       // black
	color.RGBA{240, 228, 66, 255},  // yellow
}

var (
	red  = color.RGBA{200, 0, 0, 255}
	grey = color.RGBA{110, 110, 110, 255}
)

// point is one window's figure with its interval (NaN when absent).
type point struct {
	t         time.Time
	y, lo, hi float64
}

type series struct {
	name   string
	color  color.Color
	points []point
}

// hline is a horizontal reference line: a threshold or a margin.
type hline struct {
	y      float64
	label  string
	color  color.Color
	dashes []vg.Length
}

type chartSpec struct {
	title, ylabel string
	series        []series
	hlines        []hline
	// ymin/ymax force the range to include these (NaN: automatic).
	ymin, ymax float64
	// window length, to pad the x axis by half a window on each side.
	pad  time.Duration
	w, h vg.Length
}

var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

func newPlot(title string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sans, 11)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 9)
		a.Tick.Label.Font = font.From(sans, 8)
	}
	p.Legend.TextStyle.Font = font.From(sans, 8)
	p.Legend.Top = true
	p.Legend.ThumbnailWidth = 14
	return p
}

// timeChart draws series over windows with interval bands and reference
// lines.
func timeChart(s chartSpec) (template.HTML, error) {
	p := newPlot(s.title)
	p.X.Label.Text = "window start (UTC)"
	p.Y.Label.Text = s.ylabel
	p.X.Tick.Marker = dayTicks{}
	p.Add(plotter.NewGrid())
	tmin, tmax := math.Inf(1), math.Inf(-1)
	for _, sr := range s.series {
		for _, pt := range sr.points {
			x := float64(pt.t.Unix())
			tmin, tmax = math.Min(tmin, x), math.Max(tmax, x)
		}
	}
	if math.IsInf(tmin, 0) {
		return "", nil
	}
	pad := s.pad.Seconds() / 2
	p.X.Min, p.X.Max = tmin-pad, tmax+pad
	for _, sr := range s.series {
		r, g, b, _ := sr.color.RGBA()
		band := color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 60}
		for _, seg := range segments(sr.points, func(pt point) bool { return finite(pt.lo) && finite(pt.hi) }) {
			var xy plotter.XYs
			for _, pt := range seg {
				xy = append(xy, plotter.XY{X: float64(pt.t.Unix()), Y: pt.hi})
			}
			for i := len(seg) - 1; i >= 0; i-- {
				xy = append(xy, plotter.XY{X: float64(seg[i].t.Unix()), Y: seg[i].lo})
			}
			if len(seg) == 1 { // a lone window: a thin vertical band
				xy = plotter.XYs{{X: xy[0].X - pad/3, Y: seg[0].hi}, {X: xy[0].X + pad/3, Y: seg[0].hi}, {X: xy[0].X + pad/3, Y: seg[0].lo}, {X: xy[0].X - pad/3, Y: seg[0].lo}}
			}
			poly, err := plotter.NewPolygon(xy)
			if err != nil {
				return "", err
			}
			poly.Color = band
			poly.LineStyle.Width = 0
			p.Add(poly)
		}
		first := true
		for _, seg := range segments(sr.points, func(pt point) bool { return finite(pt.y) }) {
			var xy plotter.XYs
			for _, pt := range seg {
				xy = append(xy, plotter.XY{X: float64(pt.t.Unix()), Y: pt.y})
			}
			l, sc, err := plotter.NewLinePoints(xy)
			if err != nil {
				return "", err
			}
			l.Color, l.Width = sr.color, vg.Points(1.2)
			sc.Color, sc.Radius, sc.Shape = sr.color, vg.Points(1.8), draw.CircleGlyph{}
			p.Add(l, sc)
			if first && sr.name != "" {
				p.Legend.Add(sr.name, l, sc)
				first = false
			}
		}
	}
	for _, hl := range s.hlines {
		l, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: hl.y}, {X: p.X.Max, Y: hl.y}})
		if err != nil {
			return "", err
		}
		l.Color, l.Width, l.Dashes = hl.color, vg.Points(1.2), hl.dashes
		p.Add(l)
		if hl.label != "" {
			p.Legend.Add(hl.label, l)
		}
	}
	if finite(s.ymin) {
		p.Y.Min = math.Min(p.Y.Min, s.ymin)
	}
	if finite(s.ymax) {
		p.Y.Max = math.Max(p.Y.Max, s.ymax)
	}
	// Leave room at the top for the legend (about 9% of the height per
	// entry) and a little below, so a margin line on the edge stays visible.
	entries := len(s.hlines)
	for _, sr := range s.series {
		if sr.name != "" {
			entries++
		}
	}
	span := p.Y.Max - p.Y.Min
	if span == 0 {
		span = 1
	}
	p.Y.Max += span * (0.05 + 0.1*float64(entries))
	p.Y.Min -= span * 0.05
	return svgOf(p, s.w, s.h, s.title)
}

// forestRow is one class in the forest plot.
type forestRow struct {
	label         string
	est, lo, hi   float64
	fail, missing bool
}

// forestChart draws AI − legacy accuracy differences per class with
// their intervals, the non-inferiority margin and zero.
func forestChart(title string, rows []forestRow, margin float64, w, h vg.Length) (template.HTML, error) {
	p := newPlot(title)
	p.X.Label.Text = "AI − legacy accuracy (percentage points)"
	p.Add(plotter.NewGrid())
	var names []string
	xmin, xmax := -100*margin, 0.0
	for i, r := range rows {
		names = append(names, r.label)
		if r.missing {
			continue
		}
		y := float64(i)
		c := palette[0]
		if r.fail {
			c = red
		}
		if finite(r.lo) && finite(r.hi) {
			l, err := plotter.NewLine(plotter.XYs{{X: 100 * r.lo, Y: y}, {X: 100 * r.hi, Y: y}})
			if err != nil {
				return "", err
			}
			l.Color, l.Width = c, vg.Points(2)
			p.Add(l)
			xmin, xmax = math.Min(xmin, 100*r.lo), math.Max(xmax, 100*r.hi)
		}
		sc, err := plotter.NewScatter(plotter.XYs{{X: 100 * r.est, Y: y}})
		if err != nil {
			return "", err
		}
		sc.Color, sc.Radius, sc.Shape = c, vg.Points(3.5), draw.BoxGlyph{}
		p.Add(sc)
		xmin, xmax = math.Min(xmin, 100*r.est), math.Max(xmax, 100*r.est)
	}
	span := math.Max(xmax-xmin, 1)
	p.X.Min, p.X.Max = xmin-0.1*span, xmax+0.1*span
	ylo, yhi := -0.7, float64(len(rows))-0.3
	for _, v := range []struct {
		x      float64
		label  string
		c      color.Color
		dashes []vg.Length
	}{{-100 * margin, fmt.Sprintf("non-inferiority margin (−%g pt)", 100*margin), red, []vg.Length{vg.Points(4), vg.Points(3)}}, {0, "no difference", grey, nil}} {
		l, err := plotter.NewLine(plotter.XYs{{X: v.x, Y: ylo}, {X: v.x, Y: yhi}})
		if err != nil {
			return "", err
		}
		l.Color, l.Width, l.Dashes = v.c, vg.Points(1.2), v.dashes
		p.Add(l)
		p.Legend.Add(v.label, l)
	}
	p.NominalY(names...)
	p.Y.Min, p.Y.Max = ylo, yhi+0.6
	return svgOf(p, w, h, title)
}

var svgHead = regexp.MustCompile(`^(?s).*?<svg width="[^"]*" height="[^"]*"`)

// svgOf renders a plot as an inline <svg> element: no XML prologue,
// scalable (viewBox only), labelled for screen readers.
func svgOf(p *plot.Plot, w, h vg.Length, label string) (template.HTML, error) {
	c := vgsvg.New(w, h)
	// A small inset keeps the outermost labels off the SVG's edge.
	p.Draw(draw.Crop(draw.New(c), vg.Points(4), -vg.Points(4), vg.Points(2), -vg.Points(2)))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return "", err
	}
	s := svgHead.ReplaceAllLiteralString(b.String(), `<svg class="chart" role="img" aria-label="`+template.HTMLEscapeString(label)+`"`)
	return template.HTML(strings.TrimSpace(s)), nil //nolint:gosec // generated by gonum/plot from numbers and escaped labels
}

// segments splits points into runs where ok holds, so gaps (windows
// without a figure) show as gaps.
func segments(pts []point, ok func(point) bool) [][]point {
	var out [][]point
	var cur []point
	for _, pt := range pts {
		if ok(pt) {
			cur = append(cur, pt)
			continue
		}
		if len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// dayTicks puts major ticks on whole days (about 6 labels), so dates
// read as dates rather than gonum's default decimal steps of seconds.
type dayTicks struct{}

func (dayTicks) Ticks(min, max float64) []plot.Tick {
	const day = 86400.0
	span := (max - min) / day
	step := 1.0
	for _, s := range []float64{1, 2, 7, 14, 28, 56, 91, 182, 364} {
		step = s
		if span/s <= 7 {
			break
		}
	}
	var ticks []plot.Tick
	start := math.Ceil(min/day) * day
	for x := start; x <= max; x += step * day {
		ticks = append(ticks, plot.Tick{Value: x, Label: time.Unix(int64(x), 0).UTC().Format("Jan 02")})
	}
	for x := math.Ceil(min/day) * day; x <= max && step > 1; x += day {
		ticks = append(ticks, plot.Tick{Value: x})
	}
	return ticks
}
