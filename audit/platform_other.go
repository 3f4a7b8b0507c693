//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package audit

import "os"

// lockFile is a no-op where flock is unavailable: on these systems the
// caller must make sure only one FileSink writes a given log.
func lockFile(*os.File) error { return nil }

// syncDir is a no-op: directories cannot be synced portably here.
func syncDir(string) error { return nil }
