//go:build race

package tower

// raceEnabled: the race detector's instrumentation moves values to the heap
// and makes sync.Pool drop items, so allocation counts mean nothing under it.
const raceEnabled = true
