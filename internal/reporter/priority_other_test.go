//go:build !linux

package reporter

func runNiceChild() int { return 0 }
