package tree

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkCopyTree copies a tree of 2,000 small files and 100
// directories per iteration, on the filesystem of the temporary directory
// (set TMPDIR to a btrfs or XFS mount to measure clones). It reports the
// time and allocations per tree; -benchmem shows that memory stays flat.
//
//	go test -run '^$' -bench CopyTree -benchmem ./tree
func BenchmarkCopyTree(b *testing.B) {
	src := filepath.Join(b.TempDir(), "src")
	for d := range 100 {
		dir := filepath.Join(src, fmt.Sprintf("d%03d", d))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := range 20 {
			data := make([]byte, 512+f*300)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%02d", f)), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	out := b.TempDir()
	opts := Options{Recursive: true, Deref: DerefNever,
		Preserve: Preserve{Mode: true, Ownership: true, Timestamps: true, Links: true, Xattr: true}}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c := New(context.Background(), opts)
		c.Copy(filepath.Join(out, fmt.Sprint(i)), src)
		if st := c.Close(); st.Errors != 0 || st.Files != 2000 {
			b.Fatalf("copied %d files with %d errors: %v", st.Files, st.Errors, st.Failures)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/2000, "ns/file")
}
