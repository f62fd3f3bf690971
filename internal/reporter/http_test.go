package reporter

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"
)

// FuzzHistoryQuery: no query string makes the data service fail other than
// with a 400 or 404 naming the parameter (and never panic).
func FuzzHistoryQuery(f *testing.F) {
	for _, s := range []string{"interval=1m", "interval=1s&from=0&to=99999999999", "from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z",
		"interval=bogus", "from=-5", "to=abc", "limit=0", "limit=100001", "limit=3", "from=9999999999&to=1", "%zz"} {
		f.Add("candles", "BENCH", s)
		f.Add("trades", "BENCH", s)
	}
	f.Add("trades", "NOPE", "")
	f.Add("other", "BENCH", "")
	dir, vcfg := fixtureJournal(f, 2_000)
	r := catchUp(f, Config{Venue: vcfg.Registry, DataDir: dir, DB: OpenOptions{Path: filepath.Join(f.TempDir(), "r.db")}, Log: zerolog.Nop()})
	f.Cleanup(func() { r.Close() })
	h := r.DB().Handler()
	f.Fuzz(func(t *testing.T, kind, sym, query string) {
		u := &url.URL{Path: "/api/history/" + kind + "/" + sym, RawQuery: query}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL = u
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusNotFound, http.StatusMovedPermanently, http.StatusTemporaryRedirect:
		default:
			t.Fatalf("%s: status %d: %s", u, w.Code, w.Body.String())
		}
	})
}
