package tests

// Trees for the differential tests against GNU cp (issue 3), described as
// lists of nodes and made with descriptor-relative calls so they can be
// deeper than PATH_MAX; and the runner that executes cp and the copier
// under test in the same conditions.

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// cpdNode is one entry of a source tree. Nodes are made in order, so a
// directory comes before its contents and a hardlink after its target.
type cpdNode struct {
	path   string // relative to the root, "/"-separated, raw bytes; "." is the root
	kind   byte   // 'd' dir, 'f' file, 'l' symlink, 'h' hardlink, 'p' fifo, 'c'/'b' device, 's' socket
	segs   []cpdSeg
	size   int64  // file: final size; the bytes outside segs are holes
	target string // symlink: the target; hardlink: the path it links to
	rdev   uint64 // devices
	mode   uint32 // permission bits, set after the owner (chown clears setuid); ignored for 'l' and 'h'
	owner  *[2]int
	xattrs []cpdXattr // set last: an access ACL rewrites the group bits
	mtime  *unix.Timespec
}

// cpdSeg is a run of data of a file at an offset.
type cpdSeg struct {
	off  int64
	data []byte
}

type cpdXattr struct {
	name  string
	value []byte
}

// Node constructors: a directory, a file of data, a sparse file of size
// with data segments, a symlink, a hardlink to an earlier node, and a fifo,
// socket or device node ('p', 's', 'c', 'b').
func cpdD(p string, mode uint32) cpdNode { return cpdNode{path: p, kind: 'd', mode: mode} }

func cpdF(p string, mode uint32, data []byte) cpdNode {
	return cpdNode{path: p, kind: 'f', mode: mode, segs: []cpdSeg{{0, data}}, size: int64(len(data))}
}

func cpdS(p string, size int64, segs ...cpdSeg) cpdNode {
	return cpdNode{path: p, kind: 'f', mode: 0o644, segs: segs, size: size}
}

func cpdL(p, target string) cpdNode { return cpdNode{path: p, kind: 'l', target: target} }

func cpdH(p, target string) cpdNode { return cpdNode{path: p, kind: 'h', target: target} }

func cpdN(p string, kind byte, mode uint32, rdev uint64) cpdNode {
	return cpdNode{path: p, kind: kind, mode: mode, rdev: rdev}
}

// own, at, xa and acl return the node with an owner, an mtime, xattrs
// (name, value pairs) or POSIX ACLs (in cpdACL's text form, "" for none).
func (n cpdNode) own(uid, gid int) cpdNode { n.owner = &[2]int{uid, gid}; return n }

func (n cpdNode) at(sec, nsec int64) cpdNode { n.mtime = cpdTime(sec, nsec); return n }

func (n cpdNode) xa(kv ...string) cpdNode {
	n.xattrs = append([]cpdXattr(nil), n.xattrs...)
	for i := 0; i+1 < len(kv); i += 2 {
		n.xattrs = append(n.xattrs, cpdXattr{kv[i], []byte(kv[i+1])})
	}
	return n
}

func (n cpdNode) acl(access, dflt string) cpdNode {
	n.xattrs = append([]cpdXattr(nil), n.xattrs...)
	if access != "" {
		n.xattrs = append(n.xattrs, cpdXattr{"system.posix_acl_access", cpdACL(access)})
	}
	if dflt != "" {
		n.xattrs = append(n.xattrs, cpdXattr{"system.posix_acl_default", cpdACL(dflt)})
	}
	return n
}

// cpdBuild makes the tree of nodes under root (created here), then sets the
// mtimes, last, so that making the tree does not move them.
func cpdBuild(t testing.TB, root string, nodes []cpdNode) {
	t.Helper()
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if err := cpdMake(root, n); err != nil {
			t.Fatalf("making %q: %v", n.path, err)
		}
	}
	for _, n := range nodes {
		if n.mtime == nil {
			continue
		}
		err := cpdAt(root, n.path, func(dirfd int, name string) error {
			ts := []unix.Timespec{*n.mtime, *n.mtime}
			return unix.UtimesNanoAt(dirfd, name, ts, unix.AT_SYMLINK_NOFOLLOW)
		})
		if err != nil {
			t.Fatalf("setting the mtime of %q: %v", n.path, err)
		}
	}
}

