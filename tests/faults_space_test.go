package tests

// End-to-end tests of running out of room while cloning or copying: a
// btrfs whose metadata fills while a tree is cloned within it (its data
// chunks still have room), a nearly full XFS where FICLONE and inode
// creation fail with ENOSPC, and a btrfs subvolume with a qgroup limit
// (EDQUOT) under a byte copy and under a clone. Whatever fails is named
// with its path and errno, no file under a final name is short, no
// temporary is left, the source is unchanged, and the rest is copied.
//
// Each case is also run with GNU cp 9.1 on a destination in the same
// state, and what cp did is logged next to it ("GNU cp:" lines), so the
// comparison in the README's table can be read off a -v run. cp's damage
// is asserted only where it is deterministic.

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cowcp/cowcp/internal/testtree"
	"github.com/cowcp/cowcp/tests/fstest"
	"golang.org/x/sys/unix"
)

// btrfsCmd runs the btrfs program and fails the test if it fails.
func btrfsCmd(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("btrfs", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("btrfs %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// btrfsSpace is one line of `btrfs filesystem df -b`: the bytes of the
// chunks of one kind (Data, Metadata, System, GlobalReserve) and the bytes
// used in them.
type btrfsSpace struct{ total, used int64 }

var btrfsDFLine = regexp.MustCompile(`^(\w+), [^:]+: total=(\d+), used=(\d+)$`)

// btrfsDF syncs the btrfs at mnt and returns its space by kind.
func btrfsDF(t testing.TB, mnt string) map[string]btrfsSpace {
	t.Helper()
	syncFS(t, mnt)
	out := btrfsCmd(t, "filesystem", "df", "-b", mnt)
	m := map[string]btrfsSpace{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		g := btrfsDFLine.FindStringSubmatch(line)
		if g == nil {
			t.Fatalf("btrfs filesystem df: unexpected line %q", line)
		}
		total, _ := strconv.ParseInt(g[2], 10, 64)
		used, _ := strconv.ParseInt(g[3], 10, 64)
		m[g[1]] = btrfsSpace{total, used}
	}
	if _, ok := m["Metadata"]; !ok {
		t.Fatalf("btrfs filesystem df: no Metadata line:\n%s", out)
	}
	return m
}

// inlineTree is a tree of a few large files (cloned as shared extents,
// which cost metadata only), then files small enough for btrfs to keep
// their data inline in its metadata (at most 2000 bytes, under the default
// max_inline of 2048) spread over 16 directories, and a link. The large
// files come first so that they are copied before the metadata runs out:
// btrfs lists a directory in the order its entries were made.
func inlineTree(files int, seed uint64) []testtree.Node {
	nodes := []testtree.Node{testtree.D("big", 0o755)}
	for i := range 4 {
		size := int64(1<<20 + i*4099 + 1)
		nodes = append(nodes, testtree.S(fmt.Sprintf("big/b%d", i), size, testtree.Random(0, seed<<20+uint64(i), size)))
	}
	nodes = append(nodes, smallFiles(files, 2000, seed)...)
	return append(nodes, testtree.L("link", "big/b0"))
}

// smallFiles are files of 1 to most bytes spread over 16 directories
// d00…d15, made with them.
func smallFiles(files, most int, seed uint64) []testtree.Node {
	var nodes []testtree.Node
	for d := range 16 {
		nodes = append(nodes, testtree.D(fmt.Sprintf("d%02d", d), 0o755))
	}
	for i := range files {
		// Data, not Random: a Random segment costs a 1 MiB buffer per file.
		size := 1 + i*997%most
		nodes = append(nodes, testtree.S(fmt.Sprintf("d%02d/s%05d", i%16, i), int64(size), testtree.Data(0, testtree.Bytes(seed+uint64(i), size))))
	}
	return nodes
}

// noBarrier remounts the filesystem at mnt with nobarrier. A filesystem
// out of space commits a transaction at every reservation that fails, and
// the loop device passes each commit's cache flush on to the image as an
// fsync: thousands of ENOSPCs would take minutes, where without flushes
// they take seconds. What a copier sees is the same.
func noBarrier(t testing.TB, mnt string) {
	t.Helper()
	if err := unix.Mount("", mnt, "", unix.MS_REMOUNT, "nobarrier"); err != nil {
		t.Fatalf("remounting %s with nobarrier: %v", mnt, err)
	}
}

// fillBtrfsData gives all of a btrfs's unallocated space to data chunks,
// by writing 1 MiB files until ENOSPC, and then deletes every 16th file:
// the data chunks keep that room (each still holds other files, so btrfs
// does not give it back as unallocated), and metadata can no longer grow.
func fillBtrfsData(t testing.TB, mnt string) {
	t.Helper()
	dir := filepath.Join(mnt, "fill-data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	buf := bytes.Repeat([]byte{0xa5}, 1<<20)
	var files []string
	for i := 0; ; i++ {
		p := filepath.Join(dir, fmt.Sprintf("%05d", i))
		err := os.WriteFile(p, buf, 0o644)
		if errors.Is(err, unix.ENOSPC) {
			os.Remove(p)
			break
		}
		if err != nil {
			t.Fatalf("filling %s: %v", mnt, err)
		}
		files = append(files, p)
	}
	syncFS(t, mnt)
	for i := 8; i < len(files); i += 16 {
		if err := os.Remove(files[i]); err != nil {
			t.Fatal(err)
		}
	}
}

// fillBtrfsMetadata fills the metadata of a btrfs whose metadata chunks
// cannot grow (fillBtrfsData) with extended attributes of empty files,
// which cost no data, until ENOSPC; then it deletes files until room
// bytes of metadata are free again.
func fillBtrfsMetadata(t testing.TB, mnt string, room int64) {
	t.Helper()
	dir := filepath.Join(mnt, "fill-meta")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	val := bytes.Repeat([]byte{'m'}, 3000)
	var files []string
	for full := false; !full; {
		p := filepath.Join(dir, fmt.Sprintf("%05d", len(files)))
		f, err := os.Create(p)
		if errors.Is(err, unix.ENOSPC) {
			break
		}
		if err != nil {
			t.Fatalf("filling the metadata of %s: %v", mnt, err)
		}
		f.Close()
		files = append(files, p)
		for i := range 32 {
			err := unix.Setxattr(p, fmt.Sprintf("user.fill%02d", i), val, 0)
			if errors.Is(err, unix.ENOSPC) {
				full = true
				break
			}
			if err != nil {
				t.Fatalf("filling the metadata of %s: setxattr %s: %v", mnt, p, err)
			}
		}
	}
	target := btrfsDF(t, mnt)["Metadata"].used - room
	for len(files) > 0 && btrfsDF(t, mnt)["Metadata"].used > target {
		if err := os.Remove(files[len(files)-1]); err != nil {
			t.Fatal(err)
		}
		files = files[:len(files)-1]
	}
}

// metadataFullBtrfs makes a btrfs holding the tree src (inlineTree), all
// its space given to chunks, and its metadata filled so that only about
// half of what cloning src needs is free: a clone of src within it runs
// out of metadata with data room to spare.
func metadataFullBtrfs(t testing.TB) (mnt, src string, srcFP testtree.Manifest) {
	t.Helper()
	mnt = mountFS(t, fsBtrfs, "256M")
	noBarrier(t, mnt)
	src = filepath.Join(mnt, "src")
	before := btrfsDF(t, mnt)["Metadata"].used
	testtree.Build(t, src, inlineTree(3000, 7))
	srcMeta := btrfsDF(t, mnt)["Metadata"].used - before
	srcFP = testtree.Fingerprint(t, src)
	fillBtrfsData(t, mnt)
	fillBtrfsMetadata(t, mnt, srcMeta/2)
	df := btrfsDF(t, mnt)
	t.Logf("the source took %d KiB of metadata; now data %d/%d KiB, metadata %d/%d KiB (global reserve %d KiB)",
		srcMeta>>10, df["Data"].used>>10, df["Data"].total>>10, df["Metadata"].used>>10, df["Metadata"].total>>10,
		df["GlobalReserve"].total>>10)
	return mnt, src, srcFP
}

// unsharedFiles returns the regular files under dst larger than minSize
// whose extents filefrag does not flag all shared: files that a clone
// should have shared, but that hold a copy of their own.
func unsharedFiles(t testing.TB, dst string, minSize int64) []string {
	t.Helper()
	syncFS(t, dst)
	m, err := testtree.Walk(dst, testtree.WalkOptions{})
	if err != nil {
		t.Fatalf("walking %s: %v", dst, err)
	}
	var paths []string
	for _, rel := range slices.Sorted(maps.Keys(m)) {
		if size, _ := strconv.ParseInt(m[rel]["size"], 10, 64); m[rel]["type"] == "file" && size > minSize {
			paths = append(paths, filepath.Join(dst, rel))
		}
	}
	if len(paths) == 0 {
		t.Errorf("no file over %d bytes under %s to measure sharing with", minSize, dst)
	}
	var unshared []string
	for p, fi := range filefragMany(t, paths) {
		if fi.TotalBytes == 0 || fi.SharedBytes != fi.TotalBytes {
			unshared = append(unshared, fmt.Sprintf("%s (%d of %d bytes shared)", p, fi.SharedBytes, fi.TotalBytes))
		}
	}
	slices.Sort(unshared)
	return unshared
}

// cpOutcome describes what GNU cp left at dst after r, a copy of the tree
// fingerprinted as srcFP: its exit status, its messages counted by kind,
// the files under a final name that are not the source's (short or
// otherwise damaged), and what it left that the source does not have.
type cpOutcome struct {
	code     int
	messages map[string]int // "cannot create regular file: Disk quota exceeded" → count
	damaged  []string       // "big/b3: 2564096 of 3158026 bytes"
	extra    []string       // entries the source does not have
	missing  int            // regular files of the source not copied
}

// cp names itself as it was run: "/usr/bin/cp: ...".
var cpMessage = regexp.MustCompile(`^(?:\S*/)?cp: (.*?) ['‘].*['’]: (.*)$`)

// gnuCpOutcome runs GNU cp with args and describes the copy it made at
// dst of the tree fingerprinted as srcFP.
func gnuCpOutcome(t testing.TB, srcFP testtree.Manifest, dst string, args ...string) cpOutcome {
	t.Helper()
	r := run(t, gnuCp(t), args...)
	o := cpOutcome{code: r.code, messages: map[string]int{}}
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if g := cpMessage.FindStringSubmatch(line); g != nil {
			o.messages[g[1]+": "+g[2]]++
		} else if line != "" {
			o.messages[line]++
		}
	}
	syncFS(t, filepath.Dir(dst))
	m, err := testtree.Walk(dst, testtree.WalkOptions{})
	if err != nil {
		t.Fatalf("walking %s: %v", dst, err)
	}
	for _, rel := range slices.Sorted(maps.Keys(m)) {
		got, want := m[rel], srcFP[rel]
		switch {
		case want == nil:
			o.extra = append(o.extra, rel)
		case got["type"] == "file" && (got["size"] != want["size"] || got["content"] != want["content"]):
			o.damaged = append(o.damaged, fmt.Sprintf("%s: %s of %s bytes", rel, got["size"], want["size"]))
		}
	}
	for rel, e := range srcFP {
		if e["type"] == "file" && m[rel]["type"] != "file" {
			o.missing++
		}
	}
	t.Logf("GNU %s: %s", strings.Join(append([]string{"cp"}, args[:len(args)-2]...), " "), o)
	return o
}

func (o cpOutcome) String() string {
	var msgs []string
	for _, k := range slices.Sorted(maps.Keys(o.messages)) {
		msgs = append(msgs, fmt.Sprintf("%d × %q", o.messages[k], k))
	}
	damaged := o.damaged
	if len(damaged) > 5 {
		damaged = append(damaged[:5:5], fmt.Sprintf("… %d in all", len(o.damaged)))
	}
	return fmt.Sprintf("exit %d; messages: %s; %d damaged files under final names %q; %d files not copied; %d entries not in the source %q",
		o.code, strings.Join(msgs, ", "), len(o.damaged), damaged, o.missing, len(o.extra), o.extra)
}

// cowcpMessages counts cowcp's error messages by kind, as cpOutcome does
// cp's, for the log.
func cowcpMessages(stderr string) string {
	re := regexp.MustCompile(`^cowcp: (.*?) '.*': (.*)$`)
	n := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if g := re.FindStringSubmatch(line); g != nil {
			n[g[1]+": "+g[2]]++
		} else if line != "" {
			n[line]++
		}
	}
	var msgs []string
	for _, k := range slices.Sorted(maps.Keys(n)) {
		msgs = append(msgs, fmt.Sprintf("%d × %q", n[k], k))
	}
	return strings.Join(msgs, ", ")
}

// TestFaultFullMetadataClone clones a tree of small files within a btrfs
// whose metadata fills up while its data chunks still have room: creating
// inodes, cloning extents and making directories fail with ENOSPC part
// of the way through. The failures name their paths, every file that
// made it is complete (and shares its extents), none is left short, no
// temporary stays behind, and the source is unchanged.
func TestFaultFullMetadataClone(t *testing.T) {
	requireRoot(t)
	fstest.RequireTools(t, "btrfs", "filefrag")
	t.Run("cowcp", func(t *testing.T) {
		t.Parallel()
		mnt, src, srcFP := metadataFullBtrfs(t)
		dst := filepath.Join(mnt, "dst")
		r := cowcp(t, "-a", "--json", src, dst)
		t.Logf("cowcp: exit %d; messages: %s", r.code, cowcpMessages(r.stderr))
		checkFullDisk(t, r, srcFP, src, dst)
		sourceUnchanged(t, src, srcFP)
		if df := btrfsDF(t, mnt)["Data"]; df.total-df.used < 1<<20 {
			t.Errorf("data: %d of %d bytes used: the data ran out too, so this test does not show metadata running out alone", df.used, df.total)
		}
		if u := unsharedFiles(t, dst, 4096); len(u) > 0 {
			t.Errorf("cloned files whose extents are not all shared: %q", u)
		}
	})
	t.Run("gnuCp", func(t *testing.T) {
		t.Parallel()
		mnt, src, srcFP := metadataFullBtrfs(t)
		dst := filepath.Join(mnt, "dst")
		o := gnuCpOutcome(t, srcFP, dst, "-a", src, dst)
		if o.code != 1 {
			t.Errorf("GNU cp: exit %d on a full btrfs, want 1", o.code)
		}
	})
}

// smallTree is a tree of small files (at most 8000 bytes) spread over 16
// directories, and a link: cloning it needs new inodes and directory
// blocks, and no data blocks.
func smallTree(files int, seed uint64) []testtree.Node {
	return append(smallFiles(files, 8000, seed), testtree.L("link", "d00/s00000"))
}

// writeFragmented writes a file of extents runs of data at path, each run
// 4 KiB followed by a 4 KiB hole: a clone of it must add as many records
// to the copy's extent map. The file is given its size first: XFS zeroes
// the blocks it preallocated past the end of a file that a write extends,
// which would fill the holes.
func writeFragmented(t testing.TB, path string, extents int, seed uint64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(int64(extents)*8192 + 4099); err != nil {
		t.Fatal(err)
	}
	data := testtree.Bytes(seed, extents*4096)
	for e := range extents {
		if _, err := f.WriteAt(data[e*4096:(e+1)*4096], int64(e)*8192); err != nil {
			t.Fatalf("writing %s: %v", path, err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	// After a sync: SEEK_DATA over delayed allocations reads the page cache.
	syncFS(t, path)
	if segs := dataSegments(t, path); len(segs) != extents {
		t.Fatalf("%s has %d runs of data, not %d: the test needs a file of many extents", path, len(segs), extents)
	}
}

// fragExtents is the number of extents of the fragmented file cloned onto
// a nearly full XFS: its clone needs about 32 blocks for its extent map
// (some 250 records to a 4 KiB block), more than the XFS has free when
// filled to fragRoom, where creating its inode (about 14 blocks reserved)
// still succeeds.
const (
	fragExtents = 8000
	fragRoom    = 64 << 10
)

// fullXFS makes an XFS (with reflinks) holding the tree src (smallTree)
// and the fragmented file frag (writeFragmented).
func fullXFS(t testing.TB) (mnt, src, frag string, srcFP testtree.Manifest) {
	t.Helper()
	mnt = mountFS(t, fsXFS, "300M")
	src = filepath.Join(mnt, "src")
	testtree.Build(t, src, smallTree(500, 11))
	frag = filepath.Join(mnt, "frag")
	writeFragmented(t, frag, fragExtents, 12)
	syncFS(t, mnt)
	srcFP = testtree.Fingerprint(t, src)
	return mnt, src, frag, srcFP
}

// TestFaultFullXFSClone clones onto a nearly full XFS: a tree of small
// files, until creating inodes fails with ENOSPC, and a file of many
// extents, whose FICLONE fails with ENOSPC part of the way through when
// its extent map needs more blocks than are free. The failures name their
// paths, every file that made it is complete and shares its blocks, none
// is left short (the half-made clone is discarded), no temporary stays
// behind, and the sources are unchanged.
func TestFaultFullXFSClone(t *testing.T) {
	requireRoot(t)
	fstest.RequireTools(t, "filefrag")
	t.Run("cowcp", func(t *testing.T) {
		t.Parallel()
		mnt, src, frag, srcFP := fullXFS(t)
		t.Run("tree", func(t *testing.T) {
			t.Logf("%d KiB free after filling", fillFS(t, mnt, 256<<10)>>10)
			dst := filepath.Join(mnt, "dst")
			r := cowcp(t, "-a", "--json", src, dst)
			t.Logf("cowcp: exit %d; messages: %s", r.code, cowcpMessages(r.stderr))
			checkFullDisk(t, r, srcFP, src, dst)
			sourceUnchanged(t, src, srcFP)
			if u := unsharedFiles(t, dst, 0); len(u) > 0 {
				t.Errorf("cloned files whose extents are not all shared: %q", u)
			}
		})
		t.Run("manyExtents", func(t *testing.T) {
			fragFP := testtree.Fingerprint(t, frag)
			t.Logf("%d KiB free after filling", fillFS(t, mnt, fragRoom)>>10)
			dst := filepath.Join(mnt, "frag-copy")
			r := cowcp(t, frag, dst)
			t.Logf("cowcp: exit %d; stderr: %s", r.code, r.stderr)
			want := "cowcp: error writing '" + dst + "': No space left on device\n"
			if r.code != 1 || r.stderr != want {
				t.Errorf("exit %d, stderr %q; want 1 and %q (FICLONE failing, not creating the file)", r.code, r.stderr, want)
			}
			if fi, err := os.Lstat(dst); err == nil {
				t.Errorf("%s exists after its clone failed: %d bytes", dst, fi.Size())
			}
			if left := scratchLeft(t, mnt); len(left) > 0 {
				t.Errorf("temporary files left: %q", left)
			}
			sourceUnchanged(t, frag, fragFP)
		})
	})
	t.Run("gnuCp", func(t *testing.T) {
		t.Parallel()
		mnt, src, frag, srcFP := fullXFS(t)
		fillFS(t, mnt, 256<<10)
		dst := filepath.Join(mnt, "dst")
		if o := gnuCpOutcome(t, srcFP, dst, "-a", src, dst); o.code != 1 {
			t.Errorf("GNU cp: exit %d on a full XFS, want 1", o.code)
		}
		fillFS(t, mnt, fragRoom)
		fragFP := testtree.Fingerprint(t, frag)
		gnuCpOutcome(t, testtree.Manifest{".": fragFP["."]}, filepath.Join(mnt, "frag-copy"), frag, filepath.Join(mnt, "frag-copy"))
	})
}

// quotaBtrfs makes a btrfs with quotas on (btrfs quota enable): every
// subvolume made on it then has a qgroup of its own.
func quotaBtrfs(t testing.TB) string {
	t.Helper()
	mnt := mountFS(t, fsBtrfs, "256M")
	btrfsCmd(t, "quota", "enable", mnt)
	return mnt
}

// limitedSubvolume makes a subvolume at path whose qgroup may reference
// at most limit bytes (btrfs qgroup limit), and returns the qgroup's id.
func limitedSubvolume(t testing.TB, path string, limit int64) string {
	t.Helper()
	btrfsCmd(t, "subvolume", "create", path)
	btrfsCmd(t, "qgroup", "limit", strconv.FormatInt(limit, 10), path)
	return "0/" + strings.TrimSpace(btrfsCmd(t, "inspect-internal", "rootid", path))
}

// qgroupUsage syncs the btrfs at mnt and returns the bytes that qgroup id
// references and holds exclusively, as btrfs accounts them.
func qgroupUsage(t testing.TB, mnt, id string) (rfer, excl int64) {
	t.Helper()
	syncFS(t, mnt)
	out := btrfsCmd(t, "qgroup", "show", "--raw", mnt)
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == id {
			rfer, err1 := strconv.ParseInt(f[1], 10, 64)
			excl, err2 := strconv.ParseInt(f[2], 10, 64)
			if err1 != nil || err2 != nil {
				break
			}
			return rfer, excl
		}
	}
	t.Fatalf("btrfs qgroup show: no qgroup %s:\n%s", id, out)
	return 0, 0
}

// quotaLimit is the qgroup limit of the subvolumes copied into: smaller
// than the trees copied (about 22 MiB).
const quotaLimit = 12 << 20

// quotaTree is the tree copied into a limited subvolume.
var quotaTree = faultTreeSize{big: 6, bigSize: 3 << 20, small: 200}

// TestFaultQuotaByteCopy copies a tree from an ext4 into a btrfs
// subvolume whose qgroup limit is smaller than the tree: writes fail with
// EDQUOT. The failures name their files and say "Disk quota exceeded",
// no file is left short under its name, the files that fit are whole, and
// the limit holds. GNU cp leaves the file it was writing truncated.
func TestFaultQuotaByteCopy(t *testing.T) {
	requireRoot(t)
	fstest.RequireTools(t, "btrfs")
	from := mountFS(t, fsExt4, "64M")
	src := filepath.Join(from, "src")
	makeFaultTree(t, src, quotaTree, 21)
	srcFP := testtree.Fingerprint(t, src)
	if n := fileBytes(srcFP); n <= quotaLimit {
		t.Fatalf("the tree has %d bytes of files, within the %d-byte limit: it would fit", n, quotaLimit)
	}
	mnt := quotaBtrfs(t)
	t.Run("cowcp", func(t *testing.T) {
		lim := filepath.Join(mnt, "cowcp")
		id := limitedSubvolume(t, lim, quotaLimit)
		dst := filepath.Join(lim, "dst")
		r := cowcp(t, "-a", "--json", src, dst)
		t.Logf("cowcp: exit %d; messages: %s", r.code, cowcpMessages(r.stderr))
		checkOutOfRoom(t, r, srcFP, src, dst, "Disk quota exceeded")
		if rep := parseReport(t, r); rep.Methods.ReadWrite == 0 {
			t.Errorf("report: no file copied by read/write (methods %+v): not the byte copy this test is about", rep.Methods)
		}
		sourceUnchanged(t, src, srcFP)
		rfer, _ := qgroupUsage(t, mnt, id)
		t.Logf("qgroup %s references %d of its %d bytes", id, rfer, quotaLimit)
		if rfer > quotaLimit {
			t.Errorf("qgroup %s references %d bytes, over its limit of %d", id, rfer, quotaLimit)
		}
	})
	t.Run("gnuCp", func(t *testing.T) {
		lim := filepath.Join(mnt, "cp")
		limitedSubvolume(t, lim, quotaLimit)
		dst := filepath.Join(lim, "dst")
		o := gnuCpOutcome(t, srcFP, dst, "-a", src, dst)
		// cp writes one file at a time into its final name: the write
		// that meets the limit leaves that file short.
		if o.code != 1 || len(o.damaged) == 0 {
			t.Errorf("GNU cp: exit %d, %d damaged files; want 1 and the file it was writing left short", o.code, len(o.damaged))
		}
	})
}

// TestFaultQuotaClone clones a tree, and one file bigger than the limit,
// from one subvolume of a btrfs into another whose qgroup limit is smaller
// than either. The kernel does not reserve quota for a clone: the shared
// extents are charged to the qgroup's referenced bytes only when the
// transaction commits, so clones go past the limit, and what fails is
// what reserves quota after that commit: creating inodes, FICLONE's own
// metadata (an inline extent is copied into it), directory times. Whatever the
// kernel does, each file is either absent and named with "Disk quota
// exceeded", or complete and sharing its extents.
func TestFaultQuotaClone(t *testing.T) {
	requireRoot(t)
	fstest.RequireTools(t, "btrfs", "filefrag")
	mnt := quotaBtrfs(t)
	other := filepath.Join(mnt, "other")
	btrfsCmd(t, "subvolume", "create", other)
	src := filepath.Join(other, "src")
	makeFaultTree(t, src, quotaTree, 22)
	srcFP := testtree.Fingerprint(t, src)
	one := filepath.Join(other, "one")
	testtree.WriteRandom(t, one, 2*quotaLimit+12345, 23)
	syncFS(t, mnt)
	oneFP := testtree.Fingerprint(t, one)

	// btrfs keeps files under 2 KiB inline in its metadata: never shared.
	checkShared := func(t *testing.T, dst string) {
		t.Helper()
		if _, err := os.Lstat(dst); err == nil {
			if u := unsharedFiles(t, dst, 4096); len(u) > 0 {
				t.Errorf("cloned files whose extents are not all shared: %q", u)
			}
		}
		if left := scratchLeft(t, filepath.Dir(dst)); len(left) > 0 {
			t.Errorf("temporary files left: %q", left)
		}
	}
	t.Run("cowcp", func(t *testing.T) {
		lim := filepath.Join(mnt, "cowcp")
		id := limitedSubvolume(t, lim, quotaLimit)
		dst := filepath.Join(lim, "dst")
		r := cowcp(t, "-a", "--json", src, dst)
		t.Logf("cowcp: exit %d; messages: %s", r.code, cowcpMessages(r.stderr))
		switch r.code {
		case 0:
			if missing := checkWholeFiles(t, srcFP, dst); len(missing) > 0 {
				t.Errorf("exit 0, but %d files not copied: %q", len(missing), missing)
			}
		case 1:
			for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
				if !strings.HasPrefix(line, "cowcp: ") || !strings.HasSuffix(line, ": Disk quota exceeded") || !strings.Contains(line, "'"+dst) {
					t.Errorf("stderr line %q: want a cp-style message naming a path under '%s' and saying Disk quota exceeded", line, dst)
				}
			}
			checkNamedOrWhole(t, r, srcFP, src, dst)
		default:
			t.Errorf("exit %d, want 0 or 1\nstderr: %.3000s", r.code, r.stderr)
		}
		checkShared(t, dst)
		sourceUnchanged(t, src, srcFP)
		rfer, excl := qgroupUsage(t, mnt, id)
		t.Logf("after the clone qgroup %s references %d bytes (%d exclusive) of its %d-byte limit", id, rfer, excl, quotaLimit)
	})
	t.Run("cowcpOneFileOverLimit", func(t *testing.T) {
		lim := filepath.Join(mnt, "cowcp-one")
		id := limitedSubvolume(t, lim, quotaLimit)
		dst := filepath.Join(lim, "one")
		r := cowcp(t, one, dst)
		switch r.code {
		case 0:
			if missing := checkWholeFiles(t, oneFP, dst); len(missing) > 0 {
				t.Errorf("exit 0, but %s is missing", dst)
			}
		case 1:
			if fi, err := os.Lstat(dst); err == nil {
				t.Errorf("%s exists after its clone failed: %d bytes", dst, fi.Size())
			}
			if want := "cowcp: error writing '" + dst + "': Disk quota exceeded\n"; r.stderr != want {
				t.Errorf("stderr %q, want %q", r.stderr, want)
			}
		default:
			t.Errorf("exit %d, want 0 or 1\nstderr: %s", r.code, r.stderr)
		}
		checkShared(t, dst)
		sourceUnchanged(t, one, oneFP)
		rfer, excl := qgroupUsage(t, mnt, id)
		t.Logf("exit %d; qgroup %s references %d bytes (%d exclusive) of its %d-byte limit", r.code, id, rfer, excl, quotaLimit)
		if size, _ := strconv.ParseInt(oneFP["."]["size"], 10, 64); r.code == 0 && rfer < size {
			t.Errorf("the clone of %d bytes succeeded, but qgroup %s references only %d bytes: the accounting does not show it", size, id, rfer)
		}
	})
	for _, reflink := range []string{"--reflink=always", "--reflink=auto"} {
		t.Run("gnuCp"+map[string]string{"--reflink=always": "ReflinkAlways", "--reflink=auto": "ReflinkAuto"}[reflink], func(t *testing.T) {
			lim := filepath.Join(mnt, "cp-"+strings.TrimPrefix(reflink, "--reflink="))
			id := limitedSubvolume(t, lim, quotaLimit)
			dst := filepath.Join(lim, "dst")
			gnuCpOutcome(t, srcFP, dst, "-a", reflink, src, dst)
			rfer, excl := qgroupUsage(t, mnt, id)
			t.Logf("after cp qgroup %s references %d bytes (%d exclusive) of its %d-byte limit", id, rfer, excl, quotaLimit)
		})
	}
}
