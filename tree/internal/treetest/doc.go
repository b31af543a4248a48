//go:build linux

// Package treetest makes the file trees the tests of the copy engine
// (package tree) and of the disk-usage accounting (package tree/usage)
// share: chains of directories deeper than PATH_MAX, reached level by
// level with *at calls, and a count of the process's open descriptors to
// catch leaks. Only tests import it.
package treetest
