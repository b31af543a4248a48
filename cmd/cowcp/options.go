//go:build linux

package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/cowcp/cowcp/tree"
)

// The words each option's value may be, in cp's order: its "Valid
// arguments are:" list is printed in this order.
var (
	sparseChoices = []choice[tree.Sparse]{
		{"never", tree.SparseNever}, {"auto", tree.SparseAuto}, {"always", tree.SparseAlways},
	}
	reflinkChoices = []choice[tree.Reflink]{
		{"auto", tree.ReflinkAuto}, {"always", tree.ReflinkAlways}, {"never", tree.ReflinkNever},
	}
	updateChoices = []choice[update]{
		{"all", updateAll}, {"none", updateNone}, {"none-fail", updateNoneFail}, {"older", updateOlder},
	}
	backupChoices = []choice[tree.Backup]{
		{"none", tree.BackupNone}, {"off", tree.BackupNone},
		{"simple", tree.BackupSimple}, {"never", tree.BackupSimple},
		{"existing", tree.BackupExisting}, {"nil", tree.BackupExisting},
		{"numbered", tree.BackupNumbered}, {"t", tree.BackupNumbered},
	}
	progressChoices = []choice[string]{{"auto", "auto"}, {"always", "always"}, {"never", "never"}}
)

// preserveAttr is one word of an ATTR_LIST.
type preserveAttr int

const (
	attrMode preserveAttr = iota
	attrTimestamps
	attrOwnership
	attrLinks
	attrContext
	attrXattr
	attrAll
)

var preserveChoices = []choice[preserveAttr]{
	{"mode", attrMode}, {"timestamps", attrTimestamps}, {"ownership", attrOwnership},
	{"links", attrLinks}, {"context", attrContext}, {"xattr", attrXattr}, {"all", attrAll},
}

// keep is what a --preserve or --no-preserve list does to its attributes.
type keep bool

const (
	keepAttrs keep = true  // --preserve
	dropAttrs keep = false // --no-preserve
)

// decodePreserve applies a --preserve or --no-preserve list, word by word.
func (c *cli) decodePreserve(context, list string, k keep) error {
	on := bool(k)
	p := &c.preserve
	for _, w := range strings.Split(list, ",") {
		a, err := argmatch(context, w, preserveChoices)
		if err != nil {
			return err
		}
		switch a {
		case attrMode:
			p.Mode, c.explicitNoPreserveMode = on, !on
		case attrTimestamps:
			p.Timestamps = on
		case attrOwnership:
			p.Ownership = on
		case attrLinks:
			p.Links = on
		case attrContext:
			p.Context, c.requireContext = on, on
		case attrXattr:
			p.Xattr = on
		case attrAll:
			p.Mode, p.Timestamps, p.Ownership, p.Links, p.Xattr = on, on, on, on, on
			c.explicitNoPreserveMode = !on
			if c.selinux {
				p.Context = on
			}
		}
	}
	return nil
}

// settle applies the rules cp applies after its option loop, in cp's
// order, so that of two mistakes the one cp names is named.
func (c *cli) settle() error {
	// (Newer cp turns --reflink=auto into never with --sparse=never, so
	// that a clone does not keep the holes; cp 9.1 clones, and so does
	// cowcp, which the differential tests hold to 9.1.)
	if c.hardLink && c.symLink {
		return badUsage("cannot make both hard and symbolic links")
	}
	noClobber := c.interactive == interactiveSkip
	if noClobber {
		c.update = updateNone
	}
	if c.backup && (c.update == updateNone || c.update == updateNoneFail) {
		if noClobber {
			return badUsage("options --backup and --no-clobber are mutually exclusive") // cp 9.1's words
		}
		return badUsage("--backup is mutually exclusive with -n or --update=none-fail")
	}
	if c.reflink == tree.ReflinkAlways && c.sparse != tree.SparseAuto {
		return badUsage("--reflink can be used only with --sparse=auto")
	}
	var err error
	if c.backupType, err = c.backupControl(); err != nil {
		return err
	}
	if c.setContext && !c.requireContext {
		c.preserve.Context = false // -Z overrides -a
	}
	if c.requireContext && !c.selinux {
		return &usageError{msg: "cannot preserve security context without an SELinux-enabled kernel"}
	}
	if c.requireContext && c.setContext {
		return &usageError{msg: "cannot set target context and preserve it"}
	}
	return nil
}

// backupControl is the version control of -b, --backup and -S: the
// option's, else VERSION_CONTROL's, else existing.
func (c *cli) backupControl() (tree.Backup, error) {
	if !c.backup {
		return tree.BackupNone, nil
	}
	context, control := "backup type", c.versionControl
	if control == "" {
		context, control = "$VERSION_CONTROL", os.Getenv("VERSION_CONTROL")
	}
	if control == "" {
		return tree.BackupExisting, nil
	}
	return argmatch(context, control, backupChoices)
}

// backupSuffix is -S's suffix, else SIMPLE_BACKUP_SUFFIX's, else "~". A
// suffix that would put the backup in another directory is not used.
func (c *cli) backupSuffix() string {
	s := c.suffix
	if !c.hasSuffix {
		s = os.Getenv("SIMPLE_BACKUP_SUFFIX")
	}
	if s == "" || !isLastComponent(s) {
		return "~"
	}
	return s
}

// isLastComponent reports whether s is its own last file name component
// (gnulib's last_component): no leading slash, no slash before a name.
func isLastComponent(s string) bool {
	if strings.HasPrefix(s, "/") {
		return false
	}
	return !strings.Contains(strings.TrimRight(s, "/"), "/")
}

// options turns the command line into tree.Options.
func (c *cli) options() (tree.Options, error) {
	o := tree.Options{
		Recursive:      c.recursive,
		Deref:          c.deref,
		Preserve:       c.preserve,
		Reflink:        c.reflink,
		Sparse:         c.sparse,
		Update:         c.update == updateOlder,
		RefuseExisting: c.update == updateNoneFail,
		Force:          c.force,
		Backup:         c.backupType,
		BackupSuffix:   c.backupSuffix(),
		OneFS:          c.oneFS,
		Parents:        c.parents,
		DefaultMode:    c.explicitNoPreserveMode && !c.preserve.Mode,
		AttrsOnly:      c.attrsOnly,
		CopyContents:   c.copyContents,
		// cp writes through a dangling destination symlink under POSIX.
		ThroughDangling: os.Getenv("POSIXLY_CORRECT") != "",
		HardLink:        c.hardLink,
		SymLink:         c.symLink,
		KeepDirSymlink:  c.keepDirSL,
		DryRun:          c.dryRun,
		MeasureFS:       c.sync && !c.dryRun,
		Jobs:            c.jobs,
	}
	switch {
	case c.update == updateNone:
		o.Overwrite = tree.OverwriteNever // before any question, as cp
	case c.interactive == interactiveAsk:
		o.Overwrite = tree.OverwriteAsk // run sets Prompt, through the reporter
	case c.removeDest:
		o.Overwrite = tree.OverwriteRemoveFirst
	}
	if v := os.Getenv("COWCP_CLONE_CHUNK"); v != "" {
		// For tests: a small chunk makes FICLONERANGE testable on small files.
		var n int64
		if _, err := fmt.Sscan(v, &n); err != nil || n < 64<<10 || n&(n-1) != 0 {
			return o, fmt.Errorf("COWCP_CLONE_CHUNK must be a power of two of at least 65536, not %q", v)
		}
		o.CloneChunk = n
	}
	return o, nil
}
