package tests

// cowdu on a tree deeper than PATH_MAX (which cowcp copies and du
// measures): its numbers against the data written and btrfs filesystem du,
// and its messages against GNU du's.

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cowcp/cowcp/internal/testtree"
	"golang.org/x/sys/unix"
)

// deepFile is a regular file of deepUsageTree: where it is and the bytes of
// data blocks it holds on btrfs (inline data holds none).
type deepFile struct {
	rel  string // relative to the tree's root
	data int64
}

// deepUsageTree describes a chain of depth directories with 200-byte names,
// files of whole 4 KiB blocks every fifth level, and at the bottom a
// sparse file, a 100-byte file that btrfs stores inline, and a hard link
// to the top file. It returns the nodes and the distinct files, each
// under the name cowdu -a lists.
func deepUsageTree(depth int) ([]testtree.Node, []deepFile) {
	nodes := []testtree.Node{testtree.D(".", 0o755)}
	var files []deepFile
	dir := ""
	for i := range depth {
		dir = path.Join(dir, fmt.Sprintf("%03d-", i)+strings.Repeat("d", 195))
		nodes = append(nodes, testtree.D(dir, 0o755))
		if i%5 == 0 {
			n := (1 + i%4) * 64 << 10
			nodes = append(nodes, testtree.F(dir+"/f", 0o644, testtree.Bytes(uint64(i), n)))
			files = append(files, deepFile{dir + "/f", int64(n)})
		}
	}
	nodes = append(nodes,
		testtree.S(dir+"/sparse", 4<<20, testtree.Random(1<<20, 1000, 64<<10)),
		testtree.F(dir+"/tiny", 0o644, testtree.Bytes(1001, 100)),
		testtree.H(dir+"/link", files[0].rel))
	files = append(files, deepFile{dir + "/sparse", 64 << 10}, deepFile{dir + "/tiny", 0})
	// A listing names the linked file by the smaller of its names: the
	// link's, as "000-..." sorts before "f".
	files[0].rel = dir + "/link"
	return nodes, files
}

// btrfsDuDeep runs btrfs filesystem du on each file under root, from a
// shell that walks down to the file's directory one level at a time: the
// tool builds whole paths and cannot reach past PATH_MAX itself. It
// returns Total and Exclusive per file.
func btrfsDuDeep(t testing.TB, root string, files []deepFile) map[string][2]int64 {
	t.Helper()
	var script strings.Builder
	for i, f := range files {
		script.WriteString("(\n")
		for _, d := range strings.Split(path.Dir(f.rel), "/") {
			fmt.Fprintf(&script, "cd -P -- %s\n", d) // names of letters, digits and '-'
		}
		fmt.Fprintf(&script, "echo @%d\nbtrfs filesystem du --raw -- %s\n)\n", i, path.Base(f.rel))
	}
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script.String())
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("btrfs filesystem du, level by level: %v\n%s", err, out)
	}
	got := map[string][2]int64{}
	cur := -1
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "@"):
			cur, _ = strconv.Atoi(line[1:])
		case len(f) == 4 && f[3] == path.Base(files[cur].rel):
			total, err1 := strconv.ParseInt(f[0], 10, 64)
			excl, err2 := strconv.ParseInt(f[1], 10, 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("btrfs filesystem du: line %q", line)
			}
			got[files[cur].rel] = [2]int64{total, excl}
		}
	}
	if len(got) != len(files) {
		t.Fatalf("btrfs filesystem du reported %d of %d files:\n%s", len(got), len(files), out)
	}
	return got
}

