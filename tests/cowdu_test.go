package tests

// End-to-end tests of cowdu: its numbers on real loopback btrfs,
// XFS and ext4 trees made with the system's own cp --reflink, dd and
// xfs_io, checked against btrfs filesystem du and filefrag, tools that do
// not share cowdu's code.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// cowduReport is cowdu's --json report.
type cowduReport struct {
	Paths []cowduUsage `json:"paths"`
	Total cowduUsage   `json:"total"`
}

type cowduUsage struct {
	Path      string `json:"path"`
	Total     int64  `json:"total_bytes"`
	Exclusive int64  `json:"exclusive_bytes"`
	Shared    int64  `json:"shared_bytes"`
	SetShared int64  `json:"set_shared_bytes"`
	Files     []struct {
		Path      string `json:"path"`
		Total     int64  `json:"total_bytes"`
		Exclusive int64  `json:"exclusive_bytes"`
		Shared    int64  `json:"shared_bytes"`
	} `json:"files"`
}

// cowduJSON runs cowdu --json with args and requires it to succeed.
func cowduJSON(t testing.TB, args ...string) cowduReport {
	t.Helper()
	r := cowdu(t, append([]string{"--json"}, args...)...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("cowdu --json %q: exit %d\nstderr: %s", args, r.code, r.stderr)
	}
	var rep cowduReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("cowdu --json %q: %v\nstdout: %s", args, err, r.stdout)
	}
	for _, u := range append(rep.Paths, rep.Total) {
		if u.Shared != u.Total-u.Exclusive {
			t.Errorf("cowdu %q: %s: shared %d != total %d - exclusive %d", args, u.Path, u.Shared, u.Total, u.Exclusive)
		}
	}
	return rep
}

// cowduFile returns the -a line of cowdu's report for path.
func cowduFile(t testing.TB, rep cowduReport, path string) cowduUsage {
	t.Helper()
	for _, p := range rep.Paths {
		for _, f := range p.Files {
			if f.Path == path {
				return cowduUsage{Path: f.Path, Total: f.Total, Exclusive: f.Exclusive, Shared: f.Shared}
			}
		}
	}
	t.Fatalf("no file %s in cowdu's report %+v", path, rep)
	return cowduUsage{}
}

// runScript runs a bash script in dir, failing the test if any command fails.
func runScript(t testing.TB, dir, script string) {
	t.Helper()
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("in %s:\n%s\n%v\n%s", dir, script, err, out)
	}
}

// closeTo reports whether got is within 0.5% of want.
func closeTo(got, want int64) bool {
	d := got - want
	if d < 0 {
		d = -d
	}
	return d*200 <= want
}

const mib = 1 << 20

// rewriteScript clones a 64 MiB file with cp --reflink and rewrites
// 1 MiB in the middle of the clone in place.
const rewriteScript = `
head -c 64M /dev/urandom > big
cp --reflink=auto big clone
dd if=/dev/urandom of=clone bs=1M count=1 seek=32 conv=notrunc status=none
`

