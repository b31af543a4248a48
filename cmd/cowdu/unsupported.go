//go:build !linux

// This command runs only on Linux; see internal/linuxonly.
package main

import _ "github.com/cowcp/cowcp/internal/linuxonly"
