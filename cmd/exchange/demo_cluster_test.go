package main

import (
	"bytes"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestClusterDemo runs `exchange demo --cluster 3` briefly: the leader is
// killed halfway, and each survivor's journal must hold every request the
// brokers saw acknowledged (the demo exits with an error otherwise).
func TestClusterDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three nodes for several seconds")
	}
	var out bytes.Buffer
	if err := runClusterDemo(3, 6*time.Second, 300, 7, "none", zerolog.Nop(), &out); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	re := regexp.MustCompile(`journal replayed: .*; (\d+) of (\d+) acknowledged requests in it`)
	ms := re.FindAllStringSubmatch(out.String(), -1)
	if len(ms) != 2 {
		t.Fatalf("want two survivors' replay lines, got %d:\n%s", len(ms), out.String())
	}
	for _, m := range ms {
		have, _ := strconv.Atoi(m[1])
		all, _ := strconv.Atoi(m[2])
		if all == 0 || have != all {
			t.Errorf("survivor holds %d of %d acknowledged requests:\n%s", have, all, out.String())
		}
	}
	if !regexp.MustCompile(`failover \d+(\.\d+)?m?s;`).MatchString(out.String()) {
		t.Errorf("no failover time in the summary:\n%s", out.String())
	}
}
