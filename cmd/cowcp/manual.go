package main

import (
	"fmt"
	"slices"
	"strings"
	"syscall"

	"github.com/cowcp/cowcp/internal/gendoc"
	"github.com/cowcp/cowcp/tree"
	"golang.org/x/sys/unix"
)

// cowcp's manual page and completions are made from what the command
// itself reads and prints: the option table the parser reads (longOpts,
// shortOpts, the choices argmatch matches) and the --help text, option by
// option, so that they cannot say other things than --help. Only the
// sections --help does not have are written here, from the README.
// (go run -tags gendocs ./cmd/cowcp writes them: see gendocs.go.)

// manual is cowcp's documents' model.
func manual() (*gendoc.Model, error) {
	var help strings.Builder
	printHelp(&help)
	h, err := parseHelp(help.String())
	if err != nil {
		return nil, err
	}
	opts, err := helpOptions(h.options)
	if err != nil {
		return nil, err
	}
	m := &gendoc.Model{
		Name:     "cowcp",
		Package:  "cowcp",
		Summary:  "copy files and directories, cloning their data where the filesystem can",
		Synopsis: h.usage,
		Options:  opts,
		Operands: gendoc.CompleteFile,
	}
	m.Description = append(append([]gendoc.Block{gendoc.Para(h.intro[0])}, description()...), paras(h.intro[1:])...)
	m.OptionNotes = h.notes
	m.Sections = []gendoc.Section{
		{Title: "THE JSON REPORT", Blocks: jsonReportDoc()},
		{Title: "EXIT STATUS", Blocks: exitStatusDoc()},
		{Title: "ENVIRONMENT", Blocks: environmentDoc()},
		{Title: "DIFFERENCES FROM GNU CP", Blocks: differencesDoc()},
		{Title: "EXAMPLES", Blocks: examplesDoc()},
		{Title: "SEE ALSO", Blocks: []gendoc.Block{gendoc.Para(
			"`cp`(1), `cowdu`(1), `ioctl_ficlone`(2), `copy_file_range`(2)")}},
	}
	return m, nil
}

// helpDoc is --help as read back: its usage lines, the paragraphs before
// the options, the options' entries, and the paragraphs after them.
type helpDoc struct {
	usage   []string
	intro   []string
	options []helpEntry
	notes   []gendoc.Block
}

// helpEntry is one option's entry in --help: "  -S, --suffix=SUFFIX"
// and its text, under a group's title ("cowcp's own options:").
type helpEntry struct {
	names, text, group string
}

// parseHelp reads the --help output back. Its layout is cp's: usage
// lines, paragraphs separated by blank lines, options indented by two or
// six columns with their text after two spaces or more and continued on
// deeper-indented lines, a group's title ending in ':' over its options,
// and tables of two indented columns.
func parseHelp(text string) (helpDoc, error) {
	var h helpDoc
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for len(lines) > 0 {
		rest, ok := strings.CutPrefix(lines[0], "Usage: ")
		if !ok {
			rest, ok = strings.CutPrefix(lines[0], "  or:  ")
		}
		if !ok {
			break
		}
		h.usage = append(h.usage, rest)
		lines = lines[1:]
	}
	group := ""
	for _, para := range splitParagraphs(lines) {
		// Text right above options ("Mandatory arguments ...") is a
		// paragraph of its own, or the options' group title.
		if k := slices.IndexFunc(para, isOptionLine); k > 0 {
			if k == 1 && strings.HasSuffix(para[0], ":") {
				group = para[0]
			} else if h.options == nil {
				h.intro = append(h.intro, strings.Join(para[:k], " "))
			} else {
				h.notes = append(h.notes, gendoc.Para(strings.Join(para[:k], " ")))
			}
			para = para[k:]
		}
		switch {
		case isOptionLine(para[0]):
			for _, line := range para {
				if isOptionLine(line) {
					names, text, _ := strings.Cut(strings.TrimLeft(line, " "), "  ")
					h.options = append(h.options, helpEntry{names: names, text: text, group: group})
					continue
				}
				e := &h.options[len(h.options)-1]
				e.text += " " + line
			}
		case h.options == nil:
			h.intro = append(h.intro, strings.Join(para, " "))
		case isTable(para):
			var items []gendoc.Item
			for _, line := range para {
				term, text, _ := strings.Cut(strings.TrimSpace(line), "  ")
				items = append(items, gendoc.Item{Term: term, Text: text})
			}
			h.notes = append(h.notes, gendoc.List(items...))
		default:
			h.notes = append(h.notes, gendoc.Para(strings.Join(para, " ")))
		}
	}
	if len(h.usage) == 0 || len(h.intro) == 0 || len(h.options) == 0 {
		return h, fmt.Errorf("--help has not cp's layout: %d usage lines, %d paragraphs before %d options",
			len(h.usage), len(h.intro), len(h.options))
	}
	return h, nil
}

