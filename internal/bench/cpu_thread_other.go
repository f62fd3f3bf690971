//go:build !linux

package bench

import "time"

// ThreadCPU is not measured on this platform.
func ThreadCPU() time.Duration { return 0 }
