//go:build race

package broker

// raceDetector is set when the tests run under the race detector.
const raceDetector = true
