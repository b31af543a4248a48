//go:build linux

package fallback

import "io"

// Stream copies src to dst sequentially until src's end, whatever src
// claims its size is: a pipe, a FIFO or a device has none, and /proc and
// /sys files say 0 or 4096 whatever they hold (copy_file_range and
// SEEK_DATA believe them). It uses plain read(2) and write(2) in order, so
// it also writes into FIFOs and devices. Each chunk written is handed to
// progress. It returns the bytes written.
func Stream(dst io.Writer, src io.Reader, buf []byte, progress func(n int64)) (int64, error) {
	if len(buf) == 0 {
		buf = make([]byte, bufSize)
	}
	var done int64
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			if _, err := dst.Write(buf[:n]); err != nil {
				return done, err
			}
			done += int64(n)
			if progress != nil {
				progress(int64(n))
			}
		}
		if rerr == io.EOF {
			return done, nil
		}
		if rerr != nil {
			return done, rerr
		}
	}
}
