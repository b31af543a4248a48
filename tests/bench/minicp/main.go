// Command minicp copies one file, SRC to DST, and does nothing else. It is
// tests/bench-cp's floor for a Go copier: the time a Go program takes to
// start, open two files, copy and exit, with none of cowcp's options, so the
// "one small file" row can show how much of cowcp's time is Go's runtime start
// rather than cowcp's work. Built with CGO_ENABLED=0, as cowcp is released.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: minicp SRC DST")
		os.Exit(2)
	}
	if err := copyFile(os.Args[2], os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "minicp:", err)
		os.Exit(1)
	}
}

// copyFile copies src's content to a new file dst with src's permission bits.
// io.Copy between two *os.File uses copy_file_range, which clones on btrfs
// and XFS where it can, as cp's default --reflink=auto does.
func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copying %s to %s: %w", src, dst, err)
	}
	return out.Close()
}
