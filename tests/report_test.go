package tests

// End-to-end tests of what cowcp reports: --dry-run's plan
// against what the real copy then does, saved_bytes against cowdu,
// fs_used_bytes against the tree, and the README's block-level
// copy-on-write walk-through, on real loopback btrfs, XFS and ext4.

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// copyGoroot copies the Go distribution into dir/go with `cp -a`, syncs,
// and returns that path.
func copyGoroot(t testing.TB, dir string) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	src := filepath.Join(dir, "go")
	if out, err := exec.Command("cp", "-a", strings.TrimSpace(string(out)), src).CombinedOutput(); err != nil {
		t.Fatalf("cp -a GOROOT %s: %v\n%s", src, err, out)
	}
	syncFS(t, dir)
	return src
}

// regularSizes maps the destination path of every regular file under src,
// copied to dst, to the file's size.
func regularSizes(t testing.TB, src, dst string) map[string]int64 {
	t.Helper()
	files := map[string]int64{}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		files[filepath.Join(dst, rel)] = fi.Size()
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", src, err)
	}
	return files
}

// scratchLeft returns the paths under root that look like cowcp's scratch
// or temporary files (".cowcp-*").
func scratchLeft(t testing.TB, root string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".cowcp-") {
			found = append(found, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", root, err)
	}
	return found
}

// verboseLine is `'SRC' -> 'DST'` with an optional ` (METHOD)`, in
// plain single quotes; names needing another quoting are not matched.
var verboseLine = regexp.MustCompile(`^'([^']*)' -> '([^']*)'(?: \(([a-z_]+)\))?$`)

// verboseMethods maps each destination named in cowcp -v lines found in out
// to its method ("" for no method). A name seen twice maps to "<twice>".
func verboseMethods(out string) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		if g := verboseLine.FindStringSubmatch(sc.Text()); g != nil {
			if _, dup := m[g[2]]; dup {
				m[g[2]] = "<twice>"
				continue
			}
			m[g[2]] = g[3]
		}
	}
	return m
}

// plannedRun is what predictThenCopy found.
type plannedRun struct {
	rep     cowcpReport       // the real copy's report
	planned map[string]string // the planned action of each regular file, by path relative to the copy
	growth  int64             // the destination filesystem's used-space growth, measured by the test
}

