//go:build linux

// Package tree copies file trees: it walks sources, plans what each entry
// needs, runs the copies on a worker pool, applies metadata, keeps
// hardlinks together and gathers the statistics of what was cloned and
// what was copied.
package tree
