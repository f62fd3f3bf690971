//go:build race

package matching

// raceEnabled shrinks the randomized tests under the race detector, which
// slows them about tenfold; they still run in full without it.
const raceEnabled = true
