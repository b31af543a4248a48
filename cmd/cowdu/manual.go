//go:build linux

package main

import (
	"fmt"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/cowcp/cowcp/internal/gendoc"
)

// cowdu's manual page and completions are made from the kong model its
// parser and its --help are made from: each flag's names, help and
// choices. Only what --help does not say is written here, from the
// README. (go run -tags gendocs ./cmd/cowdu writes them: see gendocs.go.)

// manual is cowdu's documents' model: the options from kong's model, then
// the hand-written sections in the order the page shows them (long, as a
// page's outline is; each part is a literal).
func manual() (*gendoc.Model, error) {
	k, err := newParser(&cli{}, kong.Vars{"version": ""})
	if err != nil {
		return nil, err
	}
	app := k.Model
	m := &gendoc.Model{
		Name:     "cowdu",
		Package:  "cowcp",
		Summary:  "show how much disk space files take, and how much of it they share with clones and snapshots",
		Operands: gendoc.CompleteFile,
	}
	synopsis := "cowdu [OPTION]..."
	for _, p := range app.Positional {
		name := p.Name
		if p.IsCumulative() {
			name += "..."
		}
		if !p.Required {
			name = "[" + name + "]"
		}
		synopsis += " " + name
	}
	m.Synopsis = []string{synopsis}
	for _, f := range app.Flags {
		o := gendoc.Option{Long: f.Name, Help: f.Help, Hidden: f.Hidden}
		if f.Short != 0 {
			o.Short = string(f.Short)
		}
		if !f.IsBool() && !f.IsCounter() {
			o.Arg = f.FormatPlaceHolder()
			switch f.Tag.Type {
			case "path", "existingfile":
				o.Complete = gendoc.CompleteFile
			case "existingdir":
				o.Complete = gendoc.CompleteDirectory
			}
			if f.Enum != "" {
				o.Choices = f.EnumSlice()
			}
		}
		m.Options = append(m.Options, o)
	}

	m.Description = []gendoc.Block{
		gendoc.Para(app.Help),
		gendoc.Para("`du` counts every clone in full. cowdu reads each file's extent map (FIEMAP) and " +
			"says, per PATH:"),
		gendoc.List(
			gendoc.Item{Term: "Total", Text: "Bytes in data extents (holes excluded)."},
			gendoc.Item{Term: "Exclusive", Text: "Bytes in extents no other file (or snapshot) shares."},
			gendoc.Item{Term: "Shared", Text: "Total − Exclusive."},
			gendoc.Item{Term: "Set shared", Text: "The disk space of the shared extents, each block " +
				"counted once across all the PATHs given."},
		),
		gendoc.Para("It works on any filesystem with FIEMAP (btrfs, XFS, ext4...). Where there is none, " +
			"as on tmpfs, a file's allocated blocks count as exclusive and cowdu says so once per " +
			"PATH. It agrees with `btrfs filesystem du -s` on btrfs, counts a hardlinked file once, " +
			"and does not cross mount points."),
		gendoc.Para("Sizes are in binary units with one decimal (`64.0 MiB`) unless `--bytes` asks for " +
			"exact numbers. With `-a` a line for each file (its Set shared shown as `-`) comes " +
			"before its PATH's line. The last line is the total of all PATHs."),
	}
	for _, p := range app.Positional {
		m.Description = append(m.Description, gendoc.List(gendoc.Item{Term: p.Name, Text: p.Help}))
	}
	m.Sections = []gendoc.Section{
		{Title: "JSON OUTPUT", Blocks: jsonDoc()},
		{Title: "EXIT STATUS", Blocks: []gendoc.Block{gendoc.List(
			gendoc.Item{Term: fmt.Sprint(exitOK), Text: "Every PATH was measured (or `--help` or `--version` was printed)."},
			gendoc.Item{Term: fmt.Sprint(exitFailed), Text: "Some PATH or file could not be measured " +
				"(cowdu says which on stderr and goes on), or stdout could not be written."},
			gendoc.Item{Term: fmt.Sprint(exitUsage), Text: "The command line is wrong " +
				"(`cowdu: unknown flag --x`, then `Try 'cowdu --help' for more information.`)."},
		)}},
		{Title: "EXAMPLES", Blocks: examplesDoc()},
		{Title: "SEE ALSO", Blocks: []gendoc.Block{gendoc.Para(
			"`cowcp`(1), `du`(1), `btrfs-filesystem`(8), `filefrag`(8)")}},
	}
	return m, nil
}