// predictThenCopy runs `cowcp -a --dry-run --json src dst`, checks that
// it made nothing, then copies for real with -v --json and checks that
// every regular file got the method the plan named and that the predicted
// totals are the real ones.
func predictThenCopy(t *testing.T, src, dst string) plannedRun {
	t.Helper()
	files := regularSizes(t, src, dst)
	var treeBytes int64
	for _, n := range files {
		treeBytes += n
	}
	if len(files) < 1000 || treeBytes < 50<<20 {
		t.Fatalf("the Go tree is too small to prove anything: %d files, %d bytes", len(files), treeBytes)
	}
	start := time.Now()

	r := cowcp(t, "-a", "--dry-run", "--json", src, dst)
	if r.code != 0 {
		t.Fatalf("cowcp -a --dry-run --json %s %s: exit %d\nstderr: %.4000s", src, dst, r.code, r.stderr)
	}
	plan := parseReport(t, r)
	t.Logf("dry run took %.1fs", time.Since(start).Seconds())
	if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("--dry-run made %s (lstat: %v)", dst, err)
	}
	if left := scratchLeft(t, filepath.Dir(dst)); len(left) > 0 {
		t.Errorf("--dry-run left scratch files in %s: %q", filepath.Dir(dst), left)
	}
	predicted := map[string]string{}
	for _, e := range plan.Plan {
		d := filepath.Clean(e.Dst)
		if _, ok := files[d]; !ok {
			continue
		}
		if _, dup := predicted[d]; dup {
			t.Errorf("plan: %s planned twice", d)
		}
		predicted[d] = e.Action
		if e.Bytes != files[d] {
			t.Errorf("plan: %s: bytes %d, the file has %d", d, e.Bytes, files[d])
		}
	}
	if len(predicted) != len(files) {
		t.Errorf("plan names %d of the %d regular files", len(predicted), len(files))
	}
	if plan.Files != int64(len(files)) || plan.Bytes != treeBytes {
		t.Errorf("dry run predicts %d files, %d bytes; the tree has %d, %d", plan.Files, plan.Bytes, len(files), treeBytes)
	}

	before := usedBytes(t, filepath.Dir(dst))
	start = time.Now()
	r = cowcp(t, "-a", "-v", "--json", "--sync", src, dst)
	t.Logf("cowcp -a -v --json took %.1fs", time.Since(start).Seconds())
	if r.code != 0 {
		t.Fatalf("cowcp -a -v --json %s %s: exit %d\nstderr: %.4000s", src, dst, r.code, r.stderr)
	}
	actual := parseReport(t, r)
	growth := usedBytes(t, dst) - before
	rel := map[string]string{}
	for d, a := range predicted {
		rel[strings.TrimPrefix(d, dst+"/")] = a
	}
	// -v lines go to stdout, or to stderr when stdout carries the JSON:
	// look in both, and take only lines that parse.
	checkMethods(t, rel, dst, r.stdout+"\n"+r.stderr)
	t.Logf("predicted: files %d bytes %d cloned %d copied %d saved %d needed %d free %d methods %+v",
		plan.Files, plan.Bytes, plan.ClonedBytes, plan.CopiedBytes, plan.SavedBytes, plan.NeededBytes, plan.FreeBytes, plan.Methods)
	t.Logf("real:      files %d bytes %d cloned %d copied %d saved %d methods %+v",
		actual.Files, actual.Bytes, actual.ClonedBytes, actual.CopiedBytes, actual.SavedBytes, actual.Methods)
	if plan.ClonedBytes != actual.ClonedBytes || plan.CopiedBytes != actual.CopiedBytes {
		t.Errorf("--dry-run predicted cloned_bytes %d, copied_bytes %d; the copy had %d, %d",
			plan.ClonedBytes, plan.CopiedBytes, actual.ClonedBytes, actual.CopiedBytes)
	}
	// The source was synced, so its extent map, which the plan reads, is
	// what the clones then share.
	if plan.SavedBytes != actual.SavedBytes {
		t.Errorf("--dry-run predicted saved_bytes %d; the copy saved %d", plan.SavedBytes, actual.SavedBytes)
	}
	if plan.Methods != actual.Methods {
		t.Errorf("--dry-run predicted methods %+v; the copy used %+v", plan.Methods, actual.Methods)
	}
	if actual.Files != int64(len(files)) || actual.Bytes != treeBytes || actual.Errors != 0 {
		t.Errorf("copy: %d files, %d bytes, %d errors (%+v); the tree has %d files, %d bytes",
			actual.Files, actual.Bytes, actual.Errors, actual.Failures, len(files), treeBytes)
	}
	return plannedRun{actual, rel, growth}
}

// checkMethods checks that the -v lines in out give each regular file
// of planned (relative to dst) the method its planned action names.
func checkMethods(t *testing.T, planned map[string]string, dst, out string) {
	t.Helper()
	got := verboseMethods(out)
	mismatches, missing := 0, 0
	for rel, want := range planned {
		d := filepath.Join(dst, rel)
		method, seen := got[d]
		if !seen {
			if missing++; missing <= 5 {
				t.Errorf("%s: no -v line for this file", d)
			}
			continue
		}
		if want == "create" { // an empty file: made, no data method
			want = ""
		}
		if method != want {
			if mismatches++; mismatches <= 10 {
				t.Errorf("%s: --dry-run predicted %q, the copy used %q", d, want, method)
			}
		}
	}
	if missing > 5 || mismatches > 10 {
		t.Errorf("... %d files without a -v line, %d predictions wrong in all", missing, mismatches)
	}
}

