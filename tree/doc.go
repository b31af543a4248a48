//go:build linux

// Package tree is the copy engine behind cowcp: it walks sources, plans
// what each entry needs, runs the copies (clone, then copy_file_range,
// then read/write, from packages reflink and fallback) on a worker pool,
// applies metadata, keeps hard links together and gathers the statistics
// of what was cloned, what was copied and what the copy saved (measured
// with package tree/extent). Its failures are in cp's words (package
// tree/cpmsg). cmd/cowcp is its user.
//
// cowdu's disk-usage accounting is not here: it is package tree/usage,
// which does not import this one.
package tree
