//go:build linux

// Command cowcp copies files and trees like cp, cloning them with
// copy-on-write reflinks where the filesystem can, and tells what that saved.
package main

import (
	"os"
	"path/filepath"
)

// progName starts every message. Installed as cp (a symlink named cp),
// cowcp speaks as cp, so scripts and cp's own tests read cp's words.
var progName = "cowcp"

func main() {
	if filepath.Base(os.Args[0]) == "cp" {
		progName = "cp"
	}
	status := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	dieLikeSignal(status)
	os.Exit(status)
}
