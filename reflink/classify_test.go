package reflink

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want Class
	}{
		{"EXDEV", unix.EXDEV, FSUnsupported},
		{"EOPNOTSUPP", unix.EOPNOTSUPP, FSUnsupported},
		{"ENOTSUP", unix.ENOTSUP, FSUnsupported}, // the same number on Linux
		{"ENOTTY", unix.ENOTTY, FSUnsupported},
		{"ENOSYS", unix.ENOSYS, FSUnsupported},
		{"EINVAL", unix.EINVAL, FileUnsupported},
		{"ETXTBSY", unix.ETXTBSY, FileUnsupported},
		{"EPERM", unix.EPERM, FileUnsupported},
		{"EIO", unix.EIO, Failed},
		{"ENOSPC", unix.ENOSPC, Failed},
		{"EDQUOT", unix.EDQUOT, Failed},
		{"EBADF", unix.EBADF, Failed},
		{"EFBIG", unix.EFBIG, Failed},
		{"EISDIR", unix.EISDIR, Failed},
		{"EINTR", unix.EINTR, Failed},
		{"EACCES", unix.EACCES, Failed},
		{"errno 0", unix.Errno(0), Failed},
		{"nil", nil, Failed},
		{"not an errno", errors.New("operation not supported"), Failed},
		{"fs.ErrInvalid", fs.ErrInvalid, Failed},
		{"errors.ErrUnsupported", errors.ErrUnsupported, Failed},
	}
	wraps := []struct {
		name string
		wrap func(error) error
	}{
		{"bare", func(err error) error { return err }},
		{"PathError", func(err error) error {
			return &os.PathError{Op: "clone from /s", Path: "/d", Err: err}
		}},
		{"Errorf %w", func(err error) error { return fmt.Errorf("cloning: %w", err) }},
		{"Errorf %w of PathError", func(err error) error {
			return fmt.Errorf("copy 'a': %w", &os.PathError{Op: "clone", Path: "/d", Err: err})
		}},
		{"SyscallError", func(err error) error { return os.NewSyscallError("ioctl", err) }},
		{"Join", func(err error) error { return errors.Join(errors.New("context"), err) }},
	}
	for _, tc := range cases {
		for _, w := range wraps {
			if tc.err == nil && w.name != "bare" {
				continue // wrapping nil is not an error value worth classifying
			}
			t.Run(tc.name+"/"+w.name, func(t *testing.T) {
				err := w.wrap(tc.err)
				if got := Classify(err); got != tc.want {
					t.Errorf("Classify(%v) = %v, want %v", err, got, tc.want)
				}
				wantUnsupported := tc.want != Failed
				if tc.err == nil {
					wantUnsupported = false
				}
				if got := Unsupported(err); got != wantUnsupported {
					t.Errorf("Unsupported(%v) = %v, want %v", err, got, wantUnsupported)
				}
			})
		}
	}
}

// An error text that merely looks like an errno must not be trusted: only
// the errno value decides.
func TestClassifyIgnoresText(t *testing.T) {
	err := fmt.Errorf("clone: %v", unix.EOPNOTSUPP) // %v, not %w: the errno is gone
	if got := Classify(err); got != Failed {
		t.Errorf("Classify(%q) = %v, want Failed", err, got)
	}
}

func TestClassString(t *testing.T) {
	seen := map[string]Class{}
	for _, c := range []Class{Failed, FileUnsupported, FSUnsupported} {
		s := c.String()
		if s == "" {
			t.Errorf("Class(%d).String() is empty", int(c))
		}
		if prev, dup := seen[s]; dup {
			t.Errorf("Class %d and %d both print %q", int(prev), int(c), s)
		}
		seen[s] = c
	}
}
