//go:build linux

// Package pool runs jobs on a fixed number of worker goroutines and hands
// every result to one collector goroutine, through a bounded queue. The
// copy engine (package tree) copies files on it and the disk-usage
// accounting (package tree/usage) maps files' extents on it; nothing else
// imports it.
package pool
