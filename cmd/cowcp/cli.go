//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/cowcp/cowcp/tree"
	"github.com/cowcp/cowcp/tree/cpmsg"
)

// cp 9.5's options, in the order of cp's own table (glibc lists the
// possibilities of an ambiguous prefix in that order), then cowcp's own.
// Short options that have a long name share its id; the other long
// options have ids past 255, as in cp.
const (
	optAttributesOnly rune = 256 + iota
	optCopyContents
	optDebug
	optNoPreserve
	optParents
	optPreserve
	optReflink
	optSparse
	optStripSlashes
	optRemoveDest
	optKeepDirSymlink
	optHelp
	optVersion
	optProgress
	optJSON
	optDryRun
	optSync
)

// shortOpts are cp's short options, then cowcp's -j N and -q.
const shortOpts = "abdfHilLnprst:uvxPRS:TZ" + "j:q"

var longOpts = []longOpt{
	{name: "archive", id: 'a'},
	{name: "attributes-only", id: optAttributesOnly},
	{name: "backup", arg: optionalArg, id: 'b'},
	{name: "copy-contents", id: optCopyContents},
	{name: "debug", id: optDebug},
	{name: "dereference", id: 'L'},
	{name: "force", id: 'f'},
	{name: "interactive", id: 'i'},
	{name: "link", id: 'l'},
	{name: "no-clobber", id: 'n'},
	{name: "no-dereference", id: 'P'},
	{name: "no-preserve", arg: requiredArg, id: optNoPreserve},
	{name: "no-target-directory", id: 'T'},
	{name: "one-file-system", id: 'x'},
	{name: "parents", id: optParents},
	{name: "path", id: optParents}, // cp's old name for --parents
	{name: "preserve", arg: optionalArg, id: optPreserve},
	{name: "recursive", id: 'R'},
	{name: "remove-destination", id: optRemoveDest},
	{name: "sparse", arg: requiredArg, id: optSparse},
	{name: "reflink", arg: optionalArg, id: optReflink},
	{name: "strip-trailing-slashes", id: optStripSlashes},
	{name: "suffix", arg: requiredArg, id: 'S'},
	{name: "symbolic-link", id: 's'},
	{name: "target-directory", arg: requiredArg, id: 't'},
	{name: "update", arg: optionalArg, id: 'u'},
	{name: "verbose", id: 'v'},
	{name: "keep-directory-symlink", id: optKeepDirSymlink},
	{name: "context", arg: optionalArg, id: 'Z'},
	{name: "help", id: optHelp},
	{name: "version", id: optVersion},

	{name: "jobs", arg: requiredArg, id: 'j', own: true},
	{name: "progress", arg: requiredArg, id: optProgress, own: true},
	{name: "quiet", id: 'q', own: true},
	{name: "json", id: optJSON, own: true},
	{name: "dry-run", id: optDryRun, own: true},
	{name: "sync", id: optSync, own: true},
}

// interactive is what -i and -n said last.
type interactive int

const (
	interactiveUnset interactive = iota
	interactiveAsk               // -i
	interactiveSkip              // -n
)

// update is --update's policy for an existing destination.
type update int

const (
	updateAll      update = iota // replace it (the default)
	updateOlder                  // -u: replace it if older than the source
	updateNone                   // skip it, as -n
	updateNoneFail               // refuse it: an error, nothing replaced
)

// cli is the command line once read: what cp's option loop leaves in its
// variables, each option setting them in turn, then the rules cp applies
// after the loop.
type cli struct {
	recursive, attrsOnly, copyContents, force     bool
	hardLink, symLink, oneFS, removeDest          bool
	parents, stripSlashes, noTargetDir, keepDirSL bool
	verbose, debug                                bool

	targetDir    string
	hasTargetDir bool
	deref        tree.Deref
	preserve     tree.Preserve
	// explicitNoPreserveMode (--no-preserve=mode or all, not undone by a
	// later --preserve=mode or all) gives new files a new file's mode.
	explicitNoPreserveMode bool
	requireContext         bool // --preserve=context
	setContext             bool // -Z or --context on an SELinux system
	reflink                tree.Reflink
	sparse                 tree.Sparse
	interactive            interactive
	update                 update
	backup                 bool
	backupType             tree.Backup
	versionControl         string // --backup=CONTROL
	suffix                 string // -S
	hasSuffix              bool

	jobs     int
	progress string
	quiet    bool
	json     bool
	dryRun   bool
	sync     bool

	help, version bool
	files         []string // the operands
	warnings      []string // said on stderr before anything else, as cp says them

	selinux bool // the kernel enforces SELinux contexts
}

