//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/alecthomas/kong"
	"github.com/cowcp/cowcp/internal/buildinfo"
	"github.com/cowcp/cowcp/internal/errwriter"
	"github.com/cowcp/cowcp/tree/cpmsg"
	"github.com/cowcp/cowcp/tree/usage"
)

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1 // some PATH or file could not be measured
	exitUsage  = 2 // the command line was wrong
)

// run is the whole command, testable without exec.
func run(args []string, stdout, stderr io.Writer) int {
	var c cli
	exit := -1
	parser, err := newParser(&c,
		kong.Vars{"version": "cowdu " + buildinfo.Read().String()},
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { exit = code }),
	)
	if err != nil {
		panic(err) // the CLI struct itself is wrong: a programming error
	}
	_, err = parser.Parse(args)
	if exit >= 0 {
		return exit // --help or --version
	}
	if err != nil {
		fmt.Fprintf(stderr, "cowdu: %v\nTry 'cowdu --help' for more information.\n", err)
		return exitUsage
	}

	// Errors inside a tree are printed as the walk meets them; the
	// counter never calls OnError while run writes.
	counter := usage.NewCounter(usage.Options{
		Files:   c.All,
		OnError: func(err error) { fmt.Fprintf(stderr, "cowdu: %v\n", err) },
	})
	// A full disk or a closed pipe on stdout is reported once, at the
	// end, with a failing exit status.
	w := errwriter.New(stdout)
	out := newPrinter(&c, w)
	if len(c.Paths) == 0 {
		c.Paths = []string{"."} // as du
	}
	code := exitOK
	for _, path := range c.Paths {
		u, err := counter.Measure(path)
		if err != nil {
			fmt.Fprintf(stderr, "cowdu: %v\n", err)
			code = exitFailed
			continue
		}
		if u.Errors > 0 {
			code = exitFailed
		}
		if u.Unmapped > 0 {
			fmt.Fprintf(stderr, "cowdu: warning: %s: %d %s on a filesystem without FIEMAP %s counted by allocated blocks, as exclusive\n",
				cpmsg.Quote(path), u.Unmapped, plural(u.Unmapped, "file", "files"), plural(u.Unmapped, "was", "were"))
		}
		out.path(u)
	}
	out.total(counter.Total())
	if w.Err() != nil {
		fmt.Fprintf(stderr, "cowdu: write error: %s\n", cpmsg.Reason(w.Err()))
		return exitFailed
	}
	return code
}

// printer writes the report, as lines or as one JSON object at the end.
type printer struct {
	w      io.Writer
	json   bool
	size   func(uint64) string
	report jsonReport
}

func newPrinter(c *cli, w io.Writer) *printer {
	p := &printer{w: w, json: c.JSON, size: human}
	if c.Bytes {
		p.size = func(n uint64) string { return strconv.FormatUint(n, 10) }
	}
	if p.json {
		p.report.Version = reportVersion
		p.report.Paths = []jsonUsage{}
	} else {
		fmt.Fprintf(w, "%10s  %10s  %10s  %10s  %s\n", "Total", "Exclusive", "Shared", "Set shared", "Filename")
	}
	return p
}

// plural is the word that agrees with n: one for 1, many otherwise.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func human(n uint64) string { return cpmsg.HumanBytes(int64(n)) }

func (p *printer) path(u usage.Usage) {
	if p.json {
		j := toJSON(u)
		for _, f := range u.Files {
			j.Files = append(j.Files, jsonFile{Path: f.Path, Total: f.Total, Exclusive: f.Exclusive, Shared: f.Shared})
		}
		p.report.Paths = append(p.report.Paths, j)
		return
	}
	for _, f := range u.Files {
		if f.Path != u.Path { // a PATH that is a file gets one line
			fmt.Fprintf(p.w, "%10s  %10s  %10s  %10s  %s\n", p.size(f.Total), p.size(f.Exclusive), p.size(f.Shared), "-", f.Path)
		}
	}
	p.line(u, u.Path)
}

func (p *printer) total(u usage.Usage) {
	if !p.json {
		p.line(u, "total")
		return
	}
	p.report.Total = toJSON(u)
	p.report.Total.Path = ""
	enc := json.NewEncoder(p.w)
	enc.SetIndent("", "  ")
	enc.Encode(p.report)
}

func (p *printer) line(u usage.Usage, name string) {
	fmt.Fprintf(p.w, "%10s  %10s  %10s  %10s  %s\n", p.size(u.Total), p.size(u.Exclusive), p.size(u.Shared), p.size(u.SetShared), name)
}

// reportVersion is the JSON report's "version": it grows when a field
// changes its meaning or goes away, not when one is added.
const reportVersion = 1

type jsonReport struct {
	Version int         `json:"version"`
	Paths   []jsonUsage `json:"paths"`
	Total   jsonUsage   `json:"total"`
}

type jsonUsage struct {
	Path      string     `json:"path,omitempty"`
	Total     uint64     `json:"total_bytes"`
	Exclusive uint64     `json:"exclusive_bytes"`
	Shared    uint64     `json:"shared_bytes"`
	SetShared uint64     `json:"set_shared_bytes"`
	Files     []jsonFile `json:"files,omitempty"`
}

type jsonFile struct {
	Path      string `json:"path"`
	Total     uint64 `json:"total_bytes"`
	Exclusive uint64 `json:"exclusive_bytes"`
	Shared    uint64 `json:"shared_bytes"`
}

func toJSON(u usage.Usage) jsonUsage {
	return jsonUsage{Path: u.Path, Total: u.Total, Exclusive: u.Exclusive, Shared: u.Shared, SetShared: u.SetShared}
}