func cpdMake(root string, n cpdNode) error {
	return cpdAt(root, n.path, func(dirfd int, name string) error {
		var err error
		switch n.kind {
		case 'd':
			if n.path != "." {
				err = unix.Mkdirat(dirfd, name, 0o700)
			}
		case 'f':
			err = cpdWriteFile(dirfd, name, n)
		case 'l':
			err = unix.Symlinkat(n.target, dirfd, name)
		case 'h':
			err = cpdAt(root, n.target, func(olddirfd int, oldname string) error {
				return unix.Linkat(olddirfd, oldname, dirfd, name, 0)
			})
			return err // a hardlink shares its target's metadata
		case 'p':
			err = unix.Mknodat(dirfd, name, unix.S_IFIFO|0o600, 0)
		case 's':
			err = unix.Mknodat(dirfd, name, unix.S_IFSOCK|0o600, 0)
		case 'c':
			err = unix.Mknodat(dirfd, name, unix.S_IFCHR|0o600, int(n.rdev))
		case 'b':
			err = unix.Mknodat(dirfd, name, unix.S_IFBLK|0o600, int(n.rdev))
		default:
			err = fmt.Errorf("unknown kind %q", n.kind)
		}
		if err != nil {
			return err
		}
		if n.owner != nil {
			if err := unix.Fchownat(dirfd, name, n.owner[0], n.owner[1], unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return fmt.Errorf("chown: %w", err)
			}
		}
		if n.kind != 'l' {
			if err := unix.Fchmodat(dirfd, name, n.mode, 0); err != nil {
				return fmt.Errorf("chmod: %w", err)
			}
		}
		for _, x := range n.xattrs {
			if err := unix.Lsetxattr(cpdProcPath(dirfd, name), x.name, x.value, 0); err != nil {
				return fmt.Errorf("setxattr %s: %w", x.name, err)
			}
		}
		return nil
	})
}

