// Package buildinfo says which cowcp a binary is: the version, commit and
// build date a release stamps into it with -ldflags, else what the Go
// toolchain recorded (the module version of `go install ...@v1.2.3`, or the
// VCS revision of a build in a checkout).
package buildinfo

import (
	"runtime/debug"
	"strings"
)

// Set by the release build:
//
//	-X github.com/cowcp/cowcp/internal/buildinfo.version={{.Version}}
//	-X github.com/cowcp/cowcp/internal/buildinfo.commit={{.FullCommit}}
//	-X github.com/cowcp/cowcp/internal/buildinfo.date={{.CommitDate}}
var version, commit, date string

// Info is what is known of this binary's build.
type Info struct {
	Version  string // v1.2.3, a pseudo-version, or "(devel)"
	Commit   string // the full commit hash, if known
	Date     string // the commit's date (RFC 3339), if known
	Modified bool   // built from a checkout with uncommitted changes
}

// Read returns the build's information: the release's stamps first, then
// what debug.ReadBuildInfo recorded.
func Read() Info {
	in := Info{Version: version, Commit: commit, Date: date}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		if in.Version == "" {
			in.Version = "(devel)"
		}
		return in
	}
	if in.Version == "" {
		in.Version = bi.Main.Version // "(devel)" outside a module download
	}
	if in.Version == "" {
		in.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if in.Commit == "" {
				in.Commit = s.Value
			}
		case "vcs.time":
			if in.Date == "" {
				in.Date = s.Value
			}
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	return in
}

// String is the version line's text after the program name:
// "v1.2.3 (commit 0123abc, 2026-11-30T12:00:00Z)", with what is known.
func (in Info) String() string {
	var extra []string
	if in.Commit != "" {
		c := "commit " + in.Commit
		if in.Modified {
			c += ", modified"
		}
		extra = append(extra, c)
	}
	if in.Date != "" {
		extra = append(extra, in.Date)
	}
	if len(extra) == 0 {
		return in.Version
	}
	return in.Version + " (" + strings.Join(extra, ", ") + ")"
}
