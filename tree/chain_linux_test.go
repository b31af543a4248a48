package tree

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cowcp/cowcp/fallback"
	"github.com/cowcp/cowcp/internal/testtree"
	"github.com/cowcp/cowcp/tree/cpmsg"
	"golang.org/x/sys/unix"
)

// The tests in this file drive the copier's fallback chain (FICLONE or
// FICLONERANGE, then copy_file_range, then read/write) with failures
// injected through Copier.env.ops, on real files in t.TempDir().

// Clone answers EOPNOTSUPP: the file falls back to copy_file_range, the
// pair is remembered, and the next file does not try to clone.
func TestChainCloneFSUnsupportedIsCached(t *testing.T) {
	src, dst, data := srcDstTree(t, map[string]int{"a": 100 << 10, "b": 50 << 10, "c": 1})
	s := &spy{clone: cloneErr(unix.EOPNOTSUPP), copyRange: realCopyRange}
	c, warn := testCopier(t, Options{Jobs: 1}, s)
	st := runCopies(t, c,
		filepath.Join(dst, "a"), filepath.Join(src, "a"),
		filepath.Join(dst, "b"), filepath.Join(src, "b"),
		filepath.Join(dst, "c"), filepath.Join(src, "c"))
	if st.Errors != 0 {
		t.Fatalf("errors: %v", st.Failures)
	}
	for name, want := range data {
		checkFile(t, filepath.Join(dst, name), want)
	}
	clones, _, cfrs := s.counts()
	if clones != 1 {
		t.Errorf("FICLONE called %d times for 3 files on one filesystem pair, want 1 (cache)", clones)
	}
	if cfrs != 3 {
		t.Errorf("copy_file_range called %d times, want 3", cfrs)
	}
	if st.Methods.CopyFileRange != 3 || st.Files != 3 {
		t.Errorf("methods %+v for %d files, want 3 copy_file_range", st.Methods, st.Files)
	}
	if st.ClonedBytes != 0 || st.CopiedBytes != st.Bytes || st.Bytes != 150<<10+1 {
		t.Errorf("bytes %d, cloned %d, copied %d", st.Bytes, st.ClonedBytes, st.CopiedBytes)
	}
	p := pair{src: devOf(t, src), dst: devOf(t, dst)}
	if !c.env.caps.cloneFails(p) {
		t.Error("capability cache does not mark the filesystem pair")
	}
	if c.env.caps.cfrFails(p) {
		t.Error("copy_file_range marked as failing though it worked")
	}
	if len(st.NotCloned) != 1 || st.NotCloned[0].Src != filepath.Join(src, "a") ||
		st.NotCloned[0].Reason != "Operation not supported" {
		t.Errorf("not cloned %+v, want one pair, found with a (Operation not supported)", st.NotCloned)
	}
	if warn.Len() != 0 {
		t.Errorf("notices printed mid-copy: %q", warn.String())
	}
	checkNoLeftovers(t, dst)
}

