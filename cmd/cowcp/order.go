package main

import "strings"

// Some cp options override each other by position: the last of -n and -i
// wins, and so does the last of -P/-d/-a, -L and -H. The parser gives
// values, not positions, so lastOption finds which of a group came last.

// valueShorts are the short options that take a value: the rest of a
// cluster, or the next argument, is that value and no option.
const valueShorts = "Stj"

// lastOption returns the key of the option of group that stands last in
// args, or "". group maps "-x" and "--long" spellings to a key.
func lastOption(args []string, group map[string]string) string {
	last := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return last
		case strings.HasPrefix(a, "--"):
			name, _, _ := strings.Cut(a, "=")
			if k, ok := group[name]; ok {
				last = k
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for j := 1; j < len(a); j++ {
				if k, ok := group["-"+a[j:j+1]]; ok {
					last = k
				}
				if strings.IndexByte(valueShorts, a[j]) >= 0 {
					if j == len(a)-1 {
						i++ // the value is the next argument
					}
					break
				}
			}
		}
	}
	return last
}

var (
	overwriteGroup = map[string]string{"-n": "n", "--no-clobber": "n", "-i": "i", "--interactive": "i"}
	derefGroup     = map[string]string{
		"-P": "P", "--no-dereference": "P", "-d": "P", "-a": "P", "--archive": "P",
		"-L": "L", "--dereference": "L", "-H": "H",
	}
)
