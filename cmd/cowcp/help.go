//go:build linux

package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/cowcp/cowcp/internal/buildinfo"
)

// printVersion is --version: named cp, cowcp says what it is, as cp's
// first line says "cp (GNU coreutils) 9.5".
func printVersion(w io.Writer) {
	if progName == "cowcp" {
		fmt.Fprintf(w, "cowcp %s\n", buildinfo.Read())
		return
	}
	fmt.Fprintf(w, "%s (cowcp) %s\n", progName, buildinfo.Read())
}

// printHelp is --help: cp 9.5's options by cp's own names, in cp's
// layout, then cowcp's own.
func printHelp(w io.Writer) {
	p := progName
	fmt.Fprintf(w, `Usage: %s [OPTION]... [-T] SOURCE DEST
  or:  %s [OPTION]... SOURCE... DIRECTORY
  or:  %s [OPTION]... -t DIRECTORY SOURCE...
`, p, p, p)
	io.WriteString(w, strings.TrimPrefix(helpText, "\n"))
}

const helpText = `
Copy SOURCE to DEST, or multiple SOURCE(s) to DIRECTORY, cloning file data
(copy-on-write reflinks) where the filesystem can, and copying it elsewhere.

Mandatory arguments to long options are mandatory for short options too.
  -a, --archive                same as -dR --preserve=all
      --attributes-only        don't copy the file data, just the attributes
      --backup[=CONTROL]       make a backup of each existing destination file
  -b                           like --backup but does not accept an argument
      --copy-contents          copy contents of special files when recursive
  -d                           same as --no-dereference --preserve=links
      --debug                  explain how a file is copied.  Implies -v
  -f, --force                  if an existing destination file cannot be
                                 opened, remove it and try again (this option
                                 is ignored when the -n option is also used)
  -i, --interactive            prompt before overwrite (overrides a previous -n
                                  option)
  -H                           follow command-line symbolic links in SOURCE
  -l, --link                   hard link files instead of copying
  -L, --dereference            always follow symbolic links in SOURCE
  -n, --no-clobber             silently skip existing files (overrides a
                                 previous -i option).  See also --update
  -P, --no-dereference         never follow symbolic links in SOURCE
  -p                           same as --preserve=mode,ownership,timestamps
      --preserve[=ATTR_LIST]   preserve the specified attributes
      --no-preserve=ATTR_LIST  don't preserve the specified attributes
      --parents                use full source file name under DIRECTORY
  -R, -r, --recursive          copy directories recursively
      --reflink[=WHEN]         control clone/CoW copies. See below
      --remove-destination     remove each existing destination file before
                                 attempting to open it (contrast with --force)
      --sparse=WHEN            control creation of sparse files. See below
      --strip-trailing-slashes  remove any trailing slashes from each SOURCE
                                 argument
  -s, --symbolic-link          make symbolic links instead of copying
  -S, --suffix=SUFFIX          override the usual backup suffix
  -t, --target-directory=DIRECTORY  copy all SOURCE arguments into DIRECTORY
  -T, --no-target-directory    treat DEST as a normal file
      --update[=UPDATE]        control which existing files are updated;
                                 UPDATE={all,none,none-fail,older(default)}
  -u                           equivalent to --update[=older].  See below
  -v, --verbose                explain what is being done, with the method
                                 each file was copied by
      --keep-directory-symlink  follow existing symlinks to directories
  -x, --one-file-system        stay on this file system
  -Z                           set SELinux security context of destination
                                 file to default type
      --context[=CTX]          like -Z, or if CTX is specified then set the
                                 SELinux or SMACK security context to CTX
      --help        display this help and exit
      --version     output version information and exit

cowcp's own options:
  -j, --jobs=N                 copy N files at once (default 0: one per CPU,
                                 at least 4; at most 256)
      --progress=WHEN          progress bar on stderr: auto (when stderr is a
                                 terminal; with -v only if its lines go to
                                 stderr, i.e. with --json), always, never
  -q, --quiet                  print no summary, warnings or progress; errors
                                 only
      --json                   print a JSON report on stdout at the end
      --dry-run                show what would be done and why, doing nothing
      --sync                   flush the copy to disk before exiting and
                                 report how much used space grew

ATTR_LIST is a comma-separated list of attributes. Attributes are 'mode' for
permissions (including any ACL and xattr permissions), 'ownership' for user
and group, 'timestamps' for file timestamps, 'links' for hard links, 'context'
for security context, 'xattr' for extended attributes, and 'all' for all
attributes.

By default, sparse SOURCE files are detected by a crude heuristic and the
corresponding DEST file is made sparse as well.  That is the behavior
selected by --sparse=auto.  Specify --sparse=always to create a sparse DEST
file whenever the SOURCE file contains a long enough sequence of zero bytes.
Use --sparse=never to inhibit creation of sparse files.

UPDATE controls which existing files in the destination are replaced.
'all' is the default operation when an --update option is not specified,
and results in all existing files in the destination being replaced.
'none' is like the --no-clobber option, in that no files in the
destination are replaced, and skipped files do not induce a failure.
'none-fail' also ensures no files are replaced in the destination,
but any skipped files are diagnosed and induce a failure.
'older' is the default operation when --update is specified, and results
in files being replaced if they're older than the corresponding source file.

By default or with --reflink=auto, the data blocks are shared with the
source (a clone, copied only when modified) where the filesystem can, and
copied where it cannot.  With --reflink[=always] a file that cannot be cloned
is an error, while --reflink=never ensures a standard copy is performed.

The backup suffix is '~', unless set with --suffix or SIMPLE_BACKUP_SUFFIX.
The version control method may be selected via the --backup option or through
the VERSION_CONTROL environment variable.  Here are the values:

  none, off       never make backups (even if --backup is given)
  numbered, t     make numbered backups
  existing, nil   numbered if numbered backups exist, simple otherwise
  simple, never   always make simple backups

As a special case, cp makes a backup of SOURCE when the force and backup
options are given and SOURCE and DEST are the same name for an existing,
regular file.
`
