//go:build linux

// Package fallback copies file data byte by byte when cloning is not
// possible: copy_file_range loops, hole-preserving copies driven by
// SEEK_DATA/SEEK_HOLE, and plain read/write.
//
// Every function takes (dst, src) in that order, like io.Copy, and copies
// at explicit offsets, so callers may run them on any open files without
// caring about file positions.
package fallback
