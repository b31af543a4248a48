package tests

// Measurement helpers: what a copy really did to the disk, found with tools
// and syscalls independent of cowcp (filefrag's FIEMAP flags, btrfs's own
// accounting, statfs, SEEK_DATA/SEEK_HOLE). Tests must prove sharing with
// these, never by trusting cowcp's exit code or report.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// syncFS flushes the filesystem holding path (syncfs(2)), so that delayed
// allocation is resolved: btrfs reports no physical extents, and no shared
// flags, for data still in the page cache.
func syncFS(t testing.TB, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("syncfs: %v", err)
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		t.Fatalf("syncfs %s: %v", path, err)
	}
}

// usedBytes syncs the filesystem mounted at mnt and returns its used space
// as statfs(2) reports it: (f_blocks - f_bfree) * f_bsize. On btrfs this
// counts allocated data and metadata (DUP metadata twice), not chunk
// reservations, so growth is a fair measure of what a copy cost.
func usedBytes(t testing.TB, mnt string) int64 {
	t.Helper()
	syncFS(t, mnt)
	var st unix.Statfs_t
	if err := unix.Statfs(mnt, &st); err != nil {
		t.Fatalf("statfs %s: %v", mnt, err)
	}
	return int64(st.Blocks-st.Bfree) * st.Bsize
}

// fragInfo is what `filefrag -v` says about one file.
type fragInfo struct {
	Size        int64 // st_size
	Extents     int   // extent lines listed
	TotalBytes  int64 // bytes covered by all extents
	SharedBytes int64 // bytes covered by extents flagged "shared"
	SharedData  int64 // SharedBytes, but only what lies below Size
	InlineBytes int64 // bytes in btrfs inline extents (never shareable)
	Flags       []string
}

// filefragShared syncs path's filesystem and returns how many bytes of
// path's extents filefrag flags "shared" (FIEMAP_EXTENT_SHARED) and how many
// bytes its extents cover in all. An empty or all-hole file gives 0, 0.
func filefragShared(t testing.TB, path string) (shared, total int64) {
	t.Helper()
	syncFS(t, path)
	fi := filefragMany(t, []string{path})[path]
	return fi.SharedBytes, fi.TotalBytes
}

var (
	ffHeader = regexp.MustCompile(`^File size of (.+) is (\d+) \((\d+) blocks? of (\d+) bytes\)$`)
	ffExtent = regexp.MustCompile(`^\s*\d+:\s*(\d+)\.\.\s*\d+:\s*\d+\.\.\s*\d+:\s*(\d+):(.*)$`)
	ffFooter = regexp.MustCompile(`^(.+): \d+ extents? found$`)
)

