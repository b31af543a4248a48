//go:build linux

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

// The manual's sections that --help has not, from the README; what they
// say of the code (the report's fields, the exit statuses, the variables
// read) is held to it by manual_test.go, or made from it here.

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
		gendoc.Para("On a terminal a progress bar runs on stderr while cowcp works — bytes and entries " +
			"done, the total as the sources are counted (`+` until the count is done), then a percentage " +
			"and an ETA — and one line sums up at the end, naming each pair of filesystems that could " +
			"not clone, and why:"),
		gendoc.Pre("15,036 files, 221.7 MiB: 221.7 MiB cloned, 0 B copied — saved 215.7 MiB (97%) in 1.82 s"),
		gendoc.Para("When stderr is not a terminal a successful cowcp prints nothing, as cp: the report " +
			"is in `--json` and `-v`, and errors still go to stderr. The saved bytes are what the " +
			"filesystem confirms is shared (FIEMAP's shared extents after each clone)."),
		gendoc.Para("Installed as `cp` (a symbolic link named cp to cowcp), it also speaks as cp: its " +
			"messages begin `cp:`, so scripts, logs and cp's own test suite read cp's words."),
	}
}

// jsonReportDoc is --json's report: tree.Stats as encoding/json writes
// it, and --dry-run's plan, each field by its jq path (the README's table
// names the same ones; jsondoc_test.go holds both to a real report).
func jsonReportDoc() []gendoc.Block {
	var actions []string
	for m := tree.MethodFiclone; m <= tree.MethodShared; m++ {
		actions = append(actions, "`"+m.String()+"`")
	}
	actions = append(actions, "`mkdir`", "`mknod`", "`create`", "`skip`")
	return []gendoc.Block{
		gendoc.Para("With `--json` cowcp prints one JSON object on stdout at the end. Each field is " +
			"named here by its `jq` path (`failures[].path` is the `path` of each object in `failures`):"),
		gendoc.List(
			gendoc.Item{Term: "`version`", Text: "1: the report's format. It grows when a field changes its " +
				"meaning or goes away, not when one is added."},
			gendoc.Item{Term: "`files`, `dirs`, `symlinks`, `specials`, `hardlinks`",
				Text: "Entries made (`hardlinks`: extra names of a file copied once)."},
			gendoc.Item{Term: "`skipped`", Text: "Entries left alone, for any of the reasons in `skipped_why`."},
			gendoc.Item{Term: "`skipped_why`", Text: "`skipped` by reason, an object of four counts:"},
			gendoc.Item{Term: "`skipped_why.exists`", Text: "`-n` (or `--update=none`), and the destination exists."},
			gendoc.Item{Term: "`skipped_why.not_newer`", Text: "`-u`, and the destination is not older than the source."},
			gendoc.Item{Term: "`skipped_why.declined`", Text: "A \"no\" to `-i`."},
			gendoc.Item{Term: "`skipped_why.same`", Text: "The destination already is the source or a link " +
				"of it (hard links already in place): nothing to copy."},
			gendoc.Item{Term: "`bytes`", Text: "The apparent (logical) size of the regular files copied (what " +
				"the copy has, if a source shrank while it was read)."},
			gendoc.Item{Term: "`cloned_bytes`", Text: "Data (holes excluded) the copies share with their " +
				"sources by cloning."},
			gendoc.Item{Term: "`copied_bytes`", Text: "Data written by byte copies (`copy_file_range`, " +
				"`sparse`, `readwrite`)."},
			gendoc.Item{Term: "`hole_bytes`", Text: "The rest of `bytes`, neither cloned nor written: holes " +
				"in the sources kept as holes, and blocks of zeros a sparse copy left as holes; " +
				"`cloned_bytes` + `copied_bytes` + `hole_bytes` = `bytes`."},
			gendoc.Item{Term: "`saved_bytes`",
				Text: "Bytes of the copies that share blocks with their sources: the sources' data in " +
					"extents a clone shares (holes and btrfs inline extents excluded), read with FIEMAP " +
					"after each clone. The summary line's percentage is `saved_bytes` of `cloned_bytes` + " +
					"`copied_bytes`: of the data, not of the apparent size."},
			gendoc.Item{Term: "`changed`", Text: "Files whose source changed while it was read (size, " +
				"modification or change time differ before and after the copy: tar's \"file changed as " +
				"we read it\"); each is named in a warning on stderr, and cowcp exits 1. A file cloned " +
				"with one `FICLONE` is a snapshot of one instant and is not checked."},
			gendoc.Item{Term: "`changed_files`", Text: "Up to 1000 of their source paths (`[]` when none)."},
			gendoc.Item{Term: "`errors`", Text: "Entries that could not be copied."},
			gendoc.Item{Term: "`failures`", Text: "Up to 1000 of them, each an object:"},
			gendoc.Item{Term: "`failures[].path`, `failures[].error`", Text: "The entry, and what went " +
				"wrong, e.g. \"cannot stat 'x': No such file or directory\"."},
			gendoc.Item{Term: "`fs_used_bytes`, `fs_measured`",
				Text: "The destination filesystems' own estimate: their used-space growth, read after a " +
					"sync; only with `--sync` (`fs_measured` is false without it, or where it could not be read)."},
			gendoc.Item{Term: "`seconds`", Text: "Wall time."},
			gendoc.Item{Term: "`methods`", Text: "Regular files per method, an object:"},
			gendoc.Item{Term: "`methods.ficlone`, `methods.ficlonerange`",
				Text: "Cloned whole (`FICLONE`), or piece by piece (`FICLONERANGE`)."},
			gendoc.Item{Term: "`methods.copy_file_range`, `methods.sparse`, `methods.readwrite`",
				Text: "Copied with `copy_file_range`, by a hole-preserving copy (`SEEK_DATA`/`SEEK_HOLE`), " +
					"or with read and write."},
			gendoc.Item{Term: "`methods.shared`", Text: "An existing copy that already shared every block " +
				"with its source, kept as it was with its metadata set."},
			gendoc.Item{Term: "`not_cloned`", Text: "One object per pair of filesystems that could not " +
				"clone, its data copied instead:"},
			gendoc.Item{Term: "`not_cloned[].src`, `not_cloned[].dst`", Text: "The first file that showed " +
				"it, and its copy."},
			gendoc.Item{Term: "`not_cloned[].src_fs`, `not_cloned[].dst_fs`", Text: "The filesystems' " +
				"types, e.g. \"btrfs\" (\"\" if unknown)."},
			gendoc.Item{Term: "`not_cloned[].reason`", Text: "Why cloning failed, e.g. " +
				"\"Invalid cross-device link\"."},
			gendoc.Item{Term: "`interrupted`",
				Text: "True after a signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE) or a broken pipe on stdout."},
			gendoc.Item{Term: "`needed_bytes`, `free_bytes`",
				Text: "With `--dry-run` only, where not 0: the new data the copy would write, and the " +
					"free space of the destination filesystems."},
			gendoc.Item{Term: "`plan`", Text: "With `--dry-run` only, before the other fields: one object " +
				"per entry:"},
			gendoc.Item{Term: "`plan[].src`, `plan[].dst`", Text: "The entry and its copy."},
			gendoc.Item{Term: "`plan[].action`", Text: strings.Join(actions[:len(actions)-1], ", ") +
				" or " + actions[len(actions)-1] + "."},
			gendoc.Item{Term: "`plan[].reason`", Text: "Why, where there is a reason, e.g. " +
				"\"cannot clone: Operation not supported\"."},
			gendoc.Item{Term: "`plan[].bytes`", Text: "The regular file's size (0 for other entries)."},
			gendoc.Item{Term: "`plan[].ask`", Text: "`true` where `-i` would ask first (the plan is what a " +
				"yes gets; a no leaves the entry alone)."},
			gendoc.Item{Term: "`plan[].existing`", Text: "Where an entry is already at `dst`: what happens " +
				"to it first — `replace` (a complete copy is renamed over it: a new inode), `in_place` " +
				"(rewritten in place: the same inode), `remove` (`--remove-destination`) or `backup`."},
			gendoc.Item{Term: "`plan[].backup`", Text: "With `\"existing\": \"backup\"`: the name the " +
				"entry is moved to."},
		),
		gendoc.Para("Whether a filesystem pair clones is learnt by cloning into a scratch file in the " +
			"destination (removed again), never guessed from a filesystem's name."),
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
	add(exitFailed, "a source file changed while it was read (`cowcp: 'f': file changed as we read it`; the copy is kept)")
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
			"A directory is listed as soon as it is opened, and again if it changed meanwhile: on "+
				"btrfs a file renamed between the open and the listing is under neither name, and cp, "+
				"which lists once, loses it without a word.",
			"Entries are copied by several workers at once, so `-v` lines come in completion order. "+
				"With `-i` cowcp copies one file at a time, so questions come in cp's order.",
			"A source file that changes while cowcp copies it (its size, modification or change "+
				"time differ before and after its data was read) gets tar's warning, `cowcp: 'f': file "+
				"changed as we read it`, and cowcp exits 1; cp notices nothing and exits 0. The copy is "+
				"kept, as tar keeps it. A file cloned with one FICLONE is not checked: the clone takes it "+
				"as it is at one instant.",
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
