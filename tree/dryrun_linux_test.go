package tree

import (
	"os"
	"path/filepath"
	"testing"
)

// --dry-run --parents plans each operand as the run copies it, though the
// parent directories the run would make are not there, and makes nothing.
func TestDryRunParentsPlansTheCopy(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"a/b", "dest"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(root, "a/b/f"), []byte("data"), 0o644)
	t.Chdir(root)
	for _, tc := range []struct {
		name, src string
		recursive bool
	}{{"file", "a/b/f", false}, {"dir", "a/b", true}} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := testCopier(t, Options{Jobs: 2, DryRun: true, Parents: true, Recursive: tc.recursive}, nil)
			st := runCopies(t, c, "dest/"+tc.src, tc.src)
			if st.Errors != 0 || st.Files != 1 {
				t.Errorf("dry run of --parents %s: %d files, %d errors %v; want 1 file, no error",
					tc.src, st.Files, st.Errors, st.Failures)
			}
			if ents, _ := os.ReadDir("dest"); len(ents) != 0 {
				t.Errorf("--dry-run created %v in dest", ents)
			}
		})
	}
}
