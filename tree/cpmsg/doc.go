//go:build linux

// Package cpmsg is the vocabulary both commands print in: file names
// quoted as GNU cp quotes them (Quote), failures in cp's words
// (PathError, "cannot stat 'x': No such file or directory"), an error's
// cause as strerror spells it (Reason), and sizes and counts for people
// (HumanBytes, Thousands).
//
// The copy engine (package tree) and the disk-usage accounting (package
// tree/usage) return their failures as *PathError, so callers outside this
// module can take them apart with errors.As; the commands cowcp and cowdu
// quote names and print sizes with it. It imports nothing of this module.
package cpmsg
