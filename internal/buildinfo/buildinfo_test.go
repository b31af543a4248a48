package buildinfo

import "testing"

func TestString(t *testing.T) {
	for _, tc := range []struct {
		in   Info
		want string
	}{
		{Info{Version: "v1.2.3"}, "v1.2.3"},
		{Info{Version: "v1.2.3", Commit: "abc", Date: "2026-11-30T12:00:00Z"}, "v1.2.3 (commit abc, 2026-11-30T12:00:00Z)"},
		{Info{Version: "(devel)", Commit: "abc", Modified: true}, "(devel) (commit abc, modified)"},
	} {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The release's stamps win over what the toolchain recorded.
func TestReadStamped(t *testing.T) {
	defer func(v, c, d string) { version, commit, date = v, c, d }(version, commit, date)
	version, commit, date = "v9.9.9", "feedface", "2026-11-30T00:00:00Z"
	in := Read()
	if in.Version != "v9.9.9" || in.Commit != "feedface" || in.Date != "2026-11-30T00:00:00Z" {
		t.Errorf("Read() = %+v, want the stamped values", in)
	}
}

// Unstamped, a test binary still has a version to print.
func TestReadUnstamped(t *testing.T) {
	if v := Read().Version; v == "" {
		t.Error("Read().Version is empty")
	}
}