// The cache is per filesystem pair: an unsupported answer for one pair
// does not stop clones for another.
func TestChainCacheIsPerPair(t *testing.T) {
	src, dst, data := srcDstTree(t, map[string]int{"a": 10 << 10})
	shm, err := os.MkdirTemp("/dev/shm", "cowcp-test-")
	if err != nil {
		t.Skipf("no /dev/shm: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(shm) })
	if devOf(t, shm) == devOf(t, src) {
		t.Skip("/dev/shm is on the same filesystem as t.TempDir()")
	}
	other := testtree.Bytes(9, 20<<10)
	writeFile(t, filepath.Join(shm, "b"), other, 0o644)

	s := &spy{clone: cloneErr(unix.EOPNOTSUPP), copyRange: realCopyRange}
	c, _ := testCopier(t, Options{Jobs: 1}, s)
	st := runCopies(t, c,
		filepath.Join(dst, "a"), filepath.Join(src, "a"),
		filepath.Join(dst, "b"), filepath.Join(shm, "b"))
	if st.Errors != 0 {
		t.Fatalf("errors: %v", st.Failures)
	}
	checkFile(t, filepath.Join(dst, "a"), data["a"])
	checkFile(t, filepath.Join(dst, "b"), other)
	if clones, _, _ := s.counts(); clones != 2 {
		t.Errorf("FICLONE called %d times for two filesystem pairs, want 2", clones)
	}
}

// Per-file answers (EINVAL, EPERM, ETXTBSY) fall back but never poison
// the cache: every file tries to clone.
func TestChainCloneFileUnsupportedNotCached(t *testing.T) {
	for _, errno := range []unix.Errno{unix.EINVAL, unix.EPERM, unix.ETXTBSY} {
		t.Run(errno.Error(), func(t *testing.T) {
			src, dst, data := srcDstTree(t, map[string]int{"a": 30 << 10, "b": 40 << 10, "c": 50 << 10})
			s := &spy{clone: cloneErr(errno), copyRange: realCopyRange}
			c, _ := testCopier(t, Options{Jobs: 1, Recursive: true}, s)
			st := runCopies(t, c, filepath.Join(dst, "copy"), src)
			if st.Errors != 0 {
				t.Fatalf("errors: %v", st.Failures)
			}
			for name, want := range data {
				checkFile(t, filepath.Join(dst, "copy", name), want)
			}
			if clones, _, cfrs := s.counts(); clones != 3 || cfrs != 3 {
				t.Errorf("FICLONE called %d times, copy_file_range %d; want 3 and 3", clones, cfrs)
			}
			if c.env.caps.cloneFails(pair{src: devOf(t, src), dst: devOf(t, dst)}) {
				t.Errorf("%v set the capability cache", errno)
			}
			if st.Methods.CopyFileRange != 3 {
				t.Errorf("methods %+v", st.Methods)
			}
			checkNoLeftovers(t, filepath.Join(dst, "copy"))
		})
	}
}

// A real clone failure fails the file: no other method is tried (it would
// hide the fault), and nothing is left at the destination.
func TestChainCloneRealErrorFailsFile(t *testing.T) {
	for _, errno := range []unix.Errno{unix.EIO, unix.ENOSPC, unix.EDQUOT} {
		t.Run(errno.Error(), func(t *testing.T) {
			src, dst, _ := srcDstTree(t, map[string]int{"a": 64 << 10})
			s := &spy{clone: cloneErr(errno)}
			var events []Event
			c, _ := testCopier(t, Options{Jobs: 2, Observe: func(ev Event) { events = append(events, ev) }}, s)
			from, to := filepath.Join(src, "a"), filepath.Join(dst, "a")
			st := runCopies(t, c, to, from)
			if st.Errors != 1 || len(st.Failures) != 1 {
				t.Fatalf("Errors = %d, failures %v; want 1", st.Errors, st.Failures)
			}
			f := st.Failures[0]
			if f.Path != from {
				t.Errorf("failure path %q, want the source %q", f.Path, from)
			}
			if !strings.Contains(f.Err, cpmsg.Quote(to)) || !strings.Contains(f.Err, cpmsg.Reason(errno)) {
				t.Errorf("failure %q does not name %s and %q", f.Err, cpmsg.Quote(to), cpmsg.Reason(errno))
			}
			if _, _, cfrs := s.counts(); cfrs != 0 {
				t.Errorf("copy_file_range called %d times after a clone %v", cfrs, errno)
			}
			if st.Files != 0 {
				t.Errorf("Files = %d for a failed file", st.Files)
			}
			if c.env.caps.cloneFails(pair{src: devOf(t, src), dst: devOf(t, dst)}) {
				t.Errorf("%v set the capability cache", errno)
			}
			var evErr error
			for _, ev := range events {
				if ev.Err != nil {
					evErr = ev.Err
				}
			}
			if !errors.Is(evErr, errno) {
				t.Errorf("observed error %v does not wrap %v", evErr, errno)
			}
			checkNoLeftovers(t, dst, "a")
		})
	}
}

// --reflink=always: an unsupported clone is an error and leaves nothing,
// for every file, even once the pair is known not to clone.
func TestChainReflinkAlways(t *testing.T) {
	for _, errno := range []unix.Errno{unix.EOPNOTSUPP, unix.EXDEV, unix.EINVAL} {
		t.Run(errno.Error(), func(t *testing.T) {
			src, dst, _ := srcDstTree(t, map[string]int{"a": 64 << 10, "b": 1 << 10})
			s := &spy{clone: cloneErr(errno)}
			c, _ := testCopier(t, Options{Jobs: 1, Reflink: ReflinkAlways}, s)
			st := runCopies(t, c,
				filepath.Join(dst, "a"), filepath.Join(src, "a"),
				filepath.Join(dst, "b"), filepath.Join(src, "b"))
			if st.Errors != 2 {
				t.Fatalf("Errors = %d, want 2: %v", st.Errors, st.Failures)
			}
			for _, f := range st.Failures {
				if !strings.Contains(f.Err, "clone") {
					t.Errorf("failure %q does not say the clone failed", f.Err)
				}
			}
			if clones, _, cfrs := s.counts(); clones != 2 || cfrs != 0 {
				t.Errorf("FICLONE %d times, copy_file_range %d; want 2 and 0", clones, cfrs)
			}
			checkNoLeftovers(t, dst, "a", "b")
		})
	}

	// Large files clone range by range: a failure there leaves nothing too.
	t.Run("Ranges", func(t *testing.T) {
		src, dst, _ := srcDstTree(t, map[string]int{"big": 300 << 10})
		s := &spy{cloneRange: func(dst *os.File, dstOff int64, src *os.File, srcOff, n int64) error {
			if srcOff == 0 {
				return fakeCloneRange(dst, dstOff, src, srcOff, n)
			}
			return &os.PathError{Op: "clone range", Path: dst.Name(), Err: unix.EOPNOTSUPP}
		}}
		c, _ := testCopier(t, Options{Jobs: 1, Reflink: ReflinkAlways, CloneChunk: 64 << 10}, s)
		st := runCopies(t, c, filepath.Join(dst, "big"), filepath.Join(src, "big"))
		if st.Errors != 1 {
			t.Fatalf("Errors = %d, want 1", st.Errors)
		}
		checkNoLeftovers(t, dst, "big")
	})
}

// --reflink=never: a true byte copy, neither FICLONE nor copy_file_range.
func TestChainReflinkNever(t *testing.T) {
	src, dst, data := srcDstTree(t, map[string]int{"dense": 200 << 10, "empty": 0})
	sparse := filepath.Join(src, "sparse")
	f, err := os.Create(sparse)
	if err != nil {
		t.Fatal(err)
	}
	sparseData := make([]byte, 4<<20)
	copy(sparseData[1<<20:], testtree.Bytes(5, 64<<10))
	_, err = f.WriteAt(sparseData[1<<20:1<<20+64<<10], 1<<20)
	if err == nil {
		err = f.Truncate(4 << 20)
	}
	if err == nil {
		err = f.Sync()
	}
	f.Close()
	var sst unix.Stat_t
	if err == nil {
		err = unix.Stat(sparse, &sst)
	}
	if err != nil {
		t.Fatal(err)
	}
	holes := fallback.HasHoles(&sst)

	s := &spy{}
	methods := map[string]Method{}
	c, _ := testCopier(t, Options{Jobs: 1, Reflink: ReflinkNever, Recursive: true, Observe: func(ev Event) {
		if ev.Kind == KindFile && !ev.Partial && ev.Err == nil {
			methods[filepath.Base(ev.Dst)] = ev.Method
		}
	}}, s)
	st := runCopies(t, c, filepath.Join(dst, "copy"), src)
	if st.Errors != 0 {
		t.Fatalf("errors: %v", st.Failures)
	}
	if clones, ranges, cfrs := s.counts(); clones+ranges+cfrs != 0 {
		t.Errorf("--reflink=never called FICLONE %d, FICLONERANGE %d, copy_file_range %d times", clones, ranges, cfrs)
	}
	checkFile(t, filepath.Join(dst, "copy", "dense"), data["dense"])
	checkFile(t, filepath.Join(dst, "copy", "empty"), nil)
	checkFile(t, filepath.Join(dst, "copy", "sparse"), sparseData)
	want := map[string]Method{"dense": MethodReadWrite, "sparse": MethodReadWrite}
	if holes {
		want["sparse"] = MethodSparse
		var dst1 unix.Stat_t
		unix.Stat(filepath.Join(dst, "copy", "sparse"), &dst1)
		if dst1.Blocks > sst.Blocks {
			t.Errorf("sparse copy has %d blocks, source %d: holes filled", dst1.Blocks, sst.Blocks)
		}
	}
	for name, m := range want {
		if methods[name] != m {
			t.Errorf("%s copied by %q, want %q", name, methods[name], m)
		}
	}
	if m := methods["empty"]; m != MethodNone && m != MethodReadWrite {
		t.Errorf("empty file copied by %q", m)
	}
	if st.SavedBytes != 0 || st.ClonedBytes != 0 {
		t.Errorf("a byte copy claims %d saved, %d cloned bytes", st.SavedBytes, st.ClonedBytes)
	}
}

// copy_file_range answering "unsupported" makes the file use read/write,
// and the pair is remembered for copy_file_range.
func TestChainCopyRangeUnsupported(t *testing.T) {
	src, dst, data := srcDstTree(t, map[string]int{"a": 100 << 10, "b": 3 << 20})
	s := &spy{
		clone: cloneErr(unix.EOPNOTSUPP),
		copyRange: func(dst, src *os.File, off, n int64) (int64, error) {
			return 0, fmt.Errorf("copy_file_range %s to %s: %w (%w)", src.Name(), dst.Name(),
				fallback.ErrUnsupported, unix.EXDEV)
		},
	}
	c, _ := testCopier(t, Options{Jobs: 1}, s)
	st := runCopies(t, c,
		filepath.Join(dst, "a"), filepath.Join(src, "a"),
		filepath.Join(dst, "b"), filepath.Join(src, "b"))
	if st.Errors != 0 {
		t.Fatalf("errors: %v", st.Failures)
	}
	for name, want := range data {
		checkFile(t, filepath.Join(dst, name), want)
	}
	if st.Methods.ReadWrite != 2 || st.Methods.CopyFileRange != 0 {
		t.Errorf("methods %+v, want 2 readwrite", st.Methods)
	}
	if _, _, cfrs := s.counts(); cfrs != 1 {
		t.Errorf("copy_file_range called %d times, want 1 (then cached)", cfrs)
	}
	checkNoLeftovers(t, dst)
}

// copy_file_range failing for real (EIO) fails the file; read/write is
// not tried, so the failure is not hidden, and nothing is left.
func TestChainCopyRangeRealError(t *testing.T) {
	src, dst, _ := srcDstTree(t, map[string]int{"a": 100 << 10})
	s := &spy{
		clone: cloneErr(unix.EOPNOTSUPP),
		copyRange: func(dst, src *os.File, off, n int64) (int64, error) {
			return 0, &os.PathError{Op: "copy_file_range from " + src.Name(), Path: dst.Name(), Err: unix.EIO}
		},
	}
	c, _ := testCopier(t, Options{Jobs: 1}, s)
	from, to := filepath.Join(src, "a"), filepath.Join(dst, "a")
	st := runCopies(t, c, to, from)
	if st.Errors != 1 || st.Files != 0 {
		t.Fatalf("Errors = %d, Files = %d; want 1, 0 (read/write must not rescue an EIO)", st.Errors, st.Files)
	}
	if f := st.Failures[0]; f.Path != from || !strings.Contains(f.Err, "Input/output error") {
		t.Errorf("failure %+v", f)
	}
	if _, _, cfrs := s.counts(); cfrs != 1 {
		t.Errorf("copy_file_range called %d times, want 1", cfrs)
	}
	if c.env.caps.cfrFails(pair{src: devOf(t, src), dst: devOf(t, dst)}) {
		t.Error("EIO from copy_file_range set the capability cache")
	}
	checkNoLeftovers(t, dst, "a")
}

// ENOSPC in the middle of a big file: what was written is removed.
func TestChainNoSpaceMidCopy(t *testing.T) {
	for _, name := range []string{"copy_file_range", "sparse"} {
		t.Run(name, func(t *testing.T) {
			src, dst, _ := srcDstTree(t, map[string]int{"big": 8 << 20})
			if name == "sparse" {
				// A hole in the middle makes the copy go through Sparse.
				f, _ := os.OpenFile(filepath.Join(src, "big"), os.O_RDWR, 0)
				if err := unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 2<<20, 2<<20); err != nil {
					f.Close()
					t.Skipf("cannot punch holes: %v", err)
				}
				f.Close()
			}
			var written int64
			var mu sync.Mutex
			s := &spy{
				clone: cloneErr(unix.EOPNOTSUPP),
				copyRange: func(d, sf *os.File, off, n int64) (int64, error) {
					mu.Lock()
					defer mu.Unlock()
					if written >= 3<<20 {
						w, _ := fallback.CopyRange(d, sf, off, n/2)
						return w, &os.PathError{Op: "copy_file_range from " + sf.Name(), Path: d.Name(), Err: unix.ENOSPC}
					}
					w, err := fallback.CopyRange(d, sf, off, n)
					written += w
					return w, err
				},
			}
			c, _ := testCopier(t, Options{Jobs: 1, ProgressBytes: 1 << 20}, s)
			st := runCopies(t, c, filepath.Join(dst, "big"), filepath.Join(src, "big"))
			if name == "sparse" {
				// Like cp, a source with holes is copied with read/write
				// (turning zero blocks into holes), never copy_file_range,
				// so the injected ENOSPC is not reached; the full-disk
				// end-to-end tests cover this path on a real filesystem.
				if _, _, cfrs := s.counts(); cfrs != 0 || st.Errors != 0 || st.Methods.Sparse != 1 {
					t.Fatalf("sparse source: %d copy_file_range calls, %d errors, %d sparse copies; want 0, 0, 1",
						cfrs, st.Errors, st.Methods.Sparse)
				}
				return
			}
			if st.Errors != 1 {
				t.Fatalf("Errors = %d, want 1", st.Errors)
			}
			if !strings.Contains(st.Failures[0].Err, "No space left on device") {
				t.Errorf("failure %q", st.Failures[0].Err)
			}
			if _, _, cfrs := s.counts(); cfrs < 4 {
				t.Errorf("copy_file_range called %d times; the failure was not mid-copy", cfrs)
			}
			checkNoLeftovers(t, dst, "big")
		})
	}
}

// Files larger than CloneChunk are cloned with FICLONERANGE, chunk by
// chunk at matching offsets, the last range to EOF (length 0).
func TestChainCloneChunks(t *testing.T) {
	const chunk = 64 << 10
	for _, tc := range []struct {
		name string
		size int
		want [][3]int64
	}{
		{"300KiB", 300 << 10, [][3]int64{
			{0, 0, chunk}, {chunk, chunk, chunk}, {2 * chunk, 2 * chunk, chunk},
			{3 * chunk, 3 * chunk, chunk}, {4 * chunk, 4 * chunk, 0}}},
		{"ExactMultiple", 3 * chunk, [][3]int64{
			{0, 0, chunk}, {chunk, chunk, chunk}, {2 * chunk, 2 * chunk, 0}}},
		{"OneByteOver", chunk + 1, [][3]int64{{0, 0, chunk}, {chunk, chunk, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, dst, data := srcDstTree(t, map[string]int{"f": tc.size})
			s := &spy{cloneRange: fakeCloneRange}
			var progress int64
			c, _ := testCopier(t, Options{Jobs: 1, CloneChunk: chunk, Observe: func(ev Event) {
				progress += ev.Progress
			}}, s)
			st := runCopies(t, c, filepath.Join(dst, "f"), filepath.Join(src, "f"))
			if st.Errors != 0 {
				t.Fatalf("errors: %v", st.Failures)
			}
			checkFile(t, filepath.Join(dst, "f"), data["f"])
			clones, _, cfrs := s.counts()
			if clones != 0 || cfrs != 0 {
				t.Errorf("FICLONE %d, copy_file_range %d times; want neither", clones, cfrs)
			}
			if !slices.Equal(s.cloneRangeArgs, tc.want) {
				t.Errorf("FICLONERANGE calls (dstOff, srcOff, n):\n got %v\nwant %v", s.cloneRangeArgs, tc.want)
			}
			if st.Methods != (MethodCounts{Ficlonerange: 1}) {
				t.Errorf("methods %+v, want one ficlonerange", st.Methods)
			}
			if st.ClonedBytes != int64(tc.size) || st.CopiedBytes != 0 {
				t.Errorf("cloned %d, copied %d bytes; want %d, 0", st.ClonedBytes, st.CopiedBytes, tc.size)
			}
			if progress != int64(tc.size) {
				t.Errorf("progress events add up to %d bytes, want %d", progress, tc.size)
			}
			checkNoLeftovers(t, dst)
		})
	}

	// Up to the chunk size, one FICLONE.
	t.Run("AtChunk", func(t *testing.T) {
		src, dst, data := srcDstTree(t, map[string]int{"f": chunk})
		s := &spy{clone: fakeClone}
		c, _ := testCopier(t, Options{Jobs: 1, CloneChunk: chunk}, s)
		st := runCopies(t, c, filepath.Join(dst, "f"), filepath.Join(src, "f"))
		if st.Errors != 0 || st.Methods != (MethodCounts{Ficlone: 1}) {
			t.Fatalf("errors %v, methods %+v", st.Failures, st.Methods)
		}
		checkFile(t, filepath.Join(dst, "f"), data["f"])
	})

	// A range failing as unsupported mid-file falls back to a byte copy
	// of the whole file.
	t.Run("FallbackMidFile", func(t *testing.T) {
		src, dst, data := srcDstTree(t, map[string]int{"f": 300 << 10})
		s := &spy{
			cloneRange: func(d *os.File, dOff int64, sf *os.File, sOff, n int64) error {
				if sOff >= 2*chunk {
					return &os.PathError{Op: "clone range", Path: d.Name(), Err: unix.EINVAL}
				}
				return fakeCloneRange(d, dOff, sf, sOff, n)
			},
			copyRange: realCopyRange,
		}
		c, _ := testCopier(t, Options{Jobs: 1, CloneChunk: chunk}, s)
		st := runCopies(t, c, filepath.Join(dst, "f"), filepath.Join(src, "f"))
		if st.Errors != 0 {
			t.Fatalf("errors %v", st.Failures)
		}
		checkFile(t, filepath.Join(dst, "f"), data["f"])
		if st.Methods != (MethodCounts{CopyFileRange: 1}) || st.ClonedBytes != 0 {
			t.Errorf("methods %+v, cloned %d", st.Methods, st.ClonedBytes)
		}
		checkNoLeftovers(t, dst)
	})
}

// Replacing an existing file: a failed copy keeps the old file untouched;
// a successful one keeps its mode (without -p), as cp does.
func TestChainReplaceExisting(t *testing.T) {
	old := []byte("the old content, which must survive a failed copy\n")

	t.Run("FailureKeepsOld", func(t *testing.T) {
		for _, inj := range []struct {
			name string
			s    *spy
		}{
			{"CloneEIO", &spy{clone: cloneErr(unix.EIO)}},
			{"CopyRangeEIO", &spy{clone: cloneErr(unix.EOPNOTSUPP), copyRange: func(d, sf *os.File, off, n int64) (int64, error) {
				w, _ := fallback.CopyRange(d, sf, off, n/2)
				return w, &os.PathError{Op: "copy_file_range", Path: d.Name(), Err: unix.EIO}
			}}},
		} {
			t.Run(inj.name, func(t *testing.T) {
				src, dst, _ := srcDstTree(t, map[string]int{"a": 100 << 10})
				to := filepath.Join(dst, "a")
				writeFile(t, to, old, 0o600)
				var before unix.Stat_t
				unix.Stat(to, &before)
				c, _ := testCopier(t, Options{Jobs: 1}, inj.s)
				st := runCopies(t, c, to, filepath.Join(src, "a"))
				if st.Errors != 1 {
					t.Fatalf("Errors = %d, want 1", st.Errors)
				}
				checkFile(t, to, old)
				var after unix.Stat_t
				unix.Stat(to, &after)
				if after.Ino != before.Ino || after.Mode != before.Mode {
					t.Errorf("destination replaced or changed: ino %d -> %d, mode %o -> %o",
						before.Ino, after.Ino, before.Mode, after.Mode)
				}
				checkNoLeftovers(t, dst)
			})
		}
	})

	for _, tc := range []struct {
		name     string
		preserve bool
		want     uint32
	}{
		{"KeepsOldMode", false, 0o600},
		{"PreserveMode", true, 0o755},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, dst, data := srcDstTree(t, map[string]int{"a": 100 << 10})
			from, to := filepath.Join(src, "a"), filepath.Join(dst, "a")
			if err := os.Chmod(from, 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, to, old, 0o600)
			s := &spy{clone: cloneErr(unix.EOPNOTSUPP), copyRange: realCopyRange}
			c, _ := testCopier(t, Options{Jobs: 1, Preserve: Preserve{Mode: tc.preserve}}, s)
			st := runCopies(t, c, to, from)
			if st.Errors != 0 {
				t.Fatalf("errors: %v", st.Failures)
			}
			checkFile(t, to, data["a"])
			var got unix.Stat_t
			unix.Stat(to, &got)
			if got.Mode&0o7777 != tc.want {
				t.Errorf("mode %o, want %o", got.Mode&0o7777, tc.want)
			}
			checkNoLeftovers(t, dst)
		})
	}
}

