//go:build linux

// Package usage measures how much disk space files take and how much of
// it they share with clones and snapshots, counted from their extents as
// btrfs filesystem du counts them: Total, Exclusive, Shared and Set shared
// per PATH, a file reached twice counted once. It walks without following
// symbolic links or crossing mounts, relative to open directories, so
// trees deeper than PATH_MAX are measured.
//
// cowdu (cmd/cowdu) is its user; the end-to-end tests compare cowdu's
// numbers with btrfs's own. It reads extents with package tree/extent and
// words its failures with package tree/cpmsg, and does not import the copy
// engine (package tree).
package usage
