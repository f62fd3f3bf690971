package admin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/exchange-sim/exchange/internal/config"
)

// A guarded handler answers as the admin API does: 401 without a valid
// token, 403 for a viewer's change, and passes the rest through.
func TestGuard(t *testing.T) {
	g, err := NewGuard(config.Default().AdminTokens, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	reached := 0
	ts := httptest.NewServer(g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		w.WriteHeader(http.StatusOK)
	})))
	defer ts.Close()
	cases := []struct {
		method, token string
		status        int
	}{
		{"GET", "", 401},
		{"GET", "wrong", 401},
		{"GET", viewerToken, 200},
		{"HEAD", viewerToken, 200},
		{"POST", viewerToken, 403},
		{"DELETE", viewerToken, 403},
		{"POST", operatorToken, 200},
		{"GET", operatorToken, 200},
		{"POST", "", 401},
	}
	want := 0
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, ts.URL+"/cluster/transfer", nil)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s with %q: %d, want %d", c.method, c.token, resp.StatusCode, c.status)
		}
		if c.status == 200 {
			want++
		} else if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s with %q: refusal is %q, want JSON", c.method, c.token, ct)
		}
		if c.status == 401 && resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s with %q: 401 without WWW-Authenticate", c.method, c.token)
		}
	}
	if reached != want {
		t.Errorf("handler reached %d times, want %d", reached, want)
	}
}
