//go:build race

package report

// raceEnabled shrinks the 100,000-resource memory test under the race
// detector, which slows its JSON work about tenfold.
const raceEnabled = true
