package tests

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// cowcpReport is cowcp's --json report; with --dry-run it also has Plan.
// Pointers tell a missing field from a zero one.
type cowcpReport struct {
	Version     int   `json:"version"`
	Files       int64 `json:"files"`
	Dirs        int64 `json:"dirs"`
	Symlinks    int64 `json:"symlinks"`
	Bytes       int64 `json:"bytes"`
	ClonedBytes int64 `json:"cloned_bytes"`
	CopiedBytes int64 `json:"copied_bytes"`
	HoleBytes   int64 `json:"hole_bytes"`
	SavedBytes  int64 `json:"saved_bytes"`
	Skipped     int64 `json:"skipped"`
	SkippedWhy  struct {
		Exists   int64 `json:"exists"`
		NotNewer int64 `json:"not_newer"`
		Declined int64 `json:"declined"`
		Same     int64 `json:"same"`
	} `json:"skipped_why"`
	Changed      int64    `json:"changed"`
	ChangedFiles []string `json:"changed_files"`
	FSUsedBytes  *int64   `json:"fs_used_bytes"`
	FSMeasured   *bool    `json:"fs_measured"`
	NeededBytes  int64    `json:"needed_bytes"`
	FreeBytes    int64    `json:"free_bytes"`
	Errors       int64    `json:"errors"`
	Interrupted  bool     `json:"interrupted"`
	Methods      struct {
		Ficlone       int64 `json:"ficlone"`
		Ficlonerange  int64 `json:"ficlonerange"`
		CopyFileRange int64 `json:"copy_file_range"`
		Sparse        int64 `json:"sparse"`
		ReadWrite     int64 `json:"readwrite"`
		Shared        int64 `json:"shared"`
	} `json:"methods"`
	Failures []struct {
		Path  string `json:"path"`
		Error string `json:"error"`
	} `json:"failures"`
	Plan []struct {
		Src    string `json:"src"`
		Dst    string `json:"dst"`
		Action string `json:"action"`
		Reason string `json:"reason"`
		Bytes  int64  `json:"bytes"`
	} `json:"plan"`
}

// parseReport parses the single JSON object cowcp --json printed on stdout,
// and checks that cloned_bytes + copied_bytes + hole_bytes = bytes.
func parseReport(t testing.TB, r result) cowcpReport {
	t.Helper()
	var rep cowcpReport
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("cowcp --json: stdout is not a JSON report: %v\nstdout: %.2000s\nstderr: %.2000s", err, r.stdout, r.stderr)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("cowcp --json printed more than one object:\n%.2000s", r.stdout)
	}
	if rep.ClonedBytes+rep.CopiedBytes+rep.HoleBytes != rep.Bytes {
		t.Errorf("report: cloned_bytes %d + copied_bytes %d + hole_bytes %d != bytes %d",
			rep.ClonedBytes, rep.CopiedBytes, rep.HoleBytes, rep.Bytes)
	}
	if rep.Version != 1 {
		t.Errorf("report: version %d, want 1", rep.Version)
	}
	return rep
}
