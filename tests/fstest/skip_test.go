package fstest

import (
	"slices"
	"strings"
	"testing"
)

func TestSkipFailsUnderCI(t *testing.T) {
	for _, tc := range []struct {
		ci   string
		want string
	}{{"true", "fatal"}, {"", "skip"}, {"false", "skip"}} {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			r := newRecorder(t)
			r.do(func() { RequireTools(r, "sh", "fstest-no-such-program") })
			reps := r.take()
			if len(reps) != 1 || !strings.HasPrefix(reps[0], tc.want+": ") ||
				!strings.Contains(reps[0], "fstest-no-such-program") {
				t.Errorf("RequireTools with a missing program reported %q, want one %s naming it", reps, tc.want)
			}
		})
	}
}

func TestRequireToolsPresent(t *testing.T) {
	t.Setenv("CI", "true")
	r := newRecorder(t)
	r.do(func() { RequireTools(r, "sh") })
	if reps := r.take(); !slices.Equal(reps, nil) {
		t.Errorf("RequireTools(sh) reported %q", reps)
	}
}
