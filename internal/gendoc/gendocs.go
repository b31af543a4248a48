//go:build gendocs

package gendoc

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// fallbackDate dates a page when neither the command line nor git says
// when it was made: a fixed day, so that the output stays reproducible.
const fallbackDate = "1970-01-01"

// Main is a command's generator: with args "OUTDIR [VERSION [DATE]]" it
// writes OUTDIR/man/NAME.1 and OUTDIR/completions/NAME.bash, _NAME (zsh)
// and NAME.fish from the model build returns, and exits. VERSION defaults
// to "dev"; DATE (2026-11-30) to the last commit's date, else 1970-01-01.
func Main(args []string, build func() (*Model, error)) {
	if err := generate(args, build); err != nil {
		fmt.Fprintf(os.Stderr, "gendocs: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func generate(args []string, build func() (*Model, error)) error {
	if len(args) < 1 || len(args) > 3 {
		return fmt.Errorf("usage: go run -tags gendocs ./cmd/NAME OUTDIR [VERSION [DATE]]")
	}
	m, err := build()
	if err != nil {
		return err
	}
	m.Version, m.Date = "dev", ""
	if len(args) > 1 {
		m.Version = args[1]
	}
	if len(args) > 2 {
		m.Date = args[2]
	} else {
		m.Date = commitDate()
	}
	if _, err := time.Parse(time.DateOnly, m.Date); err != nil {
		return fmt.Errorf("DATE %q is not like 2026-11-30", m.Date)
	}
	out := args[0]
	files := []struct {
		path   string
		render func(io.Writer, *Model) error
	}{
		{filepath.Join(out, "man", m.Name+".1"), Man},
		{filepath.Join(out, "completions", m.Name+".bash"), Bash},
		{filepath.Join(out, "completions", "_"+m.Name), Zsh},
		{filepath.Join(out, "completions", m.Name+".fish"), Fish},
	}
	for _, f := range files {
		var buf bytes.Buffer
		if err := f.render(&buf, m); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(f.path, buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// commitDate is the last commit's date, as git gives it, else the
// fallback.
func commitDate() string {
	out, err := exec.Command("git", "log", "-1", "--format=%cs").Output()
	if d := strings.TrimSpace(string(out)); err == nil && d != "" {
		return d
	}
	return fallbackDate
}
