//go:build linux

// Package reflink makes one file share another's data blocks with the
// FICLONE and FICLONERANGE ioctls, and classifies the errors they return
// into "cloning cannot work here, fall back" and "a real failure".
//
// It does nothing else: no byte copies, no fallback chain, no caching.
// Callers decide what an unsupported clone means for them.
package reflink
