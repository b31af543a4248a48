package tests

// Randomized differential test against GNU cp: small trees drawn from a seed
// (the same seed always makes the same tree) are copied by cp -a and by
// cowcp -a and compared like the fixed tree. Seed s runs on one filesystem
// kind, btrfs, XFS or ext4 by s mod 3; a failing seed is printed with the
// command that replays it on all three:
//
//	go test ./tests -run TestCpDiffRandom -seed=N

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cowcp/cowcp/internal/testtree"
	"golang.org/x/sys/unix"
)

var (
	seedFlag  = flag.Uint64("seed", 0, "TestCpDiffRandom: replay only this seed, on every filesystem kind")
	seedsFlag = flag.Int("seeds", 0, "TestCpDiffRandom: how many seeds to run (default $COWCP_SEEDS, else 200; 20 with -short)")
)

func TestCpDiffRandom(t *testing.T) {
	requireRoot(t)
	seeds := seedList(t)
	for i, kind := range []string{fsBtrfs, fsXFS, fsExt4} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			mnt := mountFS(t, kind, "1G")
			var failed []string
			hung := 0
			for _, seed := range seeds {
				if seed%3 != uint64(i) && *seedFlag == 0 {
					continue // another filesystem's seed
				}
				base := filepath.Join(mnt, fmt.Sprintf("seed%d", seed))
				if err := os.Mkdir(base, 0o755); err != nil {
					t.Fatal(err)
				}
				testtree.Build(t, filepath.Join(base, "src"), randomTree(seed))
				p := copyBoth(t, base, 20*time.Second, "-a") // small trees: 20 s is ample, even under -race
				if len(p.diffs) == 0 {
					os.RemoveAll(base)
					continue
				}
				failed = append(failed, strconv.FormatUint(seed, 10))
				if len(failed) <= 5 {
					reportDiffs(t, fmt.Sprintf("seed %d on %s (replay: go test ./tests -run TestCpDiffRandom -seed=%d)", seed, kind, seed), p.diffs)
				}
				if p.cw.code == timedOut {
					if hung++; hung == 3 {
						t.Fatalf("cowcp hung on 3 seeds; stopping. Failing seeds: %s", strings.Join(failed, ", "))
					}
				}
			}
			if len(failed) > 0 {
				t.Errorf("%d failing seeds on %s: %s", len(failed), kind, strings.Join(failed, ", "))
			}
		})
	}
}

// seedList is the list of seeds to run: the one of -seed, or 1..N.
func seedList(t *testing.T) []uint64 {
	if *seedFlag != 0 {
		return []uint64{*seedFlag}
	}
	n := *seedsFlag
	if n == 0 {
		n = 200
		if testing.Short() {
			n = 20
		}
		if env := os.Getenv("COWCP_SEEDS"); env != "" {
			var err error
			if n, err = strconv.Atoi(env); err != nil {
				t.Fatalf("COWCP_SEEDS=%q: %v", env, err)
			}
		}
	}
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	return seeds
}

// randomTree draws a tree of 8 to 40 entries from seed: files of chosen
// and random sizes, sparse files, dirs up to 5 deep, symlinks to entries,
// out of the tree, dangling and looping, hardlinks to any non-directory,
// fifos, devices and sockets; with random modes (special bits and 000
// included), owners, times (epoch, before it, far future, any nanosecond),
// xattrs and ACLs, under names with spaces, newlines, dashes, non-UTF-8
// bytes and 255 bytes.
func randomTree(seed uint64) []testtree.Node {
	r := rand.New(rand.NewPCG(seed, 0x63706469666621))
	g := &treeGen{r: r}
	root := g.meta(testtree.D(".", g.pick(dirModes)), false)
	g.nodes = []testtree.Node{root}
	g.dirs = []string{"."}
	for i := range 8 + r.IntN(33) {
		parent := g.dirs[r.IntN(len(g.dirs))]
		p := g.name(i)
		if parent != "." {
			p = parent + "/" + p
		}
		var n testtree.Node
		switch w := r.IntN(100); {
		case w < 35:
			n = g.meta(testtree.F(p, g.pick(fileModes), g.bytes(g.size())), true)
		case w < 45:
			n = g.meta(g.sparse(p), true)
		case w < 60 && strings.Count(p, "/") < 5:
			n = g.meta(testtree.D(p, g.pick(dirModes)), true)
			g.dirs = append(g.dirs, p)
		case w < 72:
			n = g.meta(testtree.L(p, g.target(parent, p)), false)
		case w < 84 && len(g.linkable) > 0:
			n = testtree.H(p, g.linkable[r.IntN(len(g.linkable))])
		case w < 89:
			n = g.meta(testtree.N(p, testtree.FIFO, g.pick(specialModes), 0), false)
		case w < 93:
			n = g.meta(testtree.N(p, testtree.CharDev, g.pick(specialModes), unix.Mkdev(uint32(r.IntN(300)), uint32(r.IntN(70000)))), false)
		case w < 96:
			n = g.meta(testtree.N(p, testtree.BlockDev, g.pick(specialModes), unix.Mkdev(uint32(r.IntN(300)), uint32(r.IntN(300)))), false)
		default:
			n = g.meta(testtree.N(p, testtree.Socket, g.pick(specialModes), 0), false)
		}
		g.nodes = append(g.nodes, n)
		if n.Kind != testtree.Dir {
			g.linkable = append(g.linkable, p)
		}
		g.all = append(g.all, p)
	}
	return g.nodes
}

