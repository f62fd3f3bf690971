package broker

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// WritePlotSVG draws latency against percentile (log scale of
// 1/(1-percentile), the usual HdrHistogram view: 0 %, 90 %, 99 %, ...
// 99.999 %) for the ack latency and, if any, the time to first fill.
func (r *Result) WritePlotSVG(w io.Writer) error {
	const (
		width, height         = 800, 480
		left, right, top, bot = 80, 40, 40, 60
		decades               = 5.0 // up to 99.999 %
	)
	type series struct {
		name  string
		color string
		h     *hdrhistogram.Histogram
	}
	all := []series{{"ack", "#1f77b4", r.Ack}, {"first fill", "#d62728", r.Fill}}
	var ss []series
	minNs, maxNs := int64(math.MaxInt64), int64(1)
	for _, s := range all {
		if s.h != nil && s.h.TotalCount() > 0 {
			ss = append(ss, s)
			maxNs = max(maxNs, s.h.Max())
			minNs = min(minNs, s.h.Min())
		}
	}
	if len(ss) == 0 {
		minNs = 1000
	}
	// Log scale on both axes: one outlier must not flatten the rest.
	lo := math.Floor(math.Log10(float64(max(minNs, 1))))
	hi := math.Ceil(math.Log10(float64(maxNs)))
	if hi <= lo {
		hi = lo + 1
	}
	pw, ph := float64(width-left-right), float64(height-top-bot)
	x := func(k float64) float64 { return left + pw*k/decades }
	y := func(ns int64) float64 {
		return top + ph*(1-(math.Log10(float64(max(ns, 1)))-lo)/(hi-lo))
	}

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15">Latency by percentile (%d requests)</text>`+"\n", left, r.Ack.TotalCount())
	for e := lo; e <= hi; e++ {
		ns := int64(math.Pow(10, e))
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, width-right, y(ns), y(ns))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y(ns)+4, formatNs(ns))
	}
	labels := []string{"0%", "90%", "99%", "99.9%", "99.99%", "99.999%"}
	for k, l := range labels {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#ddd"/>`+"\n", x(float64(k)), x(float64(k)), top, height-bot)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x(float64(k)), height-bot+18, l)
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">percentile</text>`+"\n", left+pw/2, height-16)
	fmt.Fprintf(&b, `<text transform="translate(18 %.1f) rotate(-90)" text-anchor="middle">latency (log scale)</text>`+"\n", top+ph/2)
	for i, s := range ss {
		var pts strings.Builder
		for k := 0.0; k <= decades+1e-9; k += 0.05 {
			p := 100 * (1 - math.Pow(10, -k))
			fmt.Fprintf(&pts, "%.1f,%.1f ", x(k), y(s.h.ValueAtPercentile(p)))
		}
		fmt.Fprintf(&pts, "%.1f,%.1f", x(decades), y(s.h.Max()))
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", s.color, strings.TrimSpace(pts.String()))
		ly := top + 16 + 18*i
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"/>`, left+12, left+36, ly-4, ly-4, s.color)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s (max %s)</text>`+"\n", left+42, ly, s.name, formatNs(s.h.Max()))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#444"/>`+"\n", left, top, pw, ph)
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
