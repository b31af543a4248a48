package tree

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// fsType names the type of the filesystem with device dev: as the mount
// table lists it ("ext4", "fuse.sshfs"), or, where the table does not list
// dev (btrfs gives each subvolume a device number of its own), by the
// statfs magic number of the first of paths, names on it, that exists. It
// returns "" when neither says.
func fsType(dev uint64, paths ...string) string {
	if t := mountType(dev); t != "" {
		return t
	}
	for _, p := range paths {
		var s unix.Statfs_t
		if statfs(p, &s) == nil {
			return fsMagics[fsMagic(&s)]
		}
	}
	return ""
}

// fsMagics names the filesystems cowcp meets most, by statfs f_type.
var fsMagics = map[int64]string{
	unix.BTRFS_SUPER_MAGIC:     "btrfs",
	unix.XFS_SUPER_MAGIC:       "xfs",
	unix.EXT4_SUPER_MAGIC:      "ext4", // also ext2 and ext3, which the ext4 driver mounts today
	unix.TMPFS_MAGIC:           "tmpfs",
	unix.BCACHEFS_SUPER_MAGIC:  "bcachefs",
	0x2fc12fc1:                 "zfs", // ZFS_SUPER_MAGIC, which the kernel headers lack
	unix.F2FS_SUPER_MAGIC:      "f2fs",
	unix.NFS_SUPER_MAGIC:       "nfs",
	unix.CIFS_SUPER_MAGIC:      "cifs",
	unix.SMB2_SUPER_MAGIC:      "smb3",
	unix.OCFS2_SUPER_MAGIC:     "ocfs2",
	unix.FUSE_SUPER_MAGIC:      "fuse",
	unix.OVERLAYFS_SUPER_MAGIC: "overlay",
	unix.MSDOS_SUPER_MAGIC:     "vfat",
	unix.EXFAT_SUPER_MAGIC:     "exfat",
	unix.SQUASHFS_MAGIC:        "squashfs",
	unix.RAMFS_MAGIC:           "ramfs",
	unix.PROC_SUPER_MAGIC:      "proc",
	unix.SYSFS_MAGIC:           "sysfs",
}

// mountType returns the filesystem type of the first mount of device dev
// in /proc/self/mountinfo, or "".
func mountType(dev uint64) string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	want := strconv.FormatUint(uint64(unix.Major(dev)), 10) + ":" + strconv.FormatUint(uint64(unix.Minor(dev)), 10)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// ID PARENT MAJOR:MINOR ROOT MOUNTPOINT OPTIONS [TAGS...] - TYPE SOURCE SUPEROPTIONS
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) < 3 || fields[2] != want {
			continue
		}
		_, after, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		if typ, _, _ := strings.Cut(after, " "); typ != "" {
			return typ
		}
	}
	return ""
}

// fsMagic is statfs's f_type as the unsigned 32-bit magic number it is:
// the field is int32 on 386 and arm, where btrfs's 0x9123683e would
// otherwise come out negative, uint32 on s390x and int64 elsewhere.
func fsMagic(s *unix.Statfs_t) int64 { return int64(uint32(s.Type)) }
