package config

import "fmt"

// Where serve runs the reporter (reporter.process).
const (
	// ReporterChild is a child process of serve at a lower CPU priority
	// (reporter.nice): it takes only the CPU time the venue leaves.
	ReporterChild = "child"
	// ReporterInline is a goroutine of serve, sharing its cores through
	// Go's scheduler (which has no priorities).
	ReporterInline = "inline"
)

// resolveReporter checks reporter.process and reporter.nice.
func (c *Config) resolveReporter(f *File) error {
	switch c.ReporterProcess {
	case ReporterChild, ReporterInline:
	default:
		return fmt.Errorf("reporter.process: %q is not %s or %s", c.ReporterProcess, ReporterChild, ReporterInline)
	}
	if f.Reporter.Nice != nil {
		if n := *f.Reporter.Nice; n < 0 || n > 19 {
			return fmt.Errorf("reporter.nice: %d is not 0..19", n)
		}
		c.ReporterNice = *f.Reporter.Nice
	}
	return nil
}
