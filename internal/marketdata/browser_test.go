package marketdata

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/exchange-sim/exchange/matching"
)

// findChromium returns the browser to drive, or skips (fails under CI=true).
func findChromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not installed (apt-get install -y chromium)")
	}
	t.Skip("chromium not installed; set CI=true to make this a failure")
	return ""
}

// feedLive runs a random session through the engine into p (via Publish and
// Run, as in production) with engine time close to the wall clock, until ctx
// ends.
func feedLive(ctx context.Context, p *Publisher, warmup int) {
	s := newSession(11, 2)
	s.noHalt = true
	s.timeNs = time.Now().Add(-time.Duration(warmup) * 150 * time.Millisecond).UnixNano()
	for i := 0; i < warmup; i++ {
		p.Publish(s.next())
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			for k := 0; k < 3; k++ {
				evs := s.next()
				for i := range evs { // keep engine time near now so 1 s candles keep coming
					evs[i].TimeNs = time.Now().UnixNano()
				}
				p.Publish(evs)
			}
		}
	}
}

// TestWebPageInBrowser loads the page in headless Chromium while a session
// trades, and checks it shows the ladder and the tape and draws candles.
func TestWebPageInBrowser(t *testing.T) {
	chromium := findChromium(t)
	p := newTestPublisher(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Add(2)
	go func() { defer wg.Done(); p.Run(ctx) }()
	go func() { defer wg.Done(); feedLive(ctx, p, 400) }()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: p.Handler()}
	go srv.Serve(ln)
	defer srv.Close()

	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 800),
	)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	url := "http://" + ln.Addr().String() + "/?symbol=AAPL&interval=1s"
	if err := chromedp.Do(bctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("browser: %v", err)
	}
	ready := `window.__md && window.__md.connected && window.__md.candles > 3 && window.__md.ladderRows > 0 && window.__md.trades > 0`
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](ready, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		md, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`JSON.stringify(window.__md)`))
		t.Fatalf("page never filled (%s): %v", md, err)
	}
	time.Sleep(1500 * time.Millisecond) // let live updates arrive and draw
	eval := func(js string) int {
		v, err := chromedp.Run(bctx, chromedp.Evaluate[int](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return v
	}
	ladderRows := eval(`document.querySelectorAll('#ladder tr.level').length`)
	tapeRows := eval(`document.querySelectorAll('#trades tr').length`)
	colored := eval(candlePixelsJS)
	last, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById('st-last').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if len(shot) > 0 {
		os.WriteFile(os.TempDir()+"/marketdata_page.png", shot, 0o644)
	}
	t.Logf("ladder rows %d, tape rows %d, last %q, candle-coloured pixels %d", ladderRows, tapeRows, last, colored)
	if ladderRows == 0 || tapeRows == 0 || last == "" || last == "–" {
		t.Fatalf("page not filled: ladder %d rows, tape %d rows, last %q", ladderRows, tapeRows, last)
	}
	if colored < 50 {
		t.Fatalf("chart looks blank: %d candle-coloured pixels", colored)
	}
	bid, ask := p.BBO(matching.SymbolID(1))
	if bid == (Level{}) && ask == (Level{}) {
		t.Fatal("the session left AAPL's book empty")
	}
}

// candlePixelsJS counts pixels of the chart's canvases close to the up and
// down candle colours (a blank chart has none).
const candlePixelsJS = `(() => {
  let n = 0;
  for (const c of document.querySelectorAll('#chart canvas')) {
    if (!c.width || !c.height) continue;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4) {
      const r = d[i], g = d[i+1], b = d[i+2];
      const near = (R, G, B) => Math.abs(r-R) < 12 && Math.abs(g-G) < 12 && Math.abs(b-B) < 12;
      if (near(0x26, 0xa6, 0x9a) || near(0xef, 0x53, 0x50)) n++;
    }
  }
  return n;
})()`
