//go:build linux

package eintr

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestIgnoringRetriesOnlyEINTR(t *testing.T) {
	errs := []error{unix.EINTR, unix.EINTR, unix.EIO, nil}
	calls := 0
	err := Ignoring(func() error { calls++; return errs[calls-1] })
	if err != unix.EIO || calls != 3 {
		t.Errorf("Ignoring = %v after %d calls, want EIO after 3", err, calls)
	}
}

func TestIgnoring2ReturnsTheValueOfTheLastCall(t *testing.T) {
	calls := 0
	v, err := Ignoring2(func() (int, error) {
		calls++
		if calls < 3 {
			return -1, unix.EINTR
		}
		return 7, nil
	})
	if v != 7 || err != nil || calls != 3 {
		t.Errorf("Ignoring2 = %d, %v after %d calls, want 7, nil after 3", v, err, calls)
	}
}
