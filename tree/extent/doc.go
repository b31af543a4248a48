//go:build linux

// Package extent maps a file's logical bytes to extents on the device
// with the FIEMAP ioctl, and reads the FIEMAP_EXTENT_* flags both of its
// users care about: shared (a clone, a deduplicated file or a snapshot
// references the blocks), inline, unknown and delalloc (no blocks of the
// file's own). The copy engine (package tree) sums a source's clonable
// bytes after cloning it, to report what the copy saved; the disk-usage
// accounting (package tree/usage, behind cowdu) counts every file's
// exclusive and shared bytes with it.
package extent
