package evidence

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/history"
)

//go:embed evidence.tmpl
var pageTemplate string

// maxRows caps each table of the page; the JSON pack has everything.
const maxRows = 2000

// severityColor fills the chart (attributes, not CSS, so it prints).
var severityColor = map[string]string{"critical": "#9b1c1c", "high": "#d9480f", "medium": "#e8a317", "low": "#3b6fb6", "info": "#8a94a6"}

// WriteJSON writes the pack as indented JSON.
func WriteJSON(w io.Writer, p *Pack) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(p)
}

// page is the template, parsed once.
var page = template.Must(template.New("evidence").Funcs(template.FuncMap{
	"time":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"date":     func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
	"ptime":    ptime,
	"dur":      func(d history.Duration) string { return history.HumanDuration(time.Duration(d)) },
	"join":     strings.Join,
	"cap":      capText,
	"color":    func(s string) string { return severityColor[s] },
	"severity": func() []string { return Severities },
}).Parse(pageTemplate))

// ChartHTML is the pack's chart alone (inline SVG and legend), for other
// pages to embed.
func ChartHTML(p *Pack) (template.HTML, error) {
	var b strings.Builder
	if err := page.ExecuteTemplate(&b, "chart", drawChart(p)); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil // our template's output, escaped by it
}

// WriteHTML writes the pack as one self-contained page: no script, no
// external resource, an inline SVG chart; it prints on paper.
func WriteHTML(w io.Writer, p *Pack) error {
	v := view{Pack: p, Chart: drawChart(p), LastDay: p.To.Add(-time.Nanosecond), byKey: map[string]*Exposure{}}
	for i := range p.Findings {
		v.byKey[p.Findings[i].Key] = &p.Findings[i]
	}
	v.Findings, v.MoreFindings = capped(p.Findings)
	for _, s := range p.Sections {
		vs := viewSection{Section: s}
		for _, k := range s.Findings {
			if len(vs.Rows) == maxRows {
				vs.More++
				continue
			}
			vs.Rows = append(vs.Rows, *v.byKey[k])
		}
		v.Sections = append(v.Sections, vs)
	}
	for _, f := range p.Findings {
		if f.ResolvedAt == nil {
			v.OpenAtEnd++
		}
	}
	return page.Execute(w, v)
}

type view struct {
	*Pack
	Chart        chartView
	LastDay      time.Time
	Findings     []Exposure
	MoreFindings int
	Sections     []viewSection
	OpenAtEnd    int
	byKey        map[string]*Exposure
}

type viewSection struct {
	Section
	Rows []Exposure
	More int
}

func capped(fs []Exposure) ([]Exposure, int) {
	if len(fs) <= maxRows {
		return fs, 0
	}
	return fs[:maxRows], len(fs) - maxRows
}

func ptime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// capText shortens what came from AWS or the history so one hostile
// value cannot swamp the page (html/template escapes it).
func capText(n int, s string) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xc0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

func shortHash(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}

// chartView is the SVG, laid out in Go so the template only places it.
type chartView struct {
	Width, Height, Left, Bottom int
	Base                        int // y of the axis
	Bucket                      string
	Bars                        []bar
	Max                         int
	Ticks                       []tick
	Empty                       bool
}

type bar struct {
	X, W     float64
	Segments []segment
	Title    string
}

type segment struct {
	Y, H  float64
	Color string
}

type tick struct {
	X     float64
	Label string
}

func drawChart(p *Pack) chartView {
	c := chartView{Width: 960, Height: 240, Left: 44, Bottom: 28}
	c.Base = c.Height - c.Bottom
	c.Bucket = p.Bucket
	n := len(p.Chart)
	if n == 0 {
		c.Empty = true
		return c
	}
	for _, b := range p.Chart {
		c.Max = max(c.Max, b.Total)
	}
	scaleMax := max(c.Max, 1)
	plotW := float64(c.Width - c.Left - 8)
	plotH := float64(c.Height - c.Bottom - 12)
	bw := plotW / float64(n)
	for i, b := range p.Chart {
		x := float64(c.Left) + float64(i)*bw
		br := bar{X: x, W: max(bw*0.85, 0.5)}
		y := float64(c.Height - c.Bottom)
		var parts []string
		for _, sev := range Severities {
			k := b.BySeverity[sev]
			if k == 0 {
				continue
			}
			h := float64(k) / float64(scaleMax) * plotH
			y -= h
			br.Segments = append(br.Segments, segment{Y: y, H: h, Color: severityColor[sev]})
			parts = append(parts, fmt.Sprintf("%d %s", k, sev))
		}
		br.Title = b.Start.Format(time.DateOnly) + ": " + fmt.Sprint(b.Total) + " open"
		if len(parts) > 0 {
			br.Title += " (" + strings.Join(parts, ", ") + ")"
		}
		c.Bars = append(c.Bars, br)
	}
	// About ten date labels, evenly spaced, the first bar always one.
	every := (n + 9) / 10
	for i := 0; i < n; i += every {
		c.Ticks = append(c.Ticks, tick{X: float64(c.Left) + float64(i)*bw, Label: p.Chart[i].Start.Format(time.DateOnly)})
	}
	return c
}
