//go:build !linux

package broker

import "time"

func sleepPrecise(d time.Duration) { time.Sleep(d) }