func splitParagraphs(lines []string) [][]string {
	var paras [][]string
	var cur []string
	for _, line := range append(lines, "") {
		if strings.TrimSpace(line) == "" {
			if cur != nil {
				paras = append(paras, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, line)
	}
	return paras
}

// isOptionLine: an option's first line, indented by two or six columns.
func isOptionLine(line string) bool {
	return strings.HasPrefix(line, "  -") || strings.HasPrefix(line, "      -")
}

// isTable: every line indented, with two columns ("  none, off   never ...").
func isTable(para []string) bool {
	for _, line := range para {
		if !strings.HasPrefix(line, "  ") || !strings.Contains(strings.TrimSpace(line), "  ") {
			return false
		}
	}
	return true
}

func paras(texts []string) []gendoc.Block {
	var out []gendoc.Block
	for _, t := range texts {
		out = append(out, gendoc.Para(t))
	}
	return out
}

// helpOptions turns --help's entries into the model's options, checking
// each against the parser's table: the names and whether each takes an
// argument must be the table's. The table's options that --help does not
// show (cp's old --path) are hidden ones.
func helpOptions(entries []helpEntry) ([]gendoc.Option, error) {
	var opts []gendoc.Option
	shown := map[string]bool{}
	for _, e := range entries {
		o := gendoc.Option{Help: strings.Join(strings.Fields(e.text), " "), Group: e.group}
		for _, name := range strings.Split(e.names, ", ") {
			if long, ok := strings.CutPrefix(name, "--"); ok {
				if l, a, ok := strings.Cut(long, "[="); ok { // --backup[=CONTROL]
					long, o.Arg, o.OptionalArg = l, strings.TrimSuffix(a, "]"), true
				} else {
					long, o.Arg, _ = strings.Cut(long, "=") // --suffix=SUFFIX
				}
				o.Long = long
				continue
			}
			if len(name) != 2 || name[0] != '-' {
				return nil, fmt.Errorf("--help: %q: not an option name", name)
			}
			o.Short += name[1:]
		}
		if err := checkAgainstTable(o); err != nil {
			return nil, err
		}
		if o.Long != "" {
			shown[o.Long] = true
		}
		o.Choices, o.ChoiceList, o.Complete = argumentWords(o.Long)
		opts = append(opts, o)
	}
	for _, l := range longOpts {
		if !shown[l.name] {
			opts = append(opts, gendoc.Option{Long: l.name, Hidden: true})
		}
	}
	return opts, nil
}

// checkAgainstTable fails if the option's entry in --help does not say
// what the parser's table says of its names.
func checkAgainstTable(o gendoc.Option) error {
	if o.Long != "" {
		i := slices.IndexFunc(longOpts, func(l longOpt) bool { return l.name == o.Long })
		if i < 0 {
			return fmt.Errorf("--help shows --%s, which the parser does not know", o.Long)
		}
		want := noArg
		switch {
		case o.OptionalArg:
			want = optionalArg
		case o.Arg != "":
			want = requiredArg
		}
		if longOpts[i].arg != want {
			return fmt.Errorf("--help shows --%s with argument %q (optional %v), unlike the parser's table", o.Long, o.Arg, o.OptionalArg)
		}
	}
	for _, c := range o.Short {
		k := strings.IndexRune(shortOpts, c)
		if k < 0 || c == ':' {
			return fmt.Errorf("--help shows -%c, which the parser does not know", c)
		}
		// A long option's mandatory argument is the short option's too.
		takes := k+1 < len(shortOpts) && shortOpts[k+1] == ':'
		if takes != (o.Arg != "" && !o.OptionalArg) {
			return fmt.Errorf("--help shows -%c with argument %q, unlike the parser's table", c, o.Arg)
		}
	}
	return nil
}

// argumentWords is what a long option's argument may be: the words
// argmatch accepts for it, or, for a directory, that.
func argumentWords(long string) (choices []string, list bool, complete gendoc.Complete) {
	switch long {
	case "backup":
		return words(backupChoices), false, 0
	case "reflink":
		return words(reflinkChoices), false, 0
	case "sparse":
		return words(sparseChoices), false, 0
	case "update":
		return words(updateChoices), false, 0
	case "progress":
		return words(progressChoices), false, 0
	case "preserve", "no-preserve":
		return words(preserveChoices), true, 0
	case "target-directory":
		return nil, false, gendoc.CompleteDirectory
	}
	return nil, false, gendoc.CompleteNothing
}

func words[T comparable](choices []choice[T]) []string {
	var w []string
	for _, c := range choices {
		w = append(w, c.word)
	}
	return w
}

// description is what the README says before its option table.
func description() []gendoc.Block {
	return []gendoc.Block{
		gendoc.Para("On filesystems with reflinks (btrfs, XFS made with `reflink=1`, bcachefs, OCFS2, " +
			"ZFS 2.2+, NFS 4.2 and SMB servers that clone) the `FICLONE` ioctl makes a new file share " +
			"the source's data blocks: the copy is done at once and takes almost no space. Only blocks " +
			"later written on either side get copied, block by block. Where cloning cannot work " +
			"(another filesystem, ext4, tmpfs), cowcp copies the data with `copy_file_range`(2), " +
			"keeping holes, and remembers that for the pair of filesystems; real errors (`EIO`, " +
			"`ENOSPC`) fail the file and are not retried another way."),
		gendoc.Para("A new file is written as an unnamed `O_TMPFILE` inode in the destination directory " +
			"(or under a temporary name `.cowcp-*.tmp`) and linked to its name only when complete, so " +
			"no half-written file appears under a final name. An existing file is replaced by a " +
			"complete new one renamed over it only where the result is cp's; everywhere else (other " +
			"hard links, someone else's file, a bind mount, a FIFO or device) it is rewritten in " +
			"place, as cp does."),
		gendoc.Para("DEST means what it means to `cp`: an existing directory receives SOURCE inside it; " +
			"anything else is the new name (`-T` forces that). Every cp option behaves as GNU cp " +
			"9.5's does (see DIFFERENCES FROM GNU CP). The command line is read as cp reads it (GNU " +
			"`getopt_long`): options and operands in any order (unless POSIXLY_CORRECT is set), " +
			"`--` ends the options, short options cluster (`-aRv`, `-S~`, `-tdir`), and long " +
			"options and their values may be shortened to any unambiguous prefix (`--rem`, " +
			"`--b=nu`, `--preserve=link`), which keeps the meaning it has for cp (`--sy` is " +
			"`--symbolic-link`, not `--sync`)."),
		gendoc.Para("On a terminal a progress bar runs on stderr while cowcp works, and one line sums up " +
			"at the end, naming each pair of filesystems that could not clone, and why:"),
		gendoc.Pre("15,036 files, 221.7 MiB: 221.7 MiB cloned, 0 B copied — saved 215.7 MiB (97%) in 1.82 s"),
		gendoc.Para("When stderr is not a terminal a successful cowcp prints nothing, as cp: the report " +
			"is in `--json` and `-v`, and errors still go to stderr. The saved bytes are what the " +
			"filesystem confirms is shared (FIEMAP's shared extents after each clone)."),
		gendoc.Para("Installed as `cp` (a symbolic link named cp to cowcp), it also speaks as cp: its " +
			"messages begin `cp:`, so scripts, logs and cp's own test suite read cp's words."),
	}
}

// jsonReportDoc is --json's report: tree.Stats as encoding/json writes
// it, and --dry-run's plan.
func jsonReportDoc() []gendoc.Block {
	var actions []string
	for m := tree.MethodFiclone; m <= tree.MethodSymlink; m++ {
		actions = append(actions, "`"+m.String()+"`")
	}
	actions = append(actions, "`mkdir`", "`mknod`", "`create`", "`skip`")
	return []gendoc.Block{
		gendoc.Para("With `--json` cowcp prints one JSON object on stdout at the end, with these fields:"),
		gendoc.List(
			gendoc.Item{Term: "`files`, `dirs`, `symlinks`, `specials`, `hardlinks`",
				Text: "Entries made (`hardlinks`: extra names of a file copied once)."},
			gendoc.Item{Term: "`skipped`", Text: "Entries left alone (`-n`, `-u`, `--update=none`, a \"no\" to `-i`)."},
			gendoc.Item{Term: "`bytes`", Text: "The logical size of the regular files copied."},
			gendoc.Item{Term: "`cloned_bytes`, `copied_bytes`",
				Text: "How those bytes got there: `cloned_bytes` + `copied_bytes` = `bytes`."},
			gendoc.Item{Term: "`saved_bytes`",
				Text: "Bytes of the copies that share blocks with their sources: the sources' data in " +
					"extents a clone shares (holes and btrfs inline extents excluded), read with FIEMAP " +
					"after each clone."},
			gendoc.Item{Term: "`fs_used_bytes`, `fs_measured`",
				Text: "The destination filesystems' own estimate: their used-space growth, read after a " +
					"sync; only with `--sync` (`fs_measured` is false without it, or where it could not be read)."},
			gendoc.Item{Term: "`errors`, `failures`",
				Text: "Failed entries, and up to 1000 of them as `{\"path\", \"error\"}`."},
			gendoc.Item{Term: "`seconds`", Text: "Wall time."},
			gendoc.Item{Term: "`methods`",
				Text: "Regular files per method: `ficlone`, `ficlonerange`, `copy_file_range`, `sparse`, `readwrite`."},
			gendoc.Item{Term: "`not_cloned`",
				Text: "One `{\"src\", \"dst\", \"src_fs\", \"dst_fs\", \"reason\"}` per pair of filesystems " +
					"that could not clone, its data copied instead: the first file that showed it, its " +
					"copy, the filesystem types (\"\" if unknown) and the reason, e.g. " +
					"\"Invalid cross-device link\"."},
			gendoc.Item{Term: "`interrupted`",
				Text: "True after a signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE) or a broken pipe on stdout."},
			gendoc.Item{Term: "`needed_bytes`, `free_bytes`",
				Text: "With `--dry-run` only, where not 0: the new data the copy would write, and the " +
					"free space of the destination filesystems."},
		),
		gendoc.Para("With `--dry-run --json` the object also has `plan`: one `{\"src\", \"dst\", \"action\", " +
			"\"reason\", \"bytes\"}` per entry (`reason` where there is one), `action` being " +
			strings.Join(actions, ", ") + ". Whether a filesystem pair clones is learnt by cloning " +
			"into a scratch file in the destination (removed again), never guessed from a " +
			"filesystem's name."),
	}
}

// exitStatusDoc is run's exit statuses, from its constants and the
// signals it stops for.
func exitStatusDoc() []gendoc.Block {
	var items []gendoc.Item
	add := func(code int, text string) {
		term := fmt.Sprint(code)
		for k := range items {
			if items[k].Term == term {
				items[k].Text += "; or " + text
				return
			}
		}
		items = append(items, gendoc.Item{Term: term, Text: text})
	}
	add(exitOK, "all was copied (or `--help` or `--version` was printed)")
	add(exitFailed, "some entries could not be copied (cowcp goes on after an error)")
	add(exitFailed, "stdout could not be written (`cowcp: write error: No space left on device`, as cp; the copy goes on)")
	add(exitUsage, "the command line is wrong, said in cp's words (`cowcp: unrecognized option '--x'` "+
		"and `Try 'cowcp --help' for more information.`)")
	for k := range items {
		items[k].Text = strings.ToUpper(items[k].Text[:1]) + items[k].Text[1:] + "."
	}

	var sigs []syscall.Signal
	for _, s := range append(slices.Clone(impatientSignals), systemSignals...) {
		sigs = append(sigs, s.(syscall.Signal))
	}
	slices.Sort(sigs)
	var each []string
	for _, sig := range sigs {
		each = append(each, fmt.Sprintf("%d after %s", interrupt{sig}.exitStatus(), unix.SignalName(sig)))
	}
	items = append(items, gendoc.Item{Term: "128+N",
		Text: "After signal N: " + strings.Join(each, ", ") + " (also when the reader of stdout goes " +
			"away, as in `cowcp -v ... | head`: cp dies of SIGPIPE there). The walk stops, queued " +
			"files are dropped, and a file being copied is either finished (a clone is one ioctl) " +
			"or abandoned as after an error, nothing left under its name. Then cowcp dies by SIGINT, " +
			"SIGHUP or SIGTERM itself, as cp would, so that a shell loop or script stops as it does " +
			"for cp; after SIGQUIT and SIGPIPE it exits with the status above. A second SIGINT, SIGTERM or " +
			"SIGQUIT ends cowcp at once."})
	return []gendoc.Block{gendoc.List(items...)}
}

// environmentDoc is every variable cowcp reads (but those only tests set).
func environmentDoc() []gendoc.Block {
	return []gendoc.Block{gendoc.List(
		gendoc.Item{Term: "`POSIXLY_CORRECT`",
			Text: "Set, even empty: options end at the first operand, as `getopt_long` reads them then. " +
				"Set and not empty: a destination that is a dangling symbolic link is written through " +
				"(the file it names is made), as cp does then."},
		gendoc.Item{Term: "`VERSION_CONTROL`",
			Text: "The backup method of `-b`, `-S` and `--backup` without CONTROL (`none`/`off`, " +
				"`numbered`/`t`, `existing`/`nil`, `simple`/`never`); `existing` when unset or empty."},
		gendoc.Item{Term: "`SIMPLE_BACKUP_SUFFIX`",
			Text: "The backup suffix without `-S`; `~` when unset or empty, or when it would put the " +
				"backup in another directory."},
		gendoc.Item{Term: "`LC_ALL`, `LC_CTYPE`, `LANG`",
			Text: "The first one set says whether cowcp quotes a wrong option value ‘so’ (a UTF-8 " +
				"locale that is installed) or 'so', as cp's usage errors do."},
	)}
}

// differencesDoc is the README's "Differences from GNU cp".
func differencesDoc() []gendoc.Block {
	return []gendoc.Block{
		gendoc.Para("cowcp's tests run cp 9.1 and cowcp on the same trees and command lines on btrfs, " +
			"XFS and ext4 and compare the results field by field. What differs is on purpose:"),
		gendoc.Bullets(
			"An existing destination file that cowcp may replace safely (a regular file with one "+
				"link, owned by you or replaced by root, in a directory you may write, not a mount "+
				"point) is replaced by a complete new file renamed over it, rather than truncated and "+
				"rewritten in place, so it keeps its old content until the new one is whole. It keeps "+
				"the old file's owner, mode and extended attributes, as cp's rewrite does; what differs "+
				"is only that it is a new inode, so the directory's mtime changes (cp leaves it). "+
				"Wherever more than that would differ, cowcp rewrites in place as cp.",
			"Trees deeper than `PATH_MAX` are copied whole; cp stops there with \"File name too long\".",
			"Entries are copied by several workers at once, so `-v` lines come in completion order. "+
				"With `-i` cowcp copies one file at a time, so questions come in cp's order.",
			"On a terminal cowcp prints a one-line summary on stderr at the end (not with `-q` or "+
				"`--json`); cp prints nothing. When stderr is not a terminal cowcp is as silent as cp. "+
				"`--dry-run` always prints its plan, and its summary line on stderr.",
			"With stdout closed (`cowcp -v ... >&-`) cp says `write error: Bad file descriptor` and "+
				"exits 1; Go's runtime puts `/dev/null` on a closed standard descriptor before cowcp "+
				"starts, so cowcp cannot tell: the `-v` lines are discarded and it exits 0.",
			"SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGPIPE kill cp at once; cowcp first removes what "+
				"it was writing, then dies by SIGINT, SIGTERM or SIGHUP itself (so a shell sees what it "+
				"sees for cp), or exits 131 after SIGQUIT (no core dump) and 141 after SIGPIPE.",
		),
	}
}

// examplesDoc is the README's examples.
func examplesDoc() []gendoc.Block {
	return []gendoc.Block{gendoc.List(
		gendoc.Item{Term: "`cowcp -a ~/src/linux ~/src/linux-experiment`",
			Text: "On btrfs or XFS: done at once, with almost no new space."},
		gendoc.Item{Term: "`cowcp -r photos /mnt/usb/photos`",
			Text: "Onto another filesystem: a normal (fast) copy."},
		gendoc.Item{Term: "`cowcp --reflink=always big.img big-test.img`",
			Text: "Fails loudly where it cannot clone, with nothing left at the destination's name."},
		gendoc.Item{Term: "`cowcp -a --json src dst | jq .saved_bytes`",
			Text: "The machine-readable report: how many bytes the copy shares with its source."},
		gendoc.Item{Term: "`cowcp -a --dry-run src dst`",
			Text: "What each file would get, and why; nothing is made."},
		gendoc.Item{Term: "`cowcp --sync big.img clone.img`",
			Text: "Flushes the copy to disk before exiting, and adds the filesystem's own estimate " +
				"of the space it took to the summary."},
		gendoc.Item{Term: "`cowdu src dst`",
			Text: "How much of two trees is really shared."},
	)}
}
