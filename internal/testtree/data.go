//go:build linux

package testtree

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// Reader returns the endless stream of pseudo-random bytes of seed: the
// same seed always gives the same bytes, however they are read. No byte is
// zero, so no run of them looks like a hole to a copier that leaves zero
// blocks out.
func Reader(seed uint64) io.Reader {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	return stream{rand.NewChaCha8(key)}
}

type stream struct{ c *rand.ChaCha8 }

func (s stream) Read(b []byte) (int, error) {
	s.c.Read(b)
	for i, x := range b {
		if x == 0 {
			b[i] = 0xa5
		}
	}
	return len(b), nil
}

// Bytes returns the first n bytes of Reader(seed).
func Bytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	Reader(seed).Read(b)
	return b
}

// WriteRandom creates or truncates path (mode 0644) and writes size bytes
// of Reader(seed) to it, without holding them in memory. It returns their
// SHA-256, in hex.
func WriteRandom(t testing.TB, path string, size int64, seed uint64) string {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), Reader(seed), size); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("closing %s: %v", path, err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Seg is a run of data at Off in a file; what no Seg of a file covers is
// a hole. Its bytes are Data, or, when Data is nil, the first Len bytes of
// Reader(Seed), written without being held in memory.
type Seg struct {
	Off  int64
	Data []byte
	Len  int64
	Seed uint64
}

// Data is a Seg of the bytes b at off.
func Data(off int64, b []byte) Seg { return Seg{Off: off, Data: b, Len: int64(len(b))} }

// Random is a Seg of n bytes of Reader(seed) at off.
func Random(off int64, seed uint64, n int64) Seg { return Seg{Off: off, Len: n, Seed: seed} }

// Content returns the bytes of a file of size bytes with segs, its holes
// as zeros.
func Content(size int64, segs ...Seg) []byte {
	b := make([]byte, size)
	for _, s := range segs {
		if s.Data != nil {
			copy(b[s.Off:], s.Data)
		} else {
			Reader(s.Seed).Read(b[s.Off : s.Off+s.Len])
		}
	}
	return b
}

// WriteFile creates or truncates path (mode 0644) and writes segs into it,
// each at its offset, and truncates it to size: the rest is holes.
func WriteFile(t testing.TB, path string, size int64, segs ...Seg) {
	t.Helper()
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := writeSegs(fd, size, segs); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
}

// writeSegs writes segs into the empty file open at fd and gives it its
// size. The size comes first: XFS preallocates past the end of a file
// written at its end, and filled the holes between the segments of a
// sparse file given its size last (800 pieces of 4 KiB, 128 KiB apart:
// 50 MiB used, not 3.2).
func writeSegs(fd int, size int64, segs []Seg) error {
	if err := unix.Ftruncate(fd, size); err != nil {
		return err
	}
	var buf []byte
	for _, s := range segs {
		b, r, off := s.Data, io.Reader(nil), s.Off
		if b == nil {
			if buf == nil {
				buf = make([]byte, 1<<20)
			}
			r = io.LimitReader(Reader(s.Seed), s.Len)
		}
		for {
			if r != nil {
				n, err := io.ReadFull(r, buf)
				if n == 0 && err != nil {
					break
				}
				b = buf[:n]
			}
			for len(b) > 0 {
				w, err := unix.Pwrite(fd, b, off)
				if err != nil {
					return err
				}
				b, off = b[w:], off+int64(w)
			}
			if r == nil {
				break
			}
		}
	}
	return unix.Ftruncate(fd, size)
}
