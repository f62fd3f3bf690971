//go:build race

package gateway

// raceDetector is set when the tests run under the race detector.
const raceDetector = true
