package tree

import (
	"bytes"
	"strconv"

	"github.com/cowcp/cowcp/internal/eintr"
	"golang.org/x/sys/unix"
)

// processUmask returns the process's umask without changing it.
//
// umask(2) cannot just read the mask: it sets a new one and returns the
// old. Reading it with umask(0) and putting it back with umask(old) leaves
// a window in which any other goroutine of the program creates files and
// directories with no mask at all. Linux 4.7 and later show the mask in
// /proc/self/status ("Umask:\t0022"); only where that line is missing (an
// older kernel, no /proc) does this fall back to the umask(0)/umask(old)
// pair.
func processUmask() uint32 { return readUmask("/proc/self/status") }

// readUmask is processUmask reading the status file at path.
func readUmask(path string) uint32 {
	if status, err := readSmallFile(path); err == nil {
		if mask, ok := statusUmask(status); ok {
			return mask
		}
	}
	old := unix.Umask(0)
	unix.Umask(old)
	return uint32(old)
}

// readSmallFile reads a /proc file with bare system calls: os.ReadFile
// would start Go's network poller (epoll, an eventfd and their calls) on
// every run, for a file that is read in two reads.
func readSmallFile(path string) ([]byte, error) {
	fd, err := openQuick(unix.AT_FDCWD, path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer closeQuick(fd)
	buf := make([]byte, 0, 4096)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := eintr.Ignoring2(func() (int, error) { return unix.Read(fd, buf[len(buf):cap(buf)]) })
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}

// statusUmask finds the umask in the text of a /proc/PID/status file: the
// octal number on its "Umask:" line.
func statusUmask(status []byte) (uint32, bool) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("Umask:"))
		if !ok {
			continue
		}
		mask, err := strconv.ParseUint(string(bytes.TrimSpace(rest)), 8, 32)
		if err != nil || mask&^0o777 != 0 {
			return 0, false
		}
		return uint32(mask), true
	}
	return 0, false
}
