//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cowcp/cowcp/tree"
	"github.com/cowcp/cowcp/tree/cpmsg"
)

// --dry-run output: a line per entry, or with --json one object whose
// "plan" array is streamed entry by entry (so a huge tree is never held
// in memory) and whose other fields are the predicted report.

// planEntry is one entry of the --json plan.
type planEntry struct {
	Src    string `json:"src"`
	Dst    string `json:"dst"`
	Action string `json:"action"`
	Reason string `json:"reason,omitempty"`
	Bytes  int64  `json:"bytes"`
	Ask    bool   `json:"ask,omitempty"`
	// What happens first to the entry already at dst, and its backup name.
	Existing string `json:"existing,omitempty"`
	Backup   string `json:"backup,omitempty"`
}

// action names what would happen to an entry.
func action(ev tree.Event) string {
	switch {
	case ev.Skipped:
		return "skip"
	case ev.Method != tree.MethodNone:
		return ev.Method.String()
	}
	switch ev.Kind {
	case tree.KindDir:
		return "mkdir"
	case tree.KindSymlink:
		return "symlink"
	case tree.KindSpecial:
		return "mknod"
	}
	return "create"
}

func (r *reporter) plan(ev tree.Event) {
	a := action(ev)
	if !r.c.json {
		if why := planWhy(ev); why != "" {
			fmt.Fprintf(r.stdout, "%-15s %s -> %s (%s)\n", a, cpmsg.Quote(ev.Src), cpmsg.Quote(ev.Dst), why)
		} else {
			fmt.Fprintf(r.stdout, "%-15s %s -> %s\n", a, cpmsg.Quote(ev.Src), cpmsg.Quote(ev.Dst))
		}
		return
	}
	b, _ := json.Marshal(planEntry{Src: ev.Src, Dst: ev.Dst, Action: a, Reason: ev.Reason, Bytes: ev.Bytes, Ask: ev.Ask,
		Existing: ev.Existing.String(), Backup: ev.Backup})
	if r.planned == 0 {
		fmt.Fprint(r.stdout, "{\"plan\":[\n")
	} else {
		fmt.Fprint(r.stdout, ",\n")
	}
	r.stdout.Write(b)
	r.planned++
}

// planWhy is a plan line's parenthesis: the reason, that -i would ask,
// and what becomes of the entry already there.
func planWhy(ev tree.Event) string {
	var why []string
	if ev.Reason != "" {
		why = append(why, ev.Reason)
	}
	if ev.Ask {
		why = append(why, "would ask first (-i)")
	}
	switch ev.Existing {
	case tree.ExistingReplace:
		why = append(why, "replaces the existing entry")
	case tree.ExistingInPlace:
		why = append(why, "changes the existing file in place")
	case tree.ExistingRemove:
		why = append(why, "removes the existing entry first")
	case tree.ExistingBackup:
		why = append(why, "backs up the existing entry as "+cpmsg.Quote(ev.Backup))
	}
	return strings.Join(why, "; ")
}

// endPlan closes the plan array and adds the report's fields to the same
// object.
func (r *reporter) endPlan(s *tree.Stats) {
	if r.planned == 0 {
		fmt.Fprint(r.stdout, "{\"plan\":[")
	}
	var buf bytes.Buffer
	writeJSON(&buf, s)
	rest := bytes.TrimPrefix(bytes.TrimSpace(buf.Bytes()), []byte("{"))
	fmt.Fprintf(r.stdout, "\n],%s\n", rest)
}
