package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of tollgate and of the Go toolchain that built it",
		Long: `version prints the module version ("(devel)" for a build from a source checkout),
the VCS revision, its commit time and whether the tree had uncommitted changes
when the build recorded them, and the Go version and platform.`,
		Example: `  tollgate version`,
		Args:    args(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			info, ok := debug.ReadBuildInfo()
			if !ok {
				info = nil
			}
			fmt.Fprintln(a.stdout, versionString(info))
			return nil
		},
	}
}

// versionString formats what the build recorded as
// "tollgate VERSION [(revision REV[, TIME][, modified])] GOVERSION OS/ARCH".
// info is nil when the binary has no build information (built without
// module support); a build outside a VCS checkout, or with -buildvcs=false,
// has no vcs.* settings and so no parenthesis.
func versionString(info *debug.BuildInfo) string {
	version, goVersion := "(unknown)", runtime.Version()
	var vcs []string
	if info != nil {
		if info.Main.Version != "" {
			version = info.Main.Version
		}
		if info.GoVersion != "" {
			goVersion = info.GoVersion
		}
		vcs = vcsDetails(info.Settings)
	}
	rev := ""
	if len(vcs) > 0 {
		rev = " (" + strings.Join(vcs, ", ") + ")"
	}
	return fmt.Sprintf("tollgate %s%s %s %s/%s", version, rev, goVersion, runtime.GOOS, runtime.GOARCH)
}

// vcsDetails returns "revision REV", the commit time and "modified", each
// only when the build recorded it.
func vcsDetails(settings []debug.BuildSetting) []string {
	var revision, at, modified string
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if revision == "" {
		return nil // a time or a modified flag without a revision identifies nothing
	}
	out := []string{"revision " + revision}
	if at != "" {
		out = append(out, at)
	}
	if modified == "true" {
		out = append(out, "modified")
	}
	return out
}
