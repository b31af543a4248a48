package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cowcp/cowcp/internal/testtree"
	"golang.org/x/sys/unix"
)

// mountTmpfs mounts a tmpfs of size bytes on a new directory and unmounts
// it in t.Cleanup.
func mountTmpfs(t testing.TB, size int64) string {
	t.Helper()
	requireRoot(t)
	mnt := t.TempDir()
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size="+strconv.FormatInt(size, 10)); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", mnt, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(mnt, 0); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	return mnt
}

// writeSparseImage writes a 1 GiB sparse file: holes, then at 100 MiB six
// MiB of random data, two MiB of written zeros (allocated, but zeros) and
// six MiB of random data, then holes to the end. It returns the apparent
// size and the bytes of random data.
func writeSparseImage(t testing.TB, path string) (size, random int64) {
	t.Helper()
	const mib = 1 << 20
	size, random = 1<<30, 12*mib
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	data := testtree.Bytes(7, 14*mib)
	clear(data[6*mib : 8*mib])
	if _, err := f.WriteAt(data, 100*mib); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	return size, random
}

// segmentBytes is the bytes of a file's data runs (SEEK_DATA/SEEK_HOLE).
func segmentBytes(t testing.TB, path string) int64 {
	t.Helper()
	var n int64
	for _, s := range dataSegments(t, path) {
		n += s.End - s.Start
	}
	return n
}

// The report keeps a sparse image's apparent size, data and holes apart:
// cloned, its data (not its holes) is cloned and all of it saved; copied,
// only the bytes really written count as copied (zero blocks become holes
// too), and the rest is holes.
func TestReportSparseImage(t *testing.T) {
	requireRoot(t)
	for _, tc := range []struct {
		name   string
		srcFS  string
		dstFS  string // "" is the source's filesystem; "tmpfs" a tmpfs
		clones bool
	}{
		{"CloneBtrfs", fsBtrfs, "", true},
		{"CloneXFS", fsXFS, "", true},
		{"CopyExt4", fsBtrfs, fsExt4, false},
		{"CopyTmpfs", fsBtrfs, "tmpfs", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := mountFS(t, tc.srcFS, "512M")
			dstDir := src
			switch tc.dstFS {
			case "tmpfs":
				dstDir = mountTmpfs(t, 64<<20)
			case "":
			default:
				dstDir = mountFS(t, tc.dstFS, "512M")
			}
			img := filepath.Join(src, "disk.img")
			size, random := writeSparseImage(t, img)
			data := segmentBytes(t, img)
			if data < random || data > random+4<<20 {
				t.Fatalf("the source maps %d bytes of data; want about %d", data, random+2<<20)
			}
			dst := filepath.Join(dstDir, "copy.img")
			r := cowcp(t, "--json", img, dst)
			if r.code != 0 {
				t.Fatalf("cowcp: exit %d, stderr %q", r.code, r.stderr)
			}
			rep := parseReport(t, r)
			if rep.Bytes != size {
				t.Errorf("bytes = %d; want the apparent size %d", rep.Bytes, size)
			}
			if tc.clones {
				if rep.ClonedBytes != data || rep.CopiedBytes != 0 {
					t.Errorf("cloned_bytes = %d, copied_bytes = %d; want the source's data %d cloned, none copied",
						rep.ClonedBytes, rep.CopiedBytes, data)
				}
				shared, _ := filefragShared(t, dst)
				if rep.SavedBytes != data || shared < data {
					t.Errorf("saved_bytes = %d, filefrag shows %d shared; want all %d bytes of data saved and shared",
						rep.SavedBytes, shared, data)
				}
			} else {
				syncFS(t, dst)
				written := segmentBytes(t, dst)
				if rep.CopiedBytes != random || written != random || rep.ClonedBytes != 0 {
					t.Errorf("copied_bytes = %d, cloned_bytes = %d, the copy maps %d bytes of data; want the %d bytes of random data written, the zeros left as holes",
						rep.CopiedBytes, rep.ClonedBytes, written, random)
				}
				if rep.SavedBytes != 0 {
					t.Errorf("saved_bytes = %d; a byte copy saves nothing", rep.SavedBytes)
				}
			}
			if want := size - rep.ClonedBytes - rep.CopiedBytes; rep.HoleBytes != want || want < size-data {
				t.Errorf("hole_bytes = %d; want %d", rep.HoleBytes, want)
			}
			if !bytes.Equal([]byte(fileSHA256(t, img)), []byte(fileSHA256(t, dst))) {
				t.Errorf("the copy's content differs from the image's")
			}
		})
	}
}

