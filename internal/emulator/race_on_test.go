//go:build race

package emulator_test

// raceEnabled shrinks the large-estate test under the race detector, which
// slows the JSON work it is made of about tenfold.
const raceEnabled = true