// TestCowduRewrittenClone: after the 1 MiB rewrite, the clone holds about
// 1 MiB of its own and shares the rest, on btrfs and XFS; on ext4, which
// cannot clone, everything is exclusive.
func TestCowduRewrittenClone(t *testing.T) {
	for _, kind := range []string{fsBtrfs, fsXFS} {
		t.Run(kind, func(t *testing.T) {
			mnt := mountFS(t, kind, "1G")
			runScript(t, mnt, rewriteScript)
			syncFS(t, mnt)
			rep := cowduJSON(t, "-a", mnt)
			clone := cowduFile(t, rep, filepath.Join(mnt, "clone"))
			if clone.Total != 64*mib || !closeTo(clone.Exclusive, mib) || !closeTo(clone.Shared, 63*mib) {
				t.Errorf("clone: %+v, want total 64 MiB, exclusive ~1 MiB, shared ~63 MiB", clone)
			}
			// filefrag reads the same FIEMAP flags through its own code.
			if shared, total := filefragShared(t, filepath.Join(mnt, "clone")); shared != clone.Shared || total != clone.Total {
				t.Errorf("filefrag: clone shares %d of %d bytes; cowdu says %d of %d", shared, total, clone.Shared, clone.Total)
			}
			// The blocks both files share take 63 MiB on XFS, which
			// shares per block; btrfs shares per extent, so the
			// original's whole 64 MiB extent counts as shared.
			tot := rep.Total
			if tot.Total != 128*mib || tot.SetShared < 63*mib || tot.SetShared > 64*mib {
				t.Errorf("total: %+v, want 128 MiB with 63-64 MiB set shared", tot)
			}
			if kind == fsBtrfs {
				if b := btrfsDiskUsage(t, mnt); !closeTo(tot.Total, b.Total) || !closeTo(tot.Exclusive, b.Exclusive) || !closeTo(tot.SetShared, b.SetShared) {
					t.Errorf("cowdu %+v, btrfs filesystem du %+v", tot, b)
				}
			}
		})
	}
	t.Run(fsExt4, func(t *testing.T) {
		mnt := mountFS(t, fsExt4, "512M")
		runScript(t, mnt, rewriteScript)
		syncFS(t, mnt)
		rep := cowduJSON(t, "-a", mnt)
		for _, name := range []string{"big", "clone"} {
			if f := cowduFile(t, rep, filepath.Join(mnt, name)); f.Total != 64*mib || f.Exclusive != 64*mib {
				t.Errorf("%s: %+v, want 64 MiB, all exclusive", name, f)
			}
		}
		if tot := rep.Total; tot.Shared != 0 || tot.SetShared != 0 {
			t.Errorf("total %+v: ext4 shares nothing", tot)
		}
	})
}

// mixedScript makes a btrfs tree of everything that changes the
// accounting: clones, a rewritten clone, holes, exclusive files, hard
// links, inline files, partial clones overlapping each other, a subvolume
// and a snapshot, and many small files, some cloned.
const mixedScript = `
mkdir -p t/d t/small
head -c 64M /dev/urandom > t/big
cp --reflink=always t/big t/clone
dd if=/dev/urandom of=t/clone bs=1M count=1 seek=32 conv=notrunc status=none
head -c 3M /dev/urandom > t/excl
truncate -s 10M t/holey
dd if=/dev/urandom of=t/holey bs=1M count=1 seek=5 conv=notrunc status=none
cp --reflink=always t/holey t/d/holey-clone
cp --reflink=always t/excl t/d/excl-clone
ln t/big t/d/big-link
echo tiny > t/tiny
head -c 8M /dev/urandom > t/d/src
xfs_io -f -c "reflink t/d/src 0 0 6M" t/d/front >/dev/null
xfs_io -f -c "reflink t/d/src 2M 0 6M" t/d/back >/dev/null
for i in $(seq 1 300); do head -c $((i * 1000)) /dev/urandom > t/small/f$i; done
for i in $(seq 1 7 300); do cp --reflink=always t/small/f$i t/small/c$i; done
btrfs -q subvolume create t/sv
cp --reflink=always t/excl t/sv/x
head -c 2M /dev/urandom > t/sv/own
btrfs -q subvolume snapshot t/sv t/snap
dd if=/dev/urandom of=t/snap/own bs=64K count=1 conv=notrunc status=none
mkdir t/mnt
`

