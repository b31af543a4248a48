package tree

import (
	"bytes"
	"os"
	"strconv"

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
	if status, err := os.ReadFile(path); err == nil {
		if mask, ok := statusUmask(status); ok {
			return mask
		}
	}
	old := unix.Umask(0)
	unix.Umask(old)
	return uint32(old)
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
