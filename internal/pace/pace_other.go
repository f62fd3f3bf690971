//go:build !linux

package pace

import "time"

// Fine is time.Sleep where there is no timerfd.
type Fine struct{}

// NewFine returns a Fine timer.
func NewFine() *Fine { return &Fine{} }

// Sleep sleeps for d.
func (*Fine) Sleep(d time.Duration) { time.Sleep(d) }

// Close does nothing.
func (*Fine) Close() {}