// checkFSUsed checks the report's filesystem estimate: present, measured,
// and what the kind of copy should cost.
func checkFSUsed(t *testing.T, run plannedRun, clones bool) {
	t.Helper()
	rep := run.rep
	if rep.FSUsedBytes == nil || rep.FSMeasured == nil {
		t.Errorf("report lacks fs_used_bytes (%v) or fs_measured (%v)", rep.FSUsedBytes, rep.FSMeasured)
		return
	}
	used := *rep.FSUsedBytes
	t.Logf("fs_used_bytes %d; the test measured %d of growth; %d bytes copied", used, run.growth, rep.Bytes)
	if !*rep.FSMeasured {
		t.Errorf("report: fs_measured false after a copy with --json")
	}
	// The test's own statfs after a sync, moments later, sees nearly the
	// same growth (btrfs may commit a little more metadata meanwhile).
	if d := used - run.growth; d > 4<<20+run.growth/20 || -d > 4<<20+run.growth/20 {
		t.Errorf("fs_used_bytes %d, but the filesystem's used space grew %d", used, run.growth)
	}
	switch {
	case clones && used*4 >= rep.Bytes:
		t.Errorf("fs_used_bytes %d for a clone of %d bytes: not under 25%%", used, rep.Bytes)
	case !clones && used*10 < rep.Bytes*9:
		t.Errorf("fs_used_bytes %d for a byte copy of %d bytes: under 90%%", used, rep.Bytes)
	}
}

// checkSaved compares saved_bytes with cowdu's view of the copy.
// cowdu counts whole extents, block-rounded; saved_bytes counts file bytes
// in those extents. So cowdu's shared bytes are at least saved_bytes, and
// exceed it by less than a block per file.
func checkSaved(t *testing.T, rep cowcpReport, dst string, clones bool) {
	t.Helper()
	syncFS(t, dst)
	u := cowduJSON(t, "--bytes", dst).Paths[0]
	total, exclusive, shared := u.Total, u.Exclusive, u.Shared
	t.Logf("cowdu %s: total %d exclusive %d shared %d; saved_bytes %d", dst, total, exclusive, shared, rep.SavedBytes)
	if !clones {
		if rep.SavedBytes != 0 || exclusive != total || shared != 0 {
			t.Errorf("byte copy: saved_bytes %d; cowdu total %d, exclusive %d, shared %d; want 0 saved, all exclusive",
				rep.SavedBytes, total, exclusive, shared)
		}
		return
	}
	const block = 4096
	if rep.SavedBytes*100 < rep.Bytes*90 {
		t.Errorf("saved_bytes %d: under 90%% of the %d bytes cloned", rep.SavedBytes, rep.Bytes)
	}
	if shared < rep.SavedBytes || shared-rep.SavedBytes > block*rep.Files {
		t.Errorf("saved_bytes %d, cowdu shared %d: want saved <= shared <= saved + %d (a block per file)",
			rep.SavedBytes, shared, block*rep.Files)
	}
}

// TestReportGoTree copies the Go tree on btrfs, XFS and ext4 (and from
// btrfs to XFS): --dry-run names each file's method and the totals before
// the copy, and the real copy's saved_bytes and fs_used_bytes agree with
// what cowdu and the filesystem see.
func TestReportGoTree(t *testing.T) {
	for _, kind := range []string{fsBtrfs, fsXFS, fsExt4} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			mnt := mountFS(t, kind, "2G")
			src := copyGoroot(t, mnt)
			dst := filepath.Join(mnt, "copy")
			clones := kind != fsExt4
			run := predictThenCopy(t, src, dst)
			rep := run.rep
			checkFSUsed(t, run, clones)
			checkSaved(t, rep, dst, clones)
			if clones && rep.Methods.Ficlone == 0 {
				t.Errorf("%s: no file cloned: methods %+v", kind, rep.Methods)
			}
			if clones {
				// Without --json, as cp does, -v prints on stdout.
				again := dst + ".v"
				r := cowcp(t, "-a", "-v", src, again)
				if r.code != 0 {
					t.Fatalf("cowcp -a -v %s %s: exit %d\nstderr: %.4000s", src, again, r.code, r.stderr)
				}
				checkMethods(t, run.planned, again, r.stdout)
			}

			if kind != fsBtrfs {
				return
			}
			// Across two filesystems nothing can be shared.
			to := mountFS(t, fsXFS, "1G")
			dst = filepath.Join(to, "copy")
			run = predictThenCopy(t, src, dst)
			rep = run.rep
			if rep.ClonedBytes != 0 || rep.Methods.Ficlone+rep.Methods.Ficlonerange != 0 {
				t.Errorf("btrfs to XFS: report claims clones: cloned_bytes %d, methods %+v", rep.ClonedBytes, rep.Methods)
			}
			checkFSUsed(t, run, false)
			checkSaved(t, rep, dst, false)
		})
	}
}

