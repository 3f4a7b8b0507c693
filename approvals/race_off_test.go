//go:build !race

package approvals_test

const raceEnabled = false
