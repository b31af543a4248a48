//go:build linux

package fallback

import (
	"bytes"
	"os"
)

// writeNonZero writes p at off, skipping block-aligned all-zero blocks,
// and an all-zero partial block at the end of p too (the file's tail, as
// cp leaves it): dst is already extended, so what is skipped reads as
// zeros whatever the filesystem allocates. It returns the bytes written.
func writeNonZero(dst *os.File, p []byte, off int64, blockSize int) (int64, error) {
	var written int64
	write := func(from, to int) error {
		n, err := dst.WriteAt(p[from:to], off+int64(from))
		written += int64(n)
		return err
	}
	start := 0 // first byte of the pending run to write
	for i := 0; i < len(p); {
		end := min(i+blockSize, len(p))
		aligned := (off+int64(i))%int64(blockSize) == 0
		if aligned && isZero(p[i:end]) {
			if start < i {
				if err := write(start, i); err != nil {
					return written, err
				}
			}
			start = end
		}
		i = end
	}
	if start < len(p) {
		return written, write(start, len(p))
	}
	return written, nil
}

var zeroBlock = make([]byte, 64<<10)

func isZero(p []byte) bool {
	for len(p) > 0 {
		n := min(len(p), len(zeroBlock))
		if !bytes.Equal(p[:n], zeroBlock[:n]) {
			return false
		}
		p = p[n:]
	}
	return true
}
