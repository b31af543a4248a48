//go:build linux

package testtree

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Diff compares two manifests and returns one line per difference, naming
// the path and the field, in the order of the paths: "PATH: missing (WANT
// has a TYPE)", "PATH: extra TYPE (WANT has none)" or "PATH: FIELD: WANT
// VALUE, GOT VALUE", where WANT and GOT are wantName and gotName.
func Diff(want, got Manifest, wantName, gotName string) []string {
	var diffs []string
	for _, p := range unionKeys(want, got) {
		w, inW := want[p]
		g, inG := got[p]
		switch {
		case !inG:
			diffs = append(diffs, fmt.Sprintf("%s: missing (%s has a %s)", printPath(p), wantName, w["type"]))
			continue
		case !inW:
			diffs = append(diffs, fmt.Sprintf("%s: extra %s (%s has none)", printPath(p), g["type"], wantName))
			continue
		}
		for _, f := range unionKeys(w, g) {
			wv, okW := w[f]
			gv, okG := g[f]
			switch {
			case !okW:
				wv = "(none)"
			case !okG:
				gv = "(none)"
			}
			if wv != gv {
				diffs = append(diffs, fmt.Sprintf("%s: %s: %s %s, %s %s", printPath(p), f, wantName, short(wv), gotName, short(gv)))
			}
		}
	}
	return diffs
}

// printPath quotes a path as %q does, eliding the middle of long
// components and of long chains of them (a deep tree's paths run to
// thousands of bytes).
func printPath(p string) string {
	parts := strings.Split(p, "/")
	for i, c := range parts {
		if len(c) > 24 {
			parts[i] = fmt.Sprintf("%s…[%d bytes]", c[:8], len(c))
		}
	}
	if n := len(parts); n > 6 {
		parts = append(parts[:2:2], append([]string{fmt.Sprintf("…[%d more]", n-4)}, parts[n-2:]...)...)
	}
	return strconv.Quote(strings.Join(parts, "/"))
}

func short(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

func unionKeys[V any](a, b map[string]V) []string {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
