package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of tollgate and of the Go toolchain that built it",
		Long: `version prints the module version ("(devel)" for a build from a source checkout),
the VCS revision when the build recorded one, and the Go version and platform.`,
		Example: `  tollgate version`,
		Args:    args(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintln(a.stdout, versionString())
			return nil
		},
	}
}

// versionString is "tollgate VERSION [(REVISION[, modified])] GOVERSION OS/ARCH".
func versionString() string {
	version, rev := "(unknown)", ""
	if info, ok := debug.ReadBuildInfo(); ok {
		version = info.Main.Version
		var revision, modified string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if revision != "" {
			rev = " (" + revision[:min(12, len(revision))]
			if modified == "true" {
				rev += ", modified"
			}
			rev += ")"
		}
	}
	return fmt.Sprintf("tollgate %s%s %s %s/%s", version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
