package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/exchange-sim/exchange/internal/config"
)

// TestClusterEndpointsNeedTokens runs a one-node cluster and drives
// `exchange cluster` against its /cluster endpoints: no token or a wrong one
// is refused (401), a viewer token reads the status but may not change the
// membership (403), an operator token may (here refused as a bad request,
// which is past the check).
func TestClusterEndpointsNeedTokens(t *testing.T) {
	var v *venue
	// The ports were free a moment ago; another test's listener may take
	// one in between, so a bind failure picks new ports (three tries).
	for try := 1; ; try++ {
		dir := t.TempDir()
		fix, web, raft := freePort(t), freePort(t), freePort(t)
		yaml := string(config.DefaultYAML()) + "\ncluster:\n  node_id: n1\n  peers:\n    - {id: n1, raft: " + raft + ", fix: " + fix + ", http: " + web + "}\n"
		cfg, err := config.Parse([]byte(yaml), "test")
		if err != nil {
			t.Fatal(err)
		}
		cfg.DataDir, cfg.ListenFIX, cfg.ListenHTTP = dir, fix, web
		v, err = startVenue(cfg, venueOptions{dataDir: dir, durability: "batch"}, testLogger())
		if err == nil {
			break
		}
		if try == 3 || !strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("startVenue: %v", err)
		}
	}
	t.Cleanup(func() { _ = v.stop() })
	deadline := time.Now().Add(20 * time.Second)
	for !v.node.IsLeader() {
		if time.Now().After(deadline) {
			t.Fatal("the one node did not lead within 20 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	run := func(token string, args ...string) (string, error) {
		var out, errb bytes.Buffer
		env := func(k string) string {
			if k == "EXCHANGE_ADMIN_TOKEN" {
				return token
			}
			return ""
		}
		err := runClusterCmd(append(args, "--http", v.httpAddr), env, &out, &errb)
		return out.String(), err
	}
	cases := []struct {
		token   string
		args    []string
		errWant string // "" : success
		outWant string
	}{
		{"", []string{"status"}, "valid admin token is required", `"error": "a valid bearer token is required`},
		{"not-a-token", []string{"status"}, "valid admin token is required", ""},
		{"demo-viewer-token", []string{"status"}, "", `"leading": true`},
		{"demo-viewer-token", []string{"transfer"}, "operator token is needed", `has role viewer`},
		{"demo-viewer-token", []string{"add", "--id", "n2"}, "operator token is needed", ""},
		{"demo-operator-token", []string{"add", "--id", "n2"}, "400 Bad Request", "parameter raft is required"},
		{"demo-operator-token", []string{"status"}, "", `"id": "n1"`},
	}
	for _, c := range cases {
		out, err := run(c.token, c.args...)
		switch {
		case c.errWant == "" && err != nil:
			t.Errorf("%q %v: %v\n%s", c.token, c.args, err, out)
		case c.errWant != "" && (err == nil || !strings.Contains(err.Error(), c.errWant)):
			t.Errorf("%q %v: error %v, want one saying %q\n%s", c.token, c.args, err, c.errWant, out)
		case !strings.Contains(out, c.outWant):
			t.Errorf("%q %v: answer lacks %q:\n%s", c.token, c.args, c.outWant, out)
		}
	}
	// The flag overrides the environment.
	if _, err := run("", "status", "--token", "demo-viewer-token"); err != nil {
		t.Errorf("--token: %v", err)
	}
}
