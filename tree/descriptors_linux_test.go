package tree

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/cowcp/cowcp/internal/testtree"
	"golang.org/x/sys/unix"
)

// No descriptor outlives Close, whatever the copy did: failures,
// --dry-run, --parents, hard links, -l, replacing through symbolic links,
// backups, --remove-destination, an interrupt.
func TestNoDescriptorOutlivesClose(t *testing.T) {
	build := func(t *testing.T) (src, dst string) {
		root := t.TempDir()
		src, dst = filepath.Join(root, "src"), filepath.Join(root, "dst")
		for _, d := range []string{"src/d1/d2", "src/e", "dst/d1", "other"} {
			if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for i, n := range []string{"a", "d1/b", "d1/d2/c", "e/f"} {
			writeFile(t, filepath.Join(src, n), testtree.Bytes(uint64(i), 20<<10+i), 0o644)
		}
		os.Link(filepath.Join(src, "a"), filepath.Join(src, "d1/d2/a2"))
		os.Symlink("a", filepath.Join(src, "sl"))
		unix.Mkfifo(filepath.Join(src, "fifo"), 0o644)
		writeFile(t, filepath.Join(dst, "d1/b"), []byte("old"), 0o644)
		writeFile(t, filepath.Join(root, "other/t"), []byte("old"), 0o644)
		os.Symlink("../../other/t", filepath.Join(dst, "d1/d2"))
		return src, dst
	}
	failing := &spy{clone: cloneErr(unix.EOPNOTSUPP), copyRange: func(d, s *os.File, off, n int64) (int64, error) {
		return 0, &os.PathError{Op: "copy_file_range", Path: d.Name(), Err: unix.EIO}
	}}
	for _, tc := range []struct {
		name   string
		opts   Options
		spy    *spy
		cancel bool
	}{
		{"plain", Options{Recursive: true}, nil, false},
		{"archive", Options{Recursive: true, Preserve: Preserve{Mode: true, Timestamps: true, Links: true, Xattr: true}}, nil, false},
		{"errors", Options{Recursive: true, Preserve: Preserve{Links: true}}, failing, false},
		{"dry-run", Options{Recursive: true, DryRun: true, Preserve: Preserve{Links: true}}, nil, false},
		{"parents", Options{Recursive: true, Parents: true}, nil, false},
		{"link", Options{Recursive: true, HardLink: true, Force: true}, nil, false},
		{"backup", Options{Recursive: true, Backup: BackupNumbered}, nil, false},
		{"remove", Options{Recursive: true, Overwrite: OverwriteRemoveFirst}, nil, false},
		{"interrupted", Options{Recursive: true, Preserve: Preserve{Links: true}}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := build(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			tc.opts.Jobs, tc.opts.MeasureFS = 3, true
			if tc.cancel {
				tc.opts.Observe = func(Event) { cancel() }
			}
			if tc.opts.Parents {
				t.Chdir(filepath.Dir(src)) // before counting: t.Chdir keeps a descriptor
			}
			before := testtree.OpenFds(t)
			c := New(ctx, tc.opts)
			if tc.spy != nil {
				tc.spy.install(t, c)
			}
			if tc.opts.Parents {
				runCopies(t, c, filepath.Join(dst, "src/d1/d2"), "src/d1/d2", filepath.Join(dst, "src/e/f"), "src/e/f")
			} else {
				runCopies(t, c, filepath.Join(dst, "copy"), src, filepath.Join(dst, "d1"), filepath.Join(src, "d1"))
			}
			testtree.FdsLeft(t, before)
		})
	}
}
