package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionString(t *testing.T) {
	platform := " " + runtime.GOOS + "/" + runtime.GOARCH
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	const rev = "0e9af19c2b1d4e5f60718293a4b5c6d7e8f90123"
	for name, tc := range map[string]struct {
		info *debug.BuildInfo
		want string
	}{
		"release with VCS": {
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.5.0"},
				Settings: vcs("-trimpath", "true", "vcs", "git", "vcs.revision", rev, "vcs.time", "2026-03-01T10:00:00Z", "vcs.modified", "false")},
			"tollgate v1.5.0 (revision " + rev + ", 2026-03-01T10:00:00Z) go1.26.8" + platform,
		},
		"dirty checkout": {
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
				Settings: vcs("vcs.revision", rev, "vcs.time", "2026-03-01T10:00:00Z", "vcs.modified", "true")},
			"tollgate (devel) (revision " + rev + ", 2026-03-01T10:00:00Z, modified) go1.26.8" + platform,
		},
		"revision without time": {
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs("vcs.revision", "abc")},
			"tollgate (devel) (revision abc) go1.26.8" + platform,
		},
		"go install module@version, no VCS": {
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.5.0"}},
			"tollgate v1.5.0 go1.26.8" + platform,
		},
		"time without revision is not shown": {
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.5.0"}, Settings: vcs("vcs.time", "2026-03-01T10:00:00Z", "vcs.modified", "true")},
			"tollgate v1.5.0 go1.26.8" + platform,
		},
		"no build info": {nil, "tollgate (unknown) " + runtime.Version() + platform},
		"empty main version": {
			&debug.BuildInfo{Main: debug.Module{}},
			"tollgate (unknown) " + runtime.Version() + platform,
		},
	} {
		if got := versionString(tc.info); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", name, got, tc.want)
		}
	}
}

func TestVersionCommand(t *testing.T) {
	r := cli(t, nil, "version").want(t, 0)
	if !strings.HasPrefix(r.stdout, "tollgate ") || !strings.Contains(r.stdout, runtime.GOOS+"/"+runtime.GOARCH) ||
		strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("stdout %q, want one line with the version and platform", r.stdout)
	}
	cli(t, nil, "version", "extra").want(t, 2)
}
