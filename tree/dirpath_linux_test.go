package tree

import (
	"strconv"
	"testing"
)

// A directory's display paths are its parents' joined to its names, as
// joinDisplay joins them, whether the handles keep them (short paths) or
// make them when asked (deeper than shownMax).
func TestDirPathsJoinAsDisplayed(t *testing.T) {
	for _, tc := range []struct{ srcOp, dstOp, top string }{
		{"", "", "src"},
		{"", "out/", "src/"},
		{"", "/", "a/b/"},
	} {
		op := &dirHandle{operand: true, shown: true, shownSrc: tc.srcOp, shownDst: tc.dstOp}
		wantSrc, wantDst := joinDisplay(tc.srcOp, tc.top), joinDisplay(tc.dstOp, "copy")
		d := &dirHandle{}
		d.named(op, tc.top, "copy")
		for level := 0; level < 1200; level++ {
			if got := d.src(); got != wantSrc {
				t.Fatalf("level %d: src %.80q…, want %.80q…", level, got, wantSrc)
			}
			if got := d.dst(); got != wantDst {
				t.Fatalf("level %d: dst %.80q…, want %.80q…", level, got, wantDst)
			}
			name := strconv.Itoa(level) + "-xxx"
			child := &dirHandle{}
			child.named(d, name, name+"d")
			wantSrc, wantDst = joinDisplay(wantSrc, name), joinDisplay(wantDst, name+"d")
			d = child
		}
		if d.shown {
			t.Errorf("a path of %d bytes is kept", len(wantSrc))
		}
	}
}