// TestCowduDeepTree measures a tree deeper than PATH_MAX and its copy by
// cowcp -a on btrfs. Every file is counted, under its whole path, with the
// data written to it; every block is shared between the two trees and
// counted once in Set shared; each file agrees with btrfs filesystem du.
// Run as an unprivileged user on a copy with a directory it cannot read,
// cowdu reports that directory as GNU du does.
func TestCowduDeepTree(t *testing.T) {
	const depth = 30 // 30 levels of 200 bytes: 6,000 bytes of path
	mnt := mountFS(t, fsBtrfs, "512M")
	base, _ := userScratch(t, mnt)
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	nodes, files := deepUsageTree(depth)
	testtree.Build(t, src, nodes)
	var data int64
	for _, f := range files {
		data += f.data
	}
	if r := cowcp(t, "-a", src, dst); r.code != 0 {
		t.Fatalf("cowcp -a: exit %d\n%s", r.code, r.stderr)
	}
	syncFS(t, mnt)

	rep := cowduJSON(t, "-a", src, dst)
	for i, root := range []string{src, dst} {
		u := rep.Paths[i]
		if u.Total != data || u.Exclusive != 0 || u.Shared != data || u.SetShared != data {
			t.Errorf("%s: total %d exclusive %d shared %d set shared %d; want %d written, all shared with the other copy",
				root, u.Total, u.Exclusive, u.Shared, u.SetShared, data)
		}
		var want []string
		for _, f := range files {
			want = append(want, root+"/"+f.rel)
		}
		slices.Sort(want)
		var got []string
		for _, f := range u.Files {
			got = append(got, f.Path)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: files listed:\n%q\nwant:\n%q", root, got, want)
			continue
		}
		if long := slices.MaxFunc(want, func(a, b string) int { return len(a) - len(b) }); len(long) <= unix.PathMax {
			t.Fatalf("the tree is not deeper than PATH_MAX: %d bytes", len(long))
		}
		btrfs := btrfsDuDeep(t, root, files)
		for _, f := range files {
			c := cowduFile(t, rep, root+"/"+f.rel)
			if b := btrfs[f.rel]; c.Total != f.data || c.Total != b[0] || c.Exclusive != b[1] {
				t.Errorf("%s: cowdu total %d exclusive %d; btrfs filesystem du %d %d; written %d",
					f.rel[max(0, len(f.rel)-40):], c.Total, c.Exclusive, b[0], b[1], f.data)
			}
		}
	}
	if tot := rep.Total; tot.Total != 2*data || tot.Exclusive != 0 || tot.SetShared != data {
		t.Errorf("total %+v; want %d referenced, %d set shared", tot, 2*data, data)
	}

	// A directory 25 levels down, past PATH_MAX from the root, that uid
	// 1000 cannot read. The hard link below it is counted at the top.
	locked := ""
	for _, n := range nodes[1:] {
		if n.Kind == testtree.Dir && strings.Count(n.Path, "/") == 24 {
			locked = n.Path
		}
	}
	err := testtree.Parent(dst, locked, func(dirfd int, name string) error { return unix.Fchmodat(dirfd, name, 0, 0) })
	if err != nil {
		t.Fatal(err)
	}
	want := data
	for _, f := range files {
		if strings.HasPrefix(f.rel, locked+"/") && path.Base(f.rel) != "link" {
			want -= f.data
		}
	}
	bin := filepath.Join(base, "cowdu")
	if out, err := exec.Command("cp", cowduBin, bin).CombinedOutput(); err != nil {
		t.Fatalf("copying cowdu: %v\n%s", err, out)
	}
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	user := execute(t, bin, invocation{dir: base, args: []string{"--bytes", dst}, umask: -1, uid: 1000})
	du := execute(t, "du", invocation{dir: base, args: []string{"-s", dst}, umask: -1, uid: 1000})
	// Names of letters, digits and '-' are quoted plainly.
	msg := "cannot read directory '" + dst + "/" + locked + "': Permission denied\n"
	if user.code != 1 || user.stderr != "cowdu: "+msg {
		t.Errorf("cowdu as uid 1000: exit %d, stderr %.300q; want 1, %.300q", user.code, user.stderr, "cowdu: "+msg)
	}
	if du.code != 1 || du.stderr != "du: "+msg {
		t.Errorf("GNU du as uid 1000: exit %d, stderr %.300q; want 1, %.300q", du.code, du.stderr, "du: "+msg)
	}
	if line := fmt.Sprintf("%10d  %10d  %10d  %10d  %s\n", want, 0, want, want, dst); !strings.Contains(user.stdout, line) {
		t.Errorf("cowdu as uid 1000:\n%s\nwant the line\n%s", user.stdout, line)
	}
}