// TestReportRewrittenClone is the README's walk-through through cowcp:
// clone a 64 MiB file, overwrite 1 MiB in the middle of the clone, and
// cowdu shows 1 MiB exclusive and 63 MiB shared; the source is untouched.
func TestReportRewrittenClone(t *testing.T) {
	const mib = 1 << 20
	for _, kind := range []string{fsBtrfs, fsXFS} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			mnt := mountFS(t, kind, "512M")
			big, clone := filepath.Join(mnt, "big"), filepath.Join(mnt, "clone")
			out, err := exec.Command("dd", "if=/dev/urandom", "of="+big, "bs=1M", "count=64", "iflag=fullblock", "status=none").CombinedOutput()
			if err != nil {
				t.Fatalf("dd: %v\n%s", err, out)
			}
			syncFS(t, mnt)
			bigHash := fileSHA256(t, big)

			r := cowcp(t, "--json", big, clone)
			if r.code != 0 {
				t.Fatalf("cowcp --json %s %s: exit %d\nstderr: %s", big, clone, r.code, r.stderr)
			}
			if rep := parseReport(t, r); rep.Methods.Ficlone != 1 || rep.ClonedBytes != 64*mib {
				t.Errorf("report: methods %+v, cloned_bytes %d; want one FICLONE of 64 MiB", rep.Methods, rep.ClonedBytes)
			}
			syncFS(t, mnt)
			if u := cowduJSON(t, "--bytes", clone).Paths[0]; u.Total != 64*mib || u.Exclusive != 0 {
				t.Errorf("fresh clone: cowdu total %d, exclusive %d; want 64 MiB, all shared", u.Total, u.Exclusive)
			}

			out, err = exec.Command("dd", "if=/dev/urandom", "of="+clone, "bs=1M", "count=1", "seek=32", "conv=notrunc", "iflag=fullblock", "status=none").CombinedOutput()
			if err != nil {
				t.Fatalf("dd into the clone: %v\n%s", err, out)
			}
			syncFS(t, mnt)
			u := cowduJSON(t, "--bytes", clone).Paths[0]
			total, exclusive, shared := u.Total, u.Exclusive, u.Shared
			t.Logf("%s: after a 1 MiB rewrite: cowdu total %d, exclusive %d, shared %d", kind, total, exclusive, shared)
			const slack = 4 * 4096
			near := func(got, want int64) bool { return got >= want-slack && got <= want+slack }
			if total != 64*mib || !near(exclusive, mib) || !near(shared, 63*mib) {
				t.Errorf("clone after a 1 MiB rewrite: cowdu total %d, exclusive %d, shared %d; want 64 MiB, ~1 MiB, ~63 MiB",
					total, exclusive, shared)
			}

			dropFileCache(t, big)
			dropFileCache(t, clone)
			if got := fileSHA256(t, big); got != bigHash {
				t.Errorf("the source changed when its clone was written")
			}
			a, err := os.ReadFile(big)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(clone)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != len(a) || !bytes.Equal(a[:32*mib], b[:32*mib]) || !bytes.Equal(a[33*mib:], b[33*mib:]) ||
				bytes.Equal(a[32*mib:33*mib], b[32*mib:33*mib]) {
				t.Errorf("clone content: want the source's outside the rewritten MiB and new data inside it")
			}
		})
	}
}
