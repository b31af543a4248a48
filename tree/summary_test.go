package tree

import "testing"

func TestSummary(t *testing.T) {
	const mib2217 = 232492236 // 221.7 MiB
	cases := []struct {
		name string
		s    Stats
		want string
	}{
		{"Contract", Stats{Files: 15036, Bytes: mib2217, ClonedBytes: mib2217, SavedBytes: mib2217, Seconds: 0.61},
			"15,036 files, 221.7 MiB: 221.7 MiB cloned, 0 B copied — saved 221.7 MiB (100%) in 0.61 s"},
		{"Nothing", Stats{},
			"0 files, 0 B: 0 B cloned, 0 B copied — saved 0 B (0%) in 0.00 s"},
		{"OneFile", Stats{Files: 1, Bytes: 1000, CopiedBytes: 1000, Seconds: 0.004},
			"1 file, 1000 B: 0 B cloned, 1000 B copied — saved 0 B (0%) in 0.00 s"},
		{"Half", Stats{Files: 2, Bytes: 4 << 20, ClonedBytes: 2 << 20, CopiedBytes: 2 << 20, SavedBytes: 2 << 20, Seconds: 12.345},
			"2 files, 4.0 MiB: 2.0 MiB cloned, 2.0 MiB copied — saved 2.0 MiB (50%) in 12.35 s"},
		{"OneError", Stats{Files: 3, Bytes: 3, CopiedBytes: 3, Errors: 1, Seconds: 1},
			"3 files, 3 B: 0 B cloned, 3 B copied — saved 0 B (0%) in 1.00 s, 1 error"},
		{"SparseClone", Stats{Files: 1, Bytes: 4 << 30, ClonedBytes: 14 << 20, HoleBytes: 4<<30 - 14<<20, SavedBytes: 14 << 20, Seconds: 0.01},
			"1 file, 4.0 GiB: 14.0 MiB cloned, 0 B copied, 4.0 GiB holes — saved 14.0 MiB (100%) in 0.01 s"},
		{"SkippedOneReason", Stats{Skipped: 15038, SkippedWhy: SkipCounts{NotNewer: 15038}, Seconds: 0.2},
			"0 files, 0 B: 0 B cloned, 0 B copied — saved 0 B (0%) in 0.20 s, 15,038 skipped (not newer)"},
		{"SkippedReasons", Stats{Files: 1, Bytes: 1, CopiedBytes: 1, Skipped: 5, SkippedWhy: SkipCounts{Exists: 3, Declined: 2}, Changed: 1, Errors: 2, Seconds: 1},
			"1 file, 1 B: 0 B cloned, 1 B copied — saved 0 B (0%) in 1.00 s, 5 skipped (3 existing, 2 declined), 1 changed while read, 2 errors"},
		{"ManyErrors", Stats{Errors: 1234, Seconds: 2},
			"0 files, 0 B: 0 B cloned, 0 B copied — saved 0 B (0%) in 2.00 s, 1,234 errors"},
	}
	for _, tc := range cases {
		if got := tc.s.Summary(); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}
