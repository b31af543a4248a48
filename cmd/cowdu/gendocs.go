//go:build linux && gendocs

package main

import (
	"os"
	"testing"

	"github.com/cowcp/cowcp/internal/gendoc"
)

// Built with -tags gendocs, cowdu writes its manual page and completions
// instead of measuring:
//
//	go run -tags gendocs ./cmd/cowdu OUTDIR [VERSION [DATE]]
//
// writes OUTDIR/man/cowdu.1 and OUTDIR/completions/cowdu.bash, _cowdu and
// cowdu.fish (scripts/gendocs runs it for both commands). It runs before
// main, which it never returns to; a test binary built with the tag runs
// its tests instead.
func init() {
	if !testing.Testing() {
		gendoc.Main(os.Args[1:], manual)
	}
}