// filefragMany runs `filefrag -v` over paths in batches and returns what it
// reports per path (keyed by the path as given). The caller syncs first.
// Lengths are in blocks of the size filefrag names, except inline extents,
// which filefrag prints in bytes.
func filefragMany(t testing.TB, paths []string) map[string]fragInfo {
	t.Helper()
	out := make(map[string]fragInfo, len(paths))
	for len(paths) > 0 {
		n := min(len(paths), 256)
		batch := paths[:n]
		paths = paths[n:]
		cmd := exec.Command("filefrag", append([]string{"-v", "--"}, batch...)...)
		var so, se bytes.Buffer
		cmd.Stdout, cmd.Stderr = &so, &se
		if err := cmd.Run(); err != nil || se.Len() > 0 {
			t.Fatalf("filefrag -v (%d files from %s): %v\n%s", len(batch), batch[0], err, se.String())
		}
		var (
			cur   string
			fi    fragInfo
			block int64
		)
		sc := bufio.NewScanner(&so)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "File size of ") {
				m := ffHeader.FindStringSubmatch(line)
				if m == nil {
					t.Fatalf("filefrag -v: unexpected line %q", line)
				}
				cur = m[1]
				fi = fragInfo{}
				fi.Size, _ = strconv.ParseInt(m[2], 10, 64)
				block, _ = strconv.ParseInt(m[4], 10, 64)
				continue
			}
			if m := ffExtent.FindStringSubmatch(line); m != nil && cur != "" {
				start, _ := strconv.ParseInt(m[1], 10, 64)
				length, _ := strconv.ParseInt(m[2], 10, 64)
				var flags string
				for _, f := range strings.Fields(strings.ReplaceAll(m[3], ":", " ")) {
					if strings.IndexFunc(f, func(r rune) bool { return r >= 'a' && r <= 'z' }) >= 0 {
						flags = f
					}
				}
				fl := strings.Split(flags, ",")
				unit := block
				if slices.Contains(fl, "inline") {
					unit = 1
					fi.InlineBytes += length
				}
				start, n := start*unit, length*unit
				if slices.Contains(fl, "shared") {
					fi.SharedBytes += n
					fi.SharedData += max(0, min(start+n, fi.Size)-start)
				}
				fi.Extents++
				fi.TotalBytes += n
				fi.Flags = append(fi.Flags, flags)
				continue
			}
			if !strings.HasSuffix(line, " found") {
				continue
			}
			if m := ffFooter.FindStringSubmatch(line); m != nil && m[1] == cur {
				out[cur] = fi
				cur = ""
			}
		}
		for _, p := range batch {
			if _, ok := out[p]; !ok {
				t.Fatalf("filefrag -v said nothing parseable about %s:\n%s", p, so.String())
			}
		}
	}
	return out
}

// btrfsUsage is `btrfs filesystem du -s --raw` for one path: bytes of data
// extents referenced (Total), referenced only there (Exclusive), and shared
// with anything outside it or within it (SetShared).
type btrfsUsage struct{ Total, Exclusive, SetShared int64 }

// btrfsDiskUsage syncs and runs `btrfs filesystem du -s --raw path`.
func btrfsDiskUsage(t testing.TB, path string) btrfsUsage {
	t.Helper()
	syncFS(t, path)
	out, err := exec.Command("btrfs", "filesystem", "du", "-s", "--raw", path).CombinedOutput()
	if err != nil {
		t.Fatalf("btrfs filesystem du %s: %v\n%s", path, err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(lines) != 2 || len(f) < 4 {
		t.Fatalf("btrfs filesystem du %s: unexpected output:\n%s", path, out)
	}
	var u btrfsUsage
	for i, p := range []*int64{&u.Total, &u.Exclusive, &u.SetShared} {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			t.Fatalf("btrfs filesystem du %s: field %d %q: %v\n%s", path, i, f[i], err, out)
		}
		*p = v
	}
	return u
}

// dataSegment is one run of data between holes: [Start, End).
type dataSegment struct{ Start, End int64 }

// dataSegments maps a file's data and holes with lseek(SEEK_DATA/SEEK_HOLE),
// as the filesystem reports them.
func dataSegments(t testing.TB, path string) []dataSegment {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	var segs []dataSegment
	for off := int64(0); ; {
		start, err := unix.Seek(fd, off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			return segs
		}
		if err != nil {
			t.Fatalf("SEEK_DATA %s at %d: %v", path, off, err)
		}
		end, err := unix.Seek(fd, start, unix.SEEK_HOLE)
		if err != nil {
			t.Fatalf("SEEK_HOLE %s at %d: %v", path, start, err)
		}
		segs = append(segs, dataSegment{start, end})
		off = end
	}
}

// allocatedBytes returns st_blocks * 512 for path (not following symlinks).
func allocatedBytes(t testing.TB, path string) int64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Fatalf("lstat %s: %v", path, err)
	}
	return st.Blocks * 512
}

// dropFileCache syncs path's filesystem and evicts path's clean pages from
// the page cache, so the next read comes from the disk, not from memory.
func dropFileCache(t testing.TB, path string) {
	t.Helper()
	syncFS(t, path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatalf("fadvise DONTNEED %s: %v", path, err)
	}
}

// fileSHA256 returns the hex SHA-256 of path's content.
func fileSHA256(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
