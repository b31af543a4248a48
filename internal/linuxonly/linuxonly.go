//go:build linux

// Package linuxonly holds nothing. On other systems the commands import it
// so that `go build` stops with one message naming it — "build constraints
// exclude all Go files in .../internal/linuxonly" — instead of a page of
// undefined names: cowcp and cowdu run only on Linux, since they are made of
// FICLONE, FICLONERANGE, copy_file_range, FIEMAP, statx and *at calls.
package linuxonly
