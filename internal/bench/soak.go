package bench

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"time"

	"github.com/exchange-sim/exchange/internal/config"
)

// SoakConfig is the venue of the soak: the four symbols of the embedded
// default configuration and n firms of one session each (SenderCompID
// SOAK<i>, username s<i>, credential passwordHash), each with one account
// funded so that hours of the broker's flow never run out of cash or
// shares, and limits that leave the flow alone.
func SoakConfig(n int, passwordHash string) (*config.Config, error) {
	var b strings.Builder
	b.WriteString(`currency: {code: USD, minor_units: 2}
symbols:
  - {name: AAPL, tick_size: "0.01", lot_size: "1", reference_price: "190.00"}
  - {name: MSFT, tick_size: "0.01", lot_size: "1", reference_price: "420.00"}
  - {name: TSLA, tick_size: "0.01", lot_size: "1", reference_price: "250.00"}
  - {name: SPY, tick_size: "0.01", lot_size: "1", reference_price: "550.00"}
risk_defaults:
  max_order_lots: 1000000
  max_order_notional: "1000000000000.00"
  price_band_bps: 1000
  max_open_orders: 10000000
  allow_short: true
  short_limit_lots: 1000000000000
gateway: {queue_depth: 65536}
firms:
`)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `  - name: F%d
    sessions: [{sender_comp_id: SOAK%d, username: s%d, password_hash: %q}]
    accounts: [{name: A%d, cash: "1000000000000.00", holdings: {AAPL: "1000000000", MSFT: "1000000000", TSLA: "1000000000", SPY: "1000000000"}}]
`, i, i, i, passwordHash, i)
	}
	return config.Parse([]byte(b.String()), "soak configuration")
}

// SoakSample is the process and its data folder at one moment of a soak.
type SoakSample struct {
	At time.Duration // since the soak began
	// RSS is the process's resident set; HeapLive the heap that survived
	// the last collection (runtime/metrics, no collection forced).
	RSS, HeapLive uint64
	Goroutines    int
	GCs           uint64 // collections finished since the process started
	FDs           int    // open descriptors (0 where /proc/self/fd is missing)
	// JournalBytes is DATA/journal, SessionBytes DATA/fix-sessions (the FIX
	// session stores and the days they keep), OtherBytes the rest of DATA
	// (snapshots and the like).
	JournalBytes, SessionBytes, OtherBytes int64
}

// String is the sample as one progress line.
func (s SoakSample) String() string {
	return fmt.Sprintf("soak %6.0fs: RSS %6.1f MB, live heap %6.1f MB (%d GCs), %4d goroutines, %3d fds, journal %7.1f MB, session stores %7.1f MB, other %6.1f MB",
		s.At.Seconds(), mb(s.RSS), mb(s.HeapLive), s.GCs, s.Goroutines, s.FDs, float64(s.JournalBytes)/1e6, float64(s.SessionBytes)/1e6, float64(s.OtherBytes)/1e6)
}

func mb(b uint64) float64 { return float64(b) / 1e6 }

// SoakSampler takes samples of this process and of the data folder dir.
type SoakSampler struct {
	dir   string
	start time.Time
	m     []metrics.Sample
}

// NewSoakSampler starts the soak's clock now.
func NewSoakSampler(dir string) *SoakSampler {
	return &SoakSampler{dir: dir, start: time.Now(), m: []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}}
}

// Start is when the soak's clock started.
func (s *SoakSampler) Start() time.Time { return s.start }

// Sample reads the process's figures (a few system calls) and walks dir
// (one stat per file; the folder holds tens of files).
func (s *SoakSampler) Sample() SoakSample {
	out := SoakSample{At: time.Since(s.start), RSS: rss(), Goroutines: runtime.NumGoroutine(), FDs: openFDs()}
	metrics.Read(s.m)
	if s.m[0].Value.Kind() == metrics.KindUint64 {
		out.HeapLive = s.m[0].Value.Uint64()
	}
	if s.m[1].Value.Kind() == metrics.KindUint64 {
		out.GCs = s.m[1].Value.Uint64()
	}
	journal, sessions := filepath.Join(s.dir, "journal"), filepath.Join(s.dir, "fix-sessions")
	_ = filepath.WalkDir(s.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil // a file removed while walking (a rolled-over store) is simply not counted
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		switch {
		case strings.HasPrefix(path, journal+string(filepath.Separator)):
			out.JournalBytes += info.Size()
		case strings.HasPrefix(path, sessions+string(filepath.Separator)):
			out.SessionBytes += info.Size()
		default:
			out.OtherBytes += info.Size()
		}
		return nil
	})
	return out
}

func openFDs() int {
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(es) - 1 // the descriptor ReadDir itself held open
}

// SoakSummary is what the samples of a soak say against its target: the
// resident set levels off (its spread over the last half within 5%) and the
// session stores stay a small multiple of the journal.
type SoakSummary struct {
	First, Half, Last SoakSample
	// RSSSpreadLastHalf is (max-min)/min of RSS over the samples of the
	// second half; RSSMaxLastHalf and RSSMinLastHalf are those extremes.
	RSSSpreadLastHalf              float64
	RSSMinLastHalf, RSSMaxLastHalf uint64
	// SessionPerJournal is the session stores' bytes over the journal's at
	// the end.
	SessionPerJournal float64
}

// SummarizeSoak reads samples (in time order, at least one).
func SummarizeSoak(samples []SoakSample) SoakSummary {
	if len(samples) == 0 {
		return SoakSummary{}
	}
	last := samples[len(samples)-1]
	half := last.At / 2
	s := SoakSummary{First: samples[0], Last: last, Half: samples[0]}
	for _, x := range samples {
		if x.At <= half {
			s.Half = x
			continue
		}
		if s.RSSMinLastHalf == 0 || x.RSS < s.RSSMinLastHalf {
			s.RSSMinLastHalf = x.RSS
		}
		s.RSSMaxLastHalf = max(s.RSSMaxLastHalf, x.RSS)
	}
	if s.RSSMinLastHalf > 0 {
		s.RSSSpreadLastHalf = float64(s.RSSMaxLastHalf-s.RSSMinLastHalf) / float64(s.RSSMinLastHalf)
	}
	if last.JournalBytes > 0 {
		s.SessionPerJournal = float64(last.SessionBytes) / float64(last.JournalBytes)
	}
	return s
}
