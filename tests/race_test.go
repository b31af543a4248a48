//go:build race

package tests

// raceEnabled builds the binaries under test with -race when the tests run
// with -race, so data races in the copier fail the end-to-end suite too.
const raceEnabled = true