// TestCowduMatchesBtrfsDu compares cowdu with btrfs filesystem du -s on
// every part of the mixed tree: Total, Exclusive and Set shared must agree
// within 0.5%.
func TestCowduMatchesBtrfsDu(t *testing.T) {
	mnt := mountFS(t, fsBtrfs, "1G")
	runScript(t, mnt, mixedScript)
	syncFS(t, mnt)

	for _, rel := range []string{"t", "t/d", "t/small", "t/sv", "t/snap", "t/clone", "t/d/front"} {
		path := filepath.Join(mnt, rel)
		b := btrfsDiskUsage(t, path)
		got := cowduJSON(t, path).Paths[0]
		t.Logf("%-9s cowdu %10d %10d %10d  btrfs fi du %10d %10d %10d", rel, got.Total, got.Exclusive, got.SetShared, b.Total, b.Exclusive, b.SetShared)
		if !closeTo(got.Total, b.Total) || !closeTo(got.Exclusive, b.Exclusive) || !closeTo(got.SetShared, b.SetShared) {
			t.Errorf("%s: cowdu total %d exclusive %d set shared %d; btrfs filesystem du %d %d %d",
				rel, got.Total, got.Exclusive, got.SetShared, b.Total, b.Exclusive, b.SetShared)
		}
	}

	// The partial clones overlap: front is src's [0, 6M), back its
	// [2M, 8M). Each block is counted once in Set shared.
	d := cowduJSON(t, filepath.Join(mnt, "t/d/src"), filepath.Join(mnt, "t/d/front"), filepath.Join(mnt, "t/d/back"))
	if d.Total.Total != 20*mib || d.Total.SetShared != 8*mib {
		t.Errorf("src, front, back: %+v, want 20 MiB referenced, 8 MiB set shared", d.Total)
	}
	// Across PATHs, blocks shared between them count once, and the hard
	// link to big under t/d counts for the first PATH only.
	all := cowduJSON(t, filepath.Join(mnt, "t/d"), filepath.Join(mnt, "t"))
	whole := cowduJSON(t, filepath.Join(mnt, "t")).Total
	if all.Total.Total != whole.Total || all.Total.Exclusive != whole.Exclusive || all.Total.SetShared != whole.SetShared {
		t.Errorf("t/d and t: total %+v; t alone %+v", all.Total, whole)
	}
	if all.Paths[0].Total+all.Paths[1].Total != whole.Total {
		t.Errorf("t/d %d + rest of t %d != t %d", all.Paths[0].Total, all.Paths[1].Total, whole.Total)
	}

	// A filesystem mounted inside the tree is not part of it.
	tmpfs := filepath.Join(mnt, "t", "mnt")
	if err := unix.Mount("tmpfs", tmpfs, "tmpfs", 0, "size=16m"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(tmpfs, 0); err != nil {
			t.Errorf("unmount %s: %v", tmpfs, err)
		}
	})
	runScript(t, tmpfs, "head -c 4M /dev/urandom > f")
	if got := cowduJSON(t, filepath.Join(mnt, "t")).Total; got.Total != whole.Total || got.SetShared != whole.SetShared {
		t.Errorf("with a tmpfs mounted inside: %+v; without: %+v", got, whole)
	}
}

// TestCowduText checks the text report's shape on a real clone.
func TestCowduText(t *testing.T) {
	mnt := mountFS(t, fsBtrfs, "512M")
	runScript(t, mnt, "head -c 4M /dev/urandom > a && cp --reflink=always a b")
	syncFS(t, mnt)
	r := cowdu(t, "--bytes", mnt)
	want := fmt.Sprintf("%10s  %10s  %10s  %10s  %s\n", "Total", "Exclusive", "Shared", "Set shared", "Filename") +
		fmt.Sprintf("%10d  %10d  %10d  %10d  %s\n", 8*mib, 0, 8*mib, 4*mib, mnt) +
		fmt.Sprintf("%10d  %10d  %10d  %10d  %s\n", 8*mib, 0, 8*mib, 4*mib, "total")
	if r.code != 0 || r.stdout != want || r.stderr != "" {
		t.Errorf("exit %d, stdout:\n%s\nwant:\n%s\nstderr: %s", r.code, r.stdout, want, r.stderr)
	}
	r = cowdu(t, mnt)
	if !strings.Contains(r.stdout, "   8.0 MiB         0 B     8.0 MiB     4.0 MiB  "+mnt+"\n") {
		t.Errorf("human units: %s", r.stdout)
	}
}

// TestCowduErrors checks cp-style messages and exit statuses.
func TestCowduErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := cowdu(t, missing, dir)
	if want := "cowdu: cannot access '" + missing + "': No such file or directory\n"; r.code != 1 || r.stderr != want {
		t.Errorf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, want)
	}
	if !strings.Contains(r.stdout, "  "+dir+"\n") {
		t.Errorf("the PATH that exists is still reported: %s", r.stdout)
	}
	if r := cowdu(t, "--no-such-flag", dir); r.code != 2 || r.stdout != "" {
		t.Errorf("bad flag: exit %d, stdout %q, stderr %q; want 2", r.code, r.stdout, r.stderr)
	}
}
