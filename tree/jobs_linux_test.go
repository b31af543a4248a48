package tree

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestManyJobsAreBounded copies a tree with a number of workers nobody
// means (cowcp -j 1000000000): the copy is made with at most maxJobs
// workers, instead of dying out of memory making a queue for them all.
func TestManyJobsAreBounded(t *testing.T) {
	if got := withDefaults(Options{Jobs: 1 << 40}).Jobs; got != maxJobs {
		t.Errorf("Jobs 1<<40 runs %d workers, want %d", got, maxJobs)
	}
	if got := withDefaults(Options{Jobs: 3}).Jobs; got != 3 {
		t.Errorf("Jobs 3 runs %d workers", got)
	}
	src, dst := filepath.Join(t.TempDir(), "src"), filepath.Join(t.TempDir(), "dst")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	const files = 100 // more than a batch: the workers start
	for i := range files {
		if err := os.WriteFile(filepath.Join(src, strconv.Itoa(i)), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := New(context.Background(), Options{Recursive: true, Jobs: 1_000_000_000})
	c.Copy(dst, src)
	if s := c.Close(); s.Files != files || s.Errors != 0 {
		t.Errorf("copied %d files with %d errors, want %d and none", s.Files, s.Errors, files)
	}
}