// -n and -u runs over a copy count what they leave alone, and why.
func TestReportSkipped(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	const n = 40
	for i := range n {
		p := filepath.Join(src, "d"+strconv.Itoa(i%4), "f"+strconv.Itoa(i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, testtree.Bytes(uint64(i), 100+i), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if r := cowcp(t, "-a", src, dst); r.code != 0 {
		t.Fatalf("first copy: exit %d, %s", r.code, r.stderr)
	}

	rep := parseReport(t, cowcp(t, "-a", "-n", "--json", src+"/.", dst))
	if rep.Skipped != n || rep.SkippedWhy.Exists != n || rep.Files != 0 {
		t.Errorf("-n over a copy: skipped %d (%+v), files %d; want %d skipped as existing, none copied",
			rep.Skipped, rep.SkippedWhy, rep.Files, n)
	}

	// One source file newer than its copy: -u copies it alone.
	newer := filepath.Join(src, "d1", "f1")
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(newer, future, future); err != nil {
		t.Fatal(err)
	}
	r := cowcp(t, "-a", "-u", "--json", src+"/.", dst)
	rep = parseReport(t, r)
	if rep.Skipped != n-1 || rep.SkippedWhy.NotNewer != n-1 || rep.SkippedWhy.Exists != 0 || rep.Files != 1 {
		t.Errorf("-u over a copy with one newer file: skipped %d (%+v), files %d; want %d skipped as not newer, 1 copied",
			rep.Skipped, rep.SkippedWhy, rep.Files, n-1)
	}
}

// procRead is how many bytes process pid has read (rchar in /proc/PID/io:
// read, pread and copy_file_range all count).
func procRead(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return -1
}

// A source that shrinks, grows or is rewritten while cowcp copies it is
// caught: a warning naming it, "changed" in the report, exit status 1, and
// a copy that holds what was really read, counted as what was written.
// cowcp is stopped (SIGSTOP) once it has read part of the file, the file is
// changed, and cowcp goes on.
func TestReportSourceChangedWhileCopied(t *testing.T) {
	requireRoot(t)
	const size = 512 << 20
	src := mountTmpfs(t, 3*size)
	dst := mountFS(t, fsExt4, "2G")
	chunk := testtree.Bytes(3, 1<<20)
	content := bytes.Repeat(chunk, size/len(chunk))

	for _, tc := range []struct {
		name   string
		change func(f *os.File) error // nil: left alone
	}{
		{"Unchanged", nil},
		{"Shrunk", func(f *os.File) error { return f.Truncate(size / 3) }},
		{"Grown", func(f *os.File) error { _, err := f.WriteAt(chunk, size); return err }},
		{"Rewritten", func(f *os.File) error { _, err := f.WriteAt([]byte("changed"), size-4096); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := filepath.Join(src, tc.name)
			if err := os.WriteFile(in, content, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(in) })
			out := filepath.Join(dst, tc.name)
			cmd := exec.Command(cowcpBin, "--json", in, out)
			var so, se bytes.Buffer
			cmd.Stdout, cmd.Stderr = &so, &se
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if tc.change != nil {
				changeMidCopy(t, cmd, in, size, tc.change)
			}
			err := cmd.Wait()
			code := exitStatus(t, err)
			r := result{code: code, stdout: so.String(), stderr: se.String()}
			rep := parseReport(t, r)
			fi, statErr := os.Stat(out)
			if statErr != nil {
				t.Fatalf("the copy is not there: %v (stderr %q)", statErr, r.stderr)
			}
			if rep.CopiedBytes != fi.Size() || rep.Bytes != fi.Size() {
				t.Errorf("bytes %d, copied_bytes %d; the copy has %d bytes", rep.Bytes, rep.CopiedBytes, fi.Size())
			}
			if tc.change == nil {
				if code != 0 || rep.Changed != 0 || r.stderr != "" {
					t.Errorf("unchanged source: exit %d, changed %d, stderr %q; want 0, 0, nothing", code, rep.Changed, r.stderr)
				}
				return
			}
			if code != 1 {
				t.Errorf("exit status %d; want 1 for a source that changed while read", code)
			}
			if rep.Changed != 1 || len(rep.ChangedFiles) != 1 || rep.ChangedFiles[0] != in {
				t.Errorf("changed %d, changed_files %q; want 1, [%q]", rep.Changed, rep.ChangedFiles, in)
			}
			if want := "cowcp: '" + in + "': file changed as we read it\n"; r.stderr != want {
				t.Errorf("stderr %q; want %q", r.stderr, want)
			}
			if len(scratchLeft(t, dst)) != 0 {
				t.Errorf("temporary files left: %q", scratchLeft(t, dst))
			}
		})
	}
}

// changeMidCopy waits until cmd has read some but not all of the size
// bytes of the file at path, stops it, changes the file, and lets it go
// on. It fails the test if the copy could not be caught in the middle.
func changeMidCopy(t *testing.T, cmd *exec.Cmd, path string, size int64, change func(*os.File) error) {
	t.Helper()
	pid := cmd.Process.Pid
	deadline := time.Now().Add(20 * time.Second)
	for {
		n := procRead(pid)
		if n >= 8<<20 {
			if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
				t.Fatalf("SIGSTOP: %v", err)
			}
			break
		}
		if n < 0 || time.Now().After(deadline) {
			t.Fatalf("cowcp did not start reading (rchar %d)", n)
		}
		time.Sleep(50 * time.Microsecond)
	}
	defer func() {
		if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Errorf("SIGCONT: %v", err)
		}
	}()
	if n := procRead(pid); n >= size {
		t.Fatalf("cowcp had read %d bytes of %d when stopped: not in the middle", n, size)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := change(f); err != nil {
		t.Fatalf("changing %s: %v", path, err)
	}
}
