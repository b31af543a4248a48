package tree

import (
	"math"
	"testing"
)

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
		{"ManyErrors", Stats{Errors: 1234, Seconds: 2},
			"0 files, 0 B: 0 B cloned, 0 B copied — saved 0 B (0%) in 2.00 s, 1,234 errors"},
	}
	for _, tc := range cases {
		if got := tc.s.Summary(); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestThousands(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0"}, {7, "7"}, {999, "999"}, {1000, "1,000"}, {15036, "15,036"},
		{100000, "100,000"}, {999999, "999,999"}, {1234567, "1,234,567"},
		{-1, "-1"}, {-999, "-999"}, {-1000, "-1,000"}, {-123456, "-123,456"},
		{math.MaxInt64, "9,223,372,036,854,775,807"},
		{math.MinInt64, "-9,223,372,036,854,775,808"},
	} {
		if got := Thousands(tc.n); got != tc.want {
			t.Errorf("Thousands(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestHumanBytes(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {1, "1 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"},
		{10 << 10, "10.0 KiB"}, {232492236, "221.7 MiB"}, {1 << 20, "1.0 MiB"},
		{1 << 30, "1.0 GiB"}, {3 << 40, "3.0 TiB"}, {1 << 50, "1.0 PiB"}, {1 << 60, "1.0 EiB"},
		{math.MaxInt64, "8.0 EiB"}, {-1023, "-1023 B"}, {-2048, "-2.0 KiB"},
	} {
		if got := HumanBytes(tc.n); got != tc.want {
			t.Errorf("HumanBytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

// A count just under a unit boundary is the next unit, not "1024.0 KiB"
// (the unit must be chosen after rounding; fixed in 651e329).
func TestHumanBytesRoundsUpToNextUnit(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{1<<20 - 1, "1.0 MiB"},
		{1<<30 - 1, "1.0 GiB"},
		{1<<20 - 40, "1.0 MiB"}, // 1023.96 KiB
	} {
		if got := HumanBytes(tc.n); got != tc.want {
			t.Errorf("HumanBytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
