package config

import (
	"strings"
	"testing"
)

func TestReporterProcessAndNice(t *testing.T) {
	c := Default()
	if c.ReporterProcess != ReporterChild || c.ReporterNice != 19 {
		t.Fatalf("default: process %q nice %d, want child 19", c.ReporterProcess, c.ReporterNice)
	}
	for _, tc := range []struct{ edit, want string }{
		{"  process: child ", "  process: sideways "},
		{"  nice: 19 ", "  nice: 25 "},
		{"  nice: 19 ", "  nice: -1 "},
	} {
		y := strings.Replace(string(DefaultYAML()), tc.edit, tc.want, 1)
		if y == string(DefaultYAML()) {
			t.Fatalf("%q is not in the default", tc.edit)
		}
		_, err := Parse([]byte(y), "test")
		if err == nil || !strings.Contains(err.Error(), "reporter.") {
			t.Errorf("%s: error %v, want one naming the reporter key", strings.TrimSpace(tc.want), err)
		}
	}
}
