package fstest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// mountEntry is one line of /proc/self/mountinfo (proc(5)).
type mountEntry struct {
	id, parent int
	point      string // the mount point
	fstype     string
	source     string // the device, for a loop mount /dev/loopN
}

// mountsAt returns the mounts on the directory point, oldest first.
func mountsAt(point string) ([]mountEntry, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var at []mountEntry
	for line := range strings.SplitSeq(strings.TrimSpace(string(b)), "\n") {
		m, err := parseMountinfo(line)
		if err != nil {
			return nil, err
		}
		if m.point == point {
			at = append(at, m)
		}
	}
	return at, nil
}

// topMount returns the mount a path lookup of point reaches, the one no
// other mount on point is stacked on, or nil if nothing is mounted there.
func topMount(point string) (*mountEntry, error) {
	at, err := mountsAt(point)
	if err != nil {
		return nil, err
	}
	for i, m := range at {
		covered := false
		for _, o := range at {
			covered = covered || o.parent == m.id
		}
		if !covered {
			return &at[i], nil
		}
	}
	return nil, nil
}

// parseMountinfo parses "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3
// /dev/root rw,errors=continue": an ID, the parent's ID, major:minor, root,
// mount point, options, optional fields ended by "-", then the type and
// source.
func parseMountinfo(line string) (mountEntry, error) {
	f := strings.Fields(line)
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if sep < 0 || sep+2 >= len(f) {
		return mountEntry{}, fmt.Errorf("/proc/self/mountinfo: cannot parse %q", line)
	}
	id, err1 := strconv.Atoi(f[0])
	parent, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return mountEntry{}, fmt.Errorf("/proc/self/mountinfo: cannot parse %q", line)
	}
	return mountEntry{id: id, parent: parent, point: unescapeOctal(f[4]), fstype: f[sep+1], source: unescapeOctal(f[sep+2])}, nil
}

// unescapeOctal undoes the kernel's \ooo escapes of space, tab, newline and
// backslash in mountinfo's paths.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return '0' <= c && c <= '7' }
