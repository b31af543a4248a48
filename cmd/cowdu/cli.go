//go:build linux

package main

import "github.com/alecthomas/kong"

// cli is the whole command line.
type cli struct {
	All       bool             `short:"a" xor:"mode" help:"Also print a line for every file, sorted by name, before its PATH's line."`
	Summarize bool             `short:"s" xor:"mode" help:"Print one line per PATH and the total, without file lines (the default; as btrfs filesystem du -s)."`
	JSON      bool             `name:"json" help:"Print one JSON object with exact byte counts instead of lines."`
	Bytes     bool             `name:"bytes" xor:"units" help:"Print exact byte counts."`
	Human     bool             `short:"h" name:"human-readable" xor:"units" help:"Print sizes in binary units with one decimal, e.g. 1.5 MiB (the default)."`
	Help      helpFlag         `name:"help" help:"Show this help and exit."`
	Version   kong.VersionFlag `name:"version" help:"Print the version and exit."`

	Paths []string `arg:"" optional:"" name:"PATH" help:"Files and directories to measure; without any, the current directory, as du."`
}

const description = `Show the disk usage of each PATH: Total bytes in data extents (holes
excluded), the Exclusive bytes no other file or snapshot references, the
Shared rest, and Set shared, the device space of the shared extents with
each block counted once. Directories are walked without following symbolic
links or crossing mount points; btrfs subvolumes are entered. A file
reached twice (hard links, nested PATHs) counts once. The last line is the
total of all PATHs, whose Set shared counts blocks shared between PATHs once.`

// helpFlag is --help without kong's -h, which means --human-readable here
// as in du.
type helpFlag bool

func (helpFlag) IgnoreDefault() {}

func (helpFlag) BeforeReset(ctx *kong.Context) error {
	if err := ctx.PrintUsage(false); err != nil {
		return err
	}
	ctx.Kong.Exit(0)
	return nil
}

// newParser is cowdu's one kong parser: run adds what reading a command
// line needs (writers, exit, version) in extra, and the manual reads its
// model, so the man page and completions are the parser's own flags.
func newParser(c *cli, extra ...kong.Option) (*kong.Kong, error) {
	return kong.New(c, append([]kong.Option{
		kong.Name("cowdu"),
		kong.Description(description),
		kong.NoDefaultHelp(),
	}, extra...)...)
}
