package testtree

import "strings"

// Confine makes every argument of a command line name something inside
// the working directory: an absolute path relative, a ".." component "_"
// (the fuzz tests run what they make up in a scratch tree).
func Confine(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.HasPrefix(a, "/") {
			if a = strings.TrimLeft(a, "/"); a == "" {
				a = "."
			}
		}
		parts := strings.Split(a, "/")
		for k, p := range parts {
			if p == ".." {
				parts[k] = "_"
			}
		}
		out[i] = strings.Join(parts, "/")
	}
	return out
}

// SplitArgs splits a fuzzed line into arguments: on NUL bytes, which no
// argument can hold, if it has any, else on spaces.
func SplitArgs(line string) []string {
	if strings.Contains(line, "\x00") {
		return strings.Split(line, "\x00")
	}
	return strings.Fields(line)
}