// New installs the real data calls, and with them the chain copies on
// this machine's temporary filesystem whatever it supports.
func TestChainDefaultOps(t *testing.T) {
	src, dst, data := srcDstTree(t, map[string]int{"a": 10 << 10})
	c := New(context.Background(), Options{Jobs: 1})
	if c.env.ops.clone == nil || c.env.ops.cloneRange == nil || c.env.ops.copyRange == nil {
		t.Fatal("New leaves data calls nil")
	}
	st := runCopies(t, c, filepath.Join(dst, "a"), filepath.Join(src, "a"))
	if st.Errors != 0 || st.Files != 1 {
		t.Fatalf("real copy: %+v", st)
	}
	checkFile(t, filepath.Join(dst, "a"), data["a"])
	if st.Methods.Ficlone+st.Methods.CopyFileRange != 1 {
		t.Errorf("methods %+v; want FICLONE or, where it cannot work, copy_file_range", st.Methods)
	}
}

// The capability cache is keyed by the filesystem a file is written on:
// through a destination symbolic link, that is the filesystem of the
// directory the link leads to, not the job's. An EXDEV there must not stop
// the files written beside the link, on the destination's own filesystem,
// from being cloned.
func TestChainCacheKeyedByTheFilesystemWrittenTo(t *testing.T) {
	other, err := os.MkdirTemp("/dev/shm", "cowcp-test-")
	if err != nil {
		t.Skipf("no /dev/shm: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(other) })
	src, dst, data := srcDstTree(t, map[string]int{"x": 64 << 10, "y": 64 << 10})
	if devOf(t, other) == devOf(t, dst) {
		t.Skip("/dev/shm is on the same filesystem as the temporary directory")
	}
	writeFile(t, filepath.Join(other, "x"), []byte("old"), 0o644)
	if err := os.Symlink(filepath.Join(other, "x"), filepath.Join(dst, "x")); err != nil {
		t.Fatal(err)
	}
	s := &spy{
		// Clones work within a filesystem and answer EXDEV across.
		clone: func(d, sf *os.File) error {
			var a, b unix.Stat_t
			if err := unix.Fstat(int(d.Fd()), &a); err != nil {
				return err
			}
			if err := unix.Fstat(int(sf.Fd()), &b); err != nil {
				return err
			}
			if a.Dev != b.Dev {
				return &os.PathError{Op: "clone from " + sf.Name(), Path: d.Name(), Err: unix.EXDEV}
			}
			return fakeClone(d, sf)
		},
		copyRange: realCopyRange,
	}
	c, _ := testCopier(t, Options{Jobs: 1}, s)
	c.Copy(filepath.Join(dst, "x"), filepath.Join(src, "x")) // written in /dev/shm
	c.Copy(filepath.Join(dst, "y"), filepath.Join(src, "y")) // a plain new file beside x
	st := c.Close()
	if st.Errors != 0 {
		t.Fatalf("copy failed: %v", st.Failures)
	}
	checkFile(t, filepath.Join(other, "x"), data["x"])
	checkFile(t, filepath.Join(dst, "y"), data["y"])
	if st.Methods.Ficlone != 1 {
		t.Errorf("%d files cloned, want 1: y (same filesystem as its source) was not even tried (%d FICLONE calls)",
			st.Methods.Ficlone, s.clones)
	}
	if c.env.caps.cloneFails(pair{src: devOf(t, src), dst: devOf(t, dst)}) {
		t.Error("an EXDEV from a file written on another filesystem was cached for the destination's own pair")
	}
}
