//go:build !linux

package reporter

import "errors"

// LowerPriority is built for Linux only (see priority_linux.go).
func LowerPriority(nice int) error {
	return errors.New("lowering the reporter's priority is supported on Linux only")
}
