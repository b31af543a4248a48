//go:build linux

// Command cowdu tells how much disk space files take and how much of it
// they share with copy-on-write clones and snapshots, like btrfs
// filesystem du, on any filesystem that reports extents with FIEMAP.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