var (
	fileModes    = []uint32{0o644, 0o600, 0o755, 0o000, 0o444, 0o4755, 0o2755, 0o6755, 0o1644, 0o7777, 0o640, 0o111, 0o200, 0o4000}
	dirModes     = []uint32{0o755, 0o700, 0o555, 0o000, 0o1777, 0o2775, 0o500, 0o311, 0o3777, 0o750}
	specialModes = []uint32{0o644, 0o600, 0o000, 0o666, 0o4644, 0o1755}
	ownerIDs     = []int{1000, 65534, 4242, 123456789}
)

type treeGen struct {
	r        *rand.Rand
	nodes    []testtree.Node
	dirs     []string // directories made so far, "." first
	linkable []string // non-directories, for hardlinks
	all      []string // every entry but the root, for symlink targets
}

func (g *treeGen) pick(modes []uint32) uint32 { return modes[g.r.IntN(len(modes))] }

// name returns the i-th entry's name, unique because it holds i.
func (g *treeGen) name(i int) string {
	switch g.r.IntN(12) {
	case 0:
		return fmt.Sprintf("with space %d", i)
	case 1:
		return fmt.Sprintf("new\nline%d", i)
	case 2:
		return fmt.Sprintf("-dash%d", i)
	case 3:
		return fmt.Sprintf("\xff\xfebad%d", i)
	case 4:
		return fmt.Sprintf(".hidden%d", i)
	case 5:
		s := strconv.Itoa(i)
		return s + strings.Repeat("L", 255-len(s))
	case 6:
		return fmt.Sprintf("ünï%d", i)
	case 7:
		return fmt.Sprintf("b%d~", i)
	default:
		return fmt.Sprintf("n%d", i)
	}
}

func (g *treeGen) size() int {
	switch g.r.IntN(8) {
	case 0:
		return 0
	case 1:
		return 1 + g.r.IntN(100)
	case 2:
		return 4095 + g.r.IntN(3)
	case 3:
		return 65536
	default:
		return g.r.IntN(200000)
	}
}

func (g *treeGen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}

// sparse is a file of up to 2 MiB with up to three data runs, aligned or
// not, of random bytes or of zeros, and holes at the start, between them or
// at the end.
func (g *treeGen) sparse(p string) testtree.Node {
	size := int64(1+g.r.IntN(512)) * 4096
	if g.r.IntN(2) == 0 {
		size += int64(g.r.IntN(4096))
	}
	var segs []testtree.Seg
	for range g.r.IntN(4) {
		off := int64(g.r.IntN(int(size)))
		if g.r.IntN(3) != 0 {
			off &^= 4095
		}
		n := min(int64(1+g.r.IntN(128<<10)), size-off)
		data := make([]byte, n) // sometimes zeros that are data, not holes
		if g.r.IntN(4) != 0 {
			data = g.bytes(int(n))
		}
		segs = append(segs, testtree.Data(off, data))
	}
	return testtree.S(p, size, segs...)
}

// target is a symlink target for an entry at p in parent.
func (g *treeGen) target(parent, p string) string {
	up := ""
	if parent != "." {
		up = strings.Repeat("../", strings.Count(parent, "/")+1)
	}
	switch w := g.r.IntN(10); {
	case w < 4 && len(g.all) > 0:
		return up + g.all[g.r.IntN(len(g.all))]
	case w < 5:
		return "/nonexistent/" + strconv.Itoa(g.r.IntN(100))
	case w < 6:
		return "/etc"
	case w < 7:
		return filepath.Base(p) // itself
	case w < 8:
		return []string{".", ".."}[g.r.IntN(2)]
	default:
		return fmt.Sprintf("dangling\n\xff%d", g.r.IntN(100))
	}
}

// meta gives n a random owner, mtime and xattrs; xattrs in the user.
// namespace only where the kernel allows them (files and directories).
func (g *treeGen) meta(n testtree.Node, userXattrs bool) testtree.Node {
	r := g.r
	if r.IntN(3) == 0 {
		n = n.Own(ownerIDs[r.IntN(len(ownerIDs))], ownerIDs[r.IntN(len(ownerIDs))])
	}
	switch r.IntN(6) {
	case 0:
		n = n.At(0, 0)
	case 1:
		n = n.At(-1-r.Int64N(1e9), r.Int64N(1e9))
	case 2:
		n = n.At(4e9+r.Int64N(9e9), r.Int64N(1e9)) // past 2106, before 2400
	default:
		n = n.At(r.Int64N(2e9), r.Int64N(1e9))
	}
	if userXattrs && r.IntN(3) == 0 {
		for i := range 1 + r.IntN(3) {
			n = n.Xattr(fmt.Sprintf("user.r%d", i), string(g.bytes(r.IntN(100))))
		}
	}
	if r.IntN(6) == 0 {
		n = n.Xattr("trusted.r", string(g.bytes(r.IntN(50))))
	}
	if r.IntN(8) == 0 {
		n = n.Xattr("security.r", string(g.bytes(1+r.IntN(50))))
	}
	if userXattrs && r.IntN(8) == 0 {
		rwx := func() string { return []string{"---", "r--", "rw-", "r-x", "rwx"}[r.IntN(5)] }
		n = n.ACL(fmt.Sprintf("u::%s,u:%d:%s,g::%s,m::%s,o::%s", rwx(), ownerIDs[r.IntN(len(ownerIDs))], rwx(), rwx(), rwx(), rwx()), "")
	}
	if n.Kind == testtree.Dir && r.IntN(8) == 0 {
		n = n.ACL("", fmt.Sprintf("u::rwx,g::r-x,g:%d:rwx,m::rwx,o::---", ownerIDs[r.IntN(len(ownerIDs))]))
	}
	return n
}
