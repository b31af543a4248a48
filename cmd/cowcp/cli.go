package main

import (
	"github.com/alecthomas/kong"
)

// cli is the whole command line, in cp's words.
type cli struct {
	Archive              bool   `short:"a" help:"Same as -dR --preserve=all."`
	AttributesOnly       bool   `name:"attributes-only" help:"Don't copy the file data, just the attributes."`
	CopyContents         bool   `name:"copy-contents" help:"Copy contents of special files when recursive."`
	Backup               string `name:"backup" placeholder:"CONTROL" help:"Make a backup of each existing destination file (none, off, numbered, t, existing, nil, simple, never)."`
	BackupExisting       bool   `short:"b" help:"Like --backup but does not accept an argument."`
	NoDerefPreserveLinks bool   `short:"d" help:"Same as --no-dereference --preserve=links."`
	Force                bool   `short:"f" help:"If an existing destination file cannot be opened, remove it and try again."`
	Interactive          bool   `short:"i" help:"Prompt before overwrite."`
	DerefCmdline         bool   `short:"H" help:"Follow command-line symbolic links in SOURCE."`
	Link                 bool   `short:"l" help:"Hard link files instead of copying."`
	Dereference          bool   `short:"L" help:"Always follow symbolic links in SOURCE."`
	NoClobber            bool   `short:"n" name:"no-clobber" help:"Do not overwrite an existing file."`
	NoDereference        bool   `short:"P" name:"no-dereference" help:"Never follow symbolic links in SOURCE."`
	PreserveDefault      bool   `short:"p" help:"Same as --preserve=mode,ownership,timestamps."`
	Preserve             string `name:"preserve" placeholder:"ATTR_LIST" help:"Preserve the specified attributes (mode,ownership,timestamps,links,context,xattr,all)."`
	NoPreserve           string `name:"no-preserve" placeholder:"ATTR_LIST" help:"Don't preserve the specified attributes."`
	Parents              bool   `name:"parents" help:"Use full source file name under DIRECTORY."`
	Recursive            bool   `short:"R" name:"recursive" help:"Copy directories recursively."`
	RecursiveLower       bool   `short:"r" hidden:"" help:"Same as -R."`
	Reflink              string `name:"reflink" default:"auto" enum:"auto,always,never" help:"Clone with copy-on-write: auto (clone, else copy), always (clone or fail), never (a true byte copy)."`
	RemoveDest           bool   `name:"remove-destination" help:"Remove each existing destination file before attempting to open it."`
	Sparse               string `name:"sparse" default:"auto" enum:"auto,always,never" help:"Control creation of sparse files."`
	StripSlashes         bool   `name:"strip-trailing-slashes" help:"Remove any trailing slashes from each SOURCE argument."`
	SymbolicLink         bool   `short:"s" name:"symbolic-link" help:"Make symbolic links instead of copying."`
	Suffix               string `short:"S" name:"suffix" placeholder:"SUFFIX" help:"Override the usual backup suffix."`
	TargetDir            string `short:"t" name:"target-directory" placeholder:"DIRECTORY" help:"Copy all SOURCE arguments into DIRECTORY."`
	NoTargetDir          bool   `short:"T" name:"no-target-directory" help:"Treat DEST as a normal file."`
	Update               bool   `short:"u" name:"update" help:"Copy only when the SOURCE file is newer than the destination file or when the destination file is missing."`
	Verbose              bool   `short:"v" name:"verbose" help:"Explain what is being done, one line per file with how it was copied."`
	OneFileSystem        bool   `short:"x" name:"one-file-system" help:"Stay on this file system."`

	Jobs     int    `short:"j" name:"jobs" default:"0" help:"Copy this many files at once (0: one per CPU, at least 4)."`
	Progress string `name:"progress" default:"auto" enum:"auto,always,never" help:"Show a progress bar on stderr: auto (when stderr is a terminal), always, never."`
	Quiet    bool   `short:"q" name:"quiet" help:"Print no summary, notices or progress; errors only."`
	JSON     bool   `name:"json" help:"Print a JSON report on stdout at the end."`
	Sync     bool   `name:"sync" help:"Flush the copy to disk before exiting (syncfs of each destination filesystem) and report how much their used space grew."`
	DryRun   bool   `name:"dry-run" help:"Show what would be done, without doing it."`

	Version kong.VersionFlag `name:"version" help:"Print the version and exit."`

	Files []string `arg:"" optional:"" name:"FILE" help:"SOURCE... DEST, or SOURCE... with -t DIRECTORY."`
}

const description = `Copy SOURCE to DEST, or multiple SOURCEs to DIRECTORY, cloning file data
with copy-on-write reflinks (FICLONE) where the filesystem supports it and
falling back to the fastest byte copy elsewhere.`