// jsonDoc is --json's object: jsonReport as encoding/json writes it,
// each field by its jq path (the README's table names the same ones).
func jsonDoc() []gendoc.Block {
	return []gendoc.Block{
		gendoc.Para("With `--json` cowdu prints one JSON object, with exact byte counts:"),
		gendoc.Pre(`{"version": 1,
 "paths": [{"path", "total_bytes", "exclusive_bytes", "shared_bytes", "set_shared_bytes",
            "files": [{"path", "total_bytes", "exclusive_bytes", "shared_bytes"}]}],
 "total": {"total_bytes", "exclusive_bytes", "shared_bytes", "set_shared_bytes"}}`),
		gendoc.List(
			gendoc.Item{Term: "`version`", Text: "1: the report's format. It grows when a field changes its " +
				"meaning or goes away, not when one is added."},
			gendoc.Item{Term: "`paths`", Text: "One object per PATH measured, in the order given " +
				"(none for a PATH that could not be read)."},
			gendoc.Item{Term: "`paths[].path`", Text: "The PATH, as given."},
			gendoc.Item{Term: "`paths[].total_bytes`, `paths[].exclusive_bytes`, `paths[].shared_bytes`, " +
				"`paths[].set_shared_bytes`", Text: "Its Total, Exclusive, Shared and Set shared, in bytes."},
			gendoc.Item{Term: "`paths[].files`", Text: "With `-a` only: one object per file under the PATH " +
				"(the PATH itself if it is a file), sorted by name."},
			gendoc.Item{Term: "`paths[].files[].path`", Text: "The file's name: the PATH and the path under it."},
			gendoc.Item{Term: "`paths[].files[].total_bytes`, `paths[].files[].exclusive_bytes`, " +
				"`paths[].files[].shared_bytes`", Text: "Its Total, Exclusive and Shared, in bytes " +
				"(a single file has no Set shared)."},
			gendoc.Item{Term: "`total`", Text: "All PATHs together (a file reached from two PATHs counts once)."},
			gendoc.Item{Term: "`total.total_bytes`, `total.exclusive_bytes`, `total.shared_bytes`, " +
				"`total.set_shared_bytes`", Text: "Their Total, Exclusive, Shared and Set shared, in bytes; " +
				"Set shared counts a block shared between PATHs once."},
		),
	}
}

// examplesDoc is the README's examples and its block-level demonstration.
func examplesDoc() []gendoc.Block {
	return []gendoc.Block{
		gendoc.List(
			gendoc.Item{Term: "`cowdu src dst`", Text: "How much of two trees is really shared."},
			gendoc.Item{Term: "`cowdu -a --bytes dir`", Text: "Every file's exact numbers, then the directory's."},
			gendoc.Item{Term: "`cowdu --json src dst | jq .total.set_shared_bytes`",
				Text: "The disk space the two trees share."},
		),
		gendoc.Para("On btrfs, a 64 MiB file and its clone, after 1 MiB in the middle of the clone was " +
			"overwritten:"),
		gendoc.Pre(strings.TrimPrefix(`
$ cowcp big.img clone.img
$ dd if=/dev/urandom of=clone.img bs=1M seek=32 count=1 conv=notrunc
$ sync; cowdu big.img clone.img
     Total   Exclusive      Shared  Set shared  Filename
  64.0 MiB         0 B    64.0 MiB    64.0 MiB  big.img
  64.0 MiB     1.0 MiB    63.0 MiB    63.0 MiB  clone.img
 128.0 MiB     1.0 MiB   127.0 MiB    64.0 MiB  total`, "\n")),
		gendoc.Para("Only the block written got its own copy: the clone holds 1 MiB of its own and still " +
			"shares the other 63 MiB. (`big.img` still counts as all shared: btrfs shares whole " +
			"extents, and part of its one extent is still in the clone.)"),
	}
}