// errStop ends the reading at --help or --version, as cp exits there.
var errStop = errors.New("stop")

// parseArgs reads the command line once, in order.
func parseArgs(args []string) (*cli, error) {
	c := &cli{progress: "auto", selinux: selinuxEnabled()}
	_, posixly := os.LookupEnv("POSIXLY_CORRECT")
	files, err := getopt(args, shortOpts, longOpts, posixly, c.apply)
	switch {
	case errors.Is(err, errStop):
		return c, nil
	case err != nil:
		return c, err
	}
	c.files = files
	return c, c.settle()
}

// apply is cp's option loop body for one option: one case per option, in
// one switch as in cp, so that what each option overrides reads in one place.
func (c *cli) apply(o parsedOpt) (err error) {
	switch o.id {
	case optSparse:
		c.sparse, err = argmatch("--sparse", o.arg, sparseChoices)
	case optReflink:
		c.reflink = tree.ReflinkAlways // --reflink alone
		if o.hasArg {
			c.reflink, err = argmatch("--reflink", o.arg, reflinkChoices)
		}
	case 'a':
		c.deref = tree.DerefNever
		c.preserve.Links, c.preserve.Ownership, c.preserve.Mode, c.preserve.Timestamps = true, true, true, true
		c.preserve.Context = c.preserve.Context || c.selinux
		c.preserve.Xattr = true
		c.recursive = true
	case 'b':
		c.backup = true
		if o.hasArg {
			c.versionControl = o.arg
		}
	case optAttributesOnly:
		c.attrsOnly = true
	case optDebug:
		c.debug, c.verbose = true, true
	case optCopyContents:
		c.copyContents = true
	case 'd':
		c.preserve.Links = true
		c.deref = tree.DerefNever
	case 'f':
		c.force = true
	case 'H':
		c.deref = tree.DerefCommandLine
	case 'i':
		c.interactive = interactiveAsk
	case 'l':
		c.hardLink = true
	case 'L':
		c.deref = tree.DerefAlways
	case 'n':
		c.interactive = interactiveSkip
	case 'P':
		c.deref = tree.DerefNever
	case optNoPreserve:
		err = c.decodePreserve("--no-preserve", o.arg, dropAttrs)
	case optPreserve:
		if o.hasArg {
			return c.decodePreserve("--preserve", o.arg, keepAttrs)
		}
		c.preserve.Ownership, c.preserve.Mode, c.preserve.Timestamps = true, true, true
	case 'p':
		c.preserve.Ownership, c.preserve.Mode, c.preserve.Timestamps = true, true, true
	case optParents:
		c.parents = true
	case 'r', 'R':
		c.recursive = true
	case optRemoveDest:
		c.removeDest = true
	case optStripSlashes:
		c.stripSlashes = true
	case 's':
		c.symLink = true
	case 't':
		if c.hasTargetDir {
			return &usageError{msg: "multiple target directories specified"}
		}
		c.targetDir, c.hasTargetDir = o.arg, true
	case 'T':
		c.noTargetDir = true
	case 'u':
		c.update = updateOlder
		if o.hasArg {
			c.update, err = argmatch("--update", o.arg, updateChoices)
		}
	case 'v':
		c.verbose = true
	case optKeepDirSymlink:
		c.keepDirSL = true
	case 'x':
		c.oneFS = true
	case 'Z':
		err = c.context(o)
	case 'S':
		c.backup = true
		c.suffix, c.hasSuffix = o.arg, true
	case optHelp:
		c.help = true
		return errStop
	case optVersion:
		c.version = true
		return errStop
	default:
		return c.applyOwn(o)
	}
	return err
}

// applyOwn handles cowcp's own options.
func (c *cli) applyOwn(o parsedOpt) (err error) {
	switch o.id {
	case 'j':
		n, aerr := strconv.Atoi(o.arg)
		if aerr != nil || n < 0 {
			return badUsage("invalid number of jobs: %s", cpmsg.Quote(o.arg))
		}
		c.jobs = n
	case optProgress:
		c.progress, err = argmatch("--progress", o.arg, progressChoices)
	case 'q':
		c.quiet = true
	case optJSON:
		c.json = true
	case optDryRun:
		c.dryRun = true
	case optSync:
		c.sync = true
	default:
		panic(fmt.Sprintf("option %q is in the table but not handled", o.name))
	}
	return err
}
