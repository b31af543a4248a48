//go:build linux && gendocs

package main

import (
	"os"
	"testing"

	"github.com/cowcp/cowcp/internal/gendoc"
)

// Built with -tags gendocs, cowcp writes its manual page and completions
// instead of copying:
//
//	go run -tags gendocs ./cmd/cowcp OUTDIR [VERSION [DATE]]
//
// writes OUTDIR/man/cowcp.1 and OUTDIR/completions/cowcp.bash, _cowcp and
// cowcp.fish (scripts/gendocs runs it for both commands). It runs before
// main, which it never returns to; a test binary built with the tag runs
// its tests instead.
func init() {
	if !testing.Testing() {
		gendoc.Main(os.Args[1:], manual)
	}
}
