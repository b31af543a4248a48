package tree

// The copier under test and its data calls: a Copier made for a test
// (testCopier), whose FICLONE, FICLONERANGE and copy_file_range a spy can
// count and replace, run to the end (runCopies) on trees in t.TempDir(),
// and checks of what it left.

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cowcp/cowcp/fallback"
	"github.com/cowcp/cowcp/internal/testtree"
	"github.com/cowcp/cowcp/reflink"
	"golang.org/x/sys/unix"
)

// writeFile writes data to path with mode, whatever the umask.
func writeFile(t testing.TB, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // not filtered by the umask
		t.Fatal(err)
	}
}

// checkFile fails unless path holds want.
func checkFile(t testing.TB, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("reading the copy: %v", err)
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: content differs from the source (%d bytes, want %d)", path, len(got), len(want))
	}
}

// checkNoLeftovers fails if dir holds a temporary file of the copier, or
// if any of names exists in it.
func checkNoLeftovers(t testing.TB, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tmpPrefix) && strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left in %s", e.Name(), dir)
		}
		if slices.Contains(names, e.Name()) {
			t.Errorf("%s exists in %s after a failed copy", e.Name(), dir)
		}
	}
}

// runCopies copies each (dst, src) pair with c and closes it, failing the
// test if that does not finish within a minute (a deadlock in the copier).
func runCopies(t testing.TB, c *Copier, pairs ...string) Stats {
	t.Helper()
	done := make(chan Stats, 1)
	go func() {
		for i := 0; i+1 < len(pairs); i += 2 {
			c.Copy(pairs[i], pairs[i+1])
		}
		done <- c.Close()
	}()
	select {
	case st := <-done:
		return st
	case <-time.After(time.Minute):
		t.Fatalf("copy did not finish within a minute: deadlock?")
		return Stats{}
	}
}

// spy counts the copier's data calls and lets a test replace them.
type spy struct {
	mu                        sync.Mutex
	clones, cloneRanges, cfrs int
	cloneRangeArgs            [][3]int64 // dstOff, srcOff, n
	clone                     func(dst, src *os.File) error
	cloneRange                func(dst *os.File, dstOff int64, src *os.File, srcOff, n int64) error
	copyRange                 func(dst, src *os.File, off, n int64) (int64, error)
}

// install makes c's data calls go through s; a nil func in s fails the
// test when called (the chain must not have reached it).
func (s *spy) install(t testing.TB, c *Copier) {
	c.env.ops = ops{
		clone: func(d, sf reflink.File, _ int64) error {
			dst, src := asFile(d), asFile(sf)
			s.mu.Lock()
			s.clones++
			s.mu.Unlock()
			if s.clone == nil {
				t.Errorf("FICLONE called for %s", src.Name())
				return &os.PathError{Op: "clone from " + src.Name(), Path: dst.Name(), Err: unix.EBADE}
			}
			return s.clone(dst, src)
		},
		cloneRange: func(d reflink.File, dstOff int64, sf reflink.File, srcOff, n int64) error {
			dst, src := asFile(d), asFile(sf)
			s.mu.Lock()
			s.cloneRanges++
			s.cloneRangeArgs = append(s.cloneRangeArgs, [3]int64{dstOff, srcOff, n})
			s.mu.Unlock()
			if s.cloneRange == nil {
				t.Errorf("FICLONERANGE called for %s", src.Name())
				return &os.PathError{Op: "clone range", Path: dst.Name(), Err: unix.EBADE}
			}
			return s.cloneRange(dst, dstOff, src, srcOff, n)
		},
		copyRange: func(dst, src *os.File, off, n int64) (int64, error) {
			s.mu.Lock()
			s.cfrs++
			s.mu.Unlock()
			if s.copyRange == nil {
				t.Errorf("copy_file_range called for %s", src.Name())
				return 0, &os.PathError{Op: "copy_file_range", Path: dst.Name(), Err: unix.EBADE}
			}
			return s.copyRange(dst, src, off, n)
		},
	}
}

// asFile is the *os.File behind what the copier hands its clone calls.
func asFile(f reflink.File) *os.File {
	if h, ok := f.(*handle); ok {
		return h.File()
	}
	return f.(*os.File)
}

func (s *spy) counts() (clones, cloneRanges, cfrs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clones, s.cloneRanges, s.cfrs
}

// cloneErr returns a clone func failing like reflink.Clone with errno.
func cloneErr(errno unix.Errno) func(dst, src *os.File) error {
	return func(dst, src *os.File) error {
		return &os.PathError{Op: "clone from " + src.Name(), Path: dst.Name(), Err: errno}
	}
}

// fakeClone "clones" by copying bytes, so tests on filesystems that
// cannot clone still see the content a clone would make.
func fakeClone(dst, src *os.File) error {
	fi, err := src.Stat()
	if err != nil {
		return err
	}
	if err := dst.Truncate(0); err != nil {
		return err
	}
	_, err = fallback.ReadWrite(dst, src, 0, fi.Size(), nil)
	return err
}

// fakeCloneRange "clones" a range by copying its bytes, at matching
// offsets only, as FICLONERANGE needs them.
func fakeCloneRange(dst *os.File, dstOff int64, src *os.File, srcOff, n int64) error {
	if dstOff != srcOff {
		return &os.PathError{Op: "clone range", Path: dst.Name(), Err: unix.EINVAL}
	}
	if n == 0 {
		fi, err := src.Stat()
		if err != nil {
			return err
		}
		n = fi.Size() - srcOff
	}
	_, err := fallback.ReadWrite(dst, src, srcOff, n, nil)
	return err
}

// testCopier makes a Copier with s installed and a record of its warnings.
func testCopier(t testing.TB, opts Options, s *spy) (*Copier, *bytes.Buffer) {
	t.Helper()
	var warn bytes.Buffer
	if opts.Warn == nil {
		opts.Warn = &warn
	}
	c := New(context.Background(), opts)
	if s != nil {
		s.install(t, c)
	}
	return c, &warn
}

// srcDstTree makes src, holding a file of each size by name, and an empty
// dst, and returns the files' contents by name.
func srcDstTree(t testing.TB, sizes map[string]int) (src, dst string, data map[string][]byte) {
	t.Helper()
	root := t.TempDir()
	src, dst = filepath.Join(root, "src"), filepath.Join(root, "dst")
	data = map[string][]byte{}
	var nodes []testtree.Node
	for i, name := range slices.Sorted(maps.Keys(sizes)) {
		data[name] = testtree.Bytes(uint64(i+1), sizes[name])
		nodes = append(nodes, testtree.F(name, 0o644, data[name]))
	}
	testtree.Build(t, src, nodes)
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	return src, dst, data
}

// devOf is the device of the filesystem holding path.
func devOf(t testing.TB, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Dev
}

// realCopyRange is the real copy_file_range, for a spy that lets it through.
func realCopyRange(dst, src *os.File, off, n int64) (int64, error) {
	return fallback.CopyRange(dst, src, off, n)
}
