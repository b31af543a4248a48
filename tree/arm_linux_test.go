package tree

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cowcp/cowcp/internal/testtree"
)

// Options.Arm comes before anything only an orderly stop undoes — here a
// replacement's temporary name — and before workers start; a copy of one
// new file, which stays unnamed until complete, never calls it.
func TestArmBeforeCleanupIsNeeded(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "f")
	testtree.WriteRandom(t, src, 4096, 1)
	copyArmed := func(opts Options, dst, src string) int {
		t.Helper()
		armed := 0
		opts.Arm = func() {
			armed++
			ents, _ := os.ReadDir(filepath.Dir(dst))
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), ".cowcp-") {
					t.Errorf("armed after %s was made", e.Name())
				}
			}
		}
		c := New(context.Background(), opts)
		c.Copy(dst, src)
		if st := c.Close(); st.Errors != 0 {
			t.Fatalf("copy failed: %v", st.Failures)
		}
		return armed
	}
	if n := copyArmed(Options{}, filepath.Join(dir, "new"), src); n != 0 {
		t.Errorf("a new file's copy armed %d times, want 0", n)
	}
	if n := copyArmed(Options{}, filepath.Join(dir, "new"), src); n == 0 {
		t.Error("replacing a file did not arm before its temporary name")
	}
	tree := filepath.Join(dir, "tree")
	var nodes []testtree.Node
	for i := range 100 {
		nodes = append(nodes, testtree.F(fmt.Sprintf("f%03d", i), 0o644, []byte("x")))
	}
	testtree.Build(t, tree, nodes)
	if n := copyArmed(Options{Recursive: true}, filepath.Join(dir, "tree2"), tree); n == 0 {
		t.Error("100 files started workers without arming")
	}
}
