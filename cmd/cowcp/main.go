// Command cowcp copies files and trees like cp, cloning them with
// copy-on-write reflinks where the filesystem can, and tells what that saved.
package main

import "os"

// version is set by the release build (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	status := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	dieLikeSignal(status)
	os.Exit(status)
}