func cpdWriteFile(dirfd int, name string, n cpdNode) error {
	fd, err := unix.Openat(dirfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	for _, s := range n.segs {
		for b, off := s.data, s.off; len(b) > 0; {
			w, err := unix.Pwrite(fd, b, off)
			if err != nil {
				return err
			}
			b, off = b[w:], off+int64(w)
		}
	}
	return unix.Ftruncate(fd, n.size)
}

// cpdAt calls fn with a descriptor of the directory holding path (relative
// to root) and the last component, opening the directories one by one so
// that depth is not limited by PATH_MAX. For "." it passes root itself.
func cpdAt(root, path string, fn func(dirfd int, name string) error) error {
	if path == "." {
		return fn(unix.AT_FDCWD, root)
	}
	dirfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	parts := strings.Split(path, "/")
	for _, p := range parts[:len(parts)-1] {
		next, err := unix.Openat(dirfd, p, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		unix.Close(dirfd)
		if err != nil {
			return err
		}
		dirfd = next
	}
	defer unix.Close(dirfd)
	return fn(dirfd, parts[len(parts)-1])
}

// cpdProcPath names dirfd/name by a short path, whatever the depth, for the
// calls that have no descriptor-relative form (l*xattr, which do not follow
// the last component).
func cpdProcPath(dirfd int, name string) string {
	if dirfd == unix.AT_FDCWD {
		return name
	}
	return fmt.Sprintf("/proc/self/fd/%d/%s", dirfd, name)
}

// cpdACL encodes a POSIX ACL given in getfacl's short form ("u::rw-,u:1000:r--,
// g::r--,m::rw-,o::---") as the system.posix_acl_* xattr value. The entries
// must be in the kernel's order: u::, u:ID, g::, g:ID, m::, o::.
func cpdACL(text string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, 2) // POSIX_ACL_XATTR_VERSION
	for _, ent := range strings.Split(text, ",") {
		f := strings.Split(ent, ":")
		tag := map[string]uint16{"u": 0x01, "g": 0x04, "m": 0x10, "o": 0x20}[f[0]]
		id := uint32(0xffffffff) // ACL_UNDEFINED_ID
		if f[1] != "" {
			var n uint32
			fmt.Sscan(f[1], &n)
			tag, id = tag*2, n // ACL_USER 0x02, ACL_GROUP 0x08
		}
		var perm uint16
		for i, c := range "rwx" {
			if f[2][i] == byte(c) {
				perm |= 4 >> i
			}
		}
		b = binary.LittleEndian.AppendUint16(b, tag)
		b = binary.LittleEndian.AppendUint16(b, perm)
		b = binary.LittleEndian.AppendUint32(b, id)
	}
	return b
}

// cpdCapability is a security.capability value (VFS_CAP_REVISION_2, effective)
// granting CAP_NET_BIND_SERVICE.
func cpdCapability() []byte {
	b := binary.LittleEndian.AppendUint32(nil, 0x02000000|1)
	for _, v := range []uint32{1 << 10, 0, 0, 0} {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

func cpdTime(sec, nsec int64) *unix.Timespec {
	return &unix.Timespec{Sec: sec, Nsec: nsec}
}

// cpdBin is the copier under test: the cowcp that TestMain built, or
// $COWCP_DIFF_BIN when set. COWCP_DIFF_BIN=/bin/cp checks the differential
// harness itself: cp compared with cp must show no difference.
func cpdBin() string {
	if b := os.Getenv("COWCP_DIFF_BIN"); b != "" {
		return b
	}
	return cowcpBin
}

// cpdCmd is one invocation, made identically for cp and the copier.
type cpdCmd struct {
	dir   string   // working directory
	args  []string // arguments after the program name
	stdin string   // answers to -i prompts
	umask int      // umask for the run, or -1 to inherit the test's
	uid   int      // run as this uid and gid when non-zero
	// timeout bounds the run (default 60 s): a copier that hangs must fail
	// its case, not eat the suite's time budget.
	timeout time.Duration
}

// cpdTimedOut is the exit code cpdExec reports for a run it had to kill.
const cpdTimedOut = -1

// cpdExec runs bin as c says, in the C locale and without the environment
// variables that change cp's behaviour, and returns its result; the code is
// cpdTimedOut if it had to be killed.
func cpdExec(t testing.TB, bin string, c cpdCmd) result {
	t.Helper()
	if c.timeout == 0 {
		c.timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	args := append([]string{bin}, c.args...)
	if c.umask >= 0 {
		args = append([]string{"/bin/sh", "-c", fmt.Sprintf(`umask %03o && exec "$0" "$@"`, c.umask)}, args...)
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = c.dir
	cmd.Stdin = strings.NewReader(c.stdin)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	// A -race binary sleeps a second at exit (atexit_sleep_ms=1000) unless
	// told not to; the suite runs it over a thousand times.
	gorace := "atexit_sleep_ms=0"
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "LANG", k == "LANGUAGE", strings.HasPrefix(k, "LC_"),
			k == "VERSION_CONTROL", k == "SIMPLE_BACKUP_SUFFIX", k == "POSIXLY_CORRECT":
			continue
		case k == "GORACE":
			gorace = v + " " + gorace
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, "LC_ALL=C", "GORACE="+gorace)
	if c.uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{
			Uid: uint32(c.uid), Gid: uint32(c.uid), Groups: []uint32{},
		}}
	}
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Logf("%q in %q: killed after %v", args, c.dir, c.timeout)
		return result{code: cpdTimedOut, stdout: so.String(), stderr: se.String() + "(killed: timed out)"}
	}
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running %q: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{code: code, stdout: so.String(), stderr: se.String()}
}

// cpdCP is GNU cp, the reference.
func cpdCP(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("cp")
	if err != nil {
		t.Fatalf("GNU cp, the reference, is not installed: %v", err)
	}
	return p
}
