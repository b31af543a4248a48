//go:build linux

// Package testtree makes and reads the files and trees the tests share.
//
//   - Data: Bytes and Reader give the same pseudo-random bytes for the
//     same seed, WriteRandom writes them to a file, and WriteFile writes a
//     file of data segments (Seg) and holes.
//   - Trees: a tree is a list of Nodes (directories, files with holes,
//     symbolic and hard links, FIFOs, sockets and devices, with modes,
//     owners, modification times, extended attributes and POSIX ACLs),
//     made by Build with descriptor-relative calls, so at any depth. Chain
//     describes a chain of directories deeper than PATH_MAX, which OpenDeep
//     reaches again.
//   - Manifests: Walk records what a copy is expected to reproduce of each
//     entry of a tree, and Diff says how two trees differ.
//   - Descriptors: OpenFds and FdsLeft catch a leaked descriptor.
//
// Loopback filesystems are package tests/fstest's. Only tests import this
// package.
package testtree
