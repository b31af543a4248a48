package tree

import (
	"strings"
	"testing"

	"github.com/cowcp/cowcp/tree/cpmsg"
	"golang.org/x/sys/unix"
)

func TestFSTypeNamesMountsAndMagics(t *testing.T) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/version", &st); err != nil {
		t.Fatal(err)
	}
	// The mount table lists /proc's device: no path is needed.
	if got := fsType(st.Dev, "/no/such/path"); got != "proc" {
		t.Errorf("fsType of /proc's device = %q, want proc", got)
	}
	// A device no mount has: the type comes from statfs's magic number,
	// of the first path that exists.
	noMount := unix.Mkdev(4095, 1048575)
	if got := fsType(noMount, "/no/such/path", "/proc/version"); got != "proc" {
		t.Errorf("fsType by magic = %q, want proc", got)
	}
	if got := fsType(noMount, "/no/such/path"); got != "" {
		t.Errorf("fsType of nothing = %q, want \"\"", got)
	}
}

func TestNotClonedNamesFilesystemsAndReason(t *testing.T) {
	var s Stats
	var st unix.Stat_t
	if err := unix.Stat("/proc/version", &st); err != nil {
		t.Fatal(err)
	}
	// The reason is the errno's, however wrapped.
	s.notCloned(&fallbackNote{pair: pair{src: st.Dev, dst: st.Dev}, src: "/proc/version", dst: "/proc/gone/x",
		err: &cpmsg.PathError{Op: "cannot clone", Path: "x", Err: unix.EXDEV}})
	want := NotCloned{Src: "/proc/version", Dst: "/proc/gone/x", SrcFS: "proc", DstFS: "proc",
		Reason: "Invalid cross-device link"}
	if len(s.NotCloned) != 1 || s.NotCloned[0] != want {
		t.Errorf("NotCloned %+v, want [%+v]", s.NotCloned, want)
	}
	s.NotCloned = nil
	s.notCloned(&fallbackNote{src: "a", dst: "b", err: unix.EOPNOTSUPP})
	if s.NotCloned[0].Reason != "Operation not supported" {
		t.Errorf("reason %q", s.NotCloned[0].Reason)
	}
}

func TestNotClonedSummary(t *testing.T) {
	var s Stats
	if got := s.NotClonedSummary(); got != "" {
		t.Errorf("no pairs: %q", got)
	}
	s.NotCloned = []NotCloned{
		{SrcFS: "btrfs", DstFS: "ext4", Reason: "Invalid cross-device link"},
		{Src: "a b", SrcFS: "", DstFS: "tmpfs", Reason: "Operation not supported"},
	}
	want := "not cloned: btrfs → ext4 (Invalid cross-device link), 'a b' → tmpfs (Operation not supported), copied instead"
	if got := s.NotClonedSummary(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	for range 4 {
		s.NotCloned = append(s.NotCloned, NotCloned{SrcFS: "xfs", DstFS: "ext4", Reason: "r"})
	}
	if got := s.NotClonedSummary(); !strings.HasSuffix(got, ", 3 more, copied instead") || strings.Count(got, "→") != 3 {
		t.Errorf("six pairs: %q, want three named and 3 more", got)
	}
}
