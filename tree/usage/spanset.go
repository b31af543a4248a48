//go:build linux

package usage

import (
	"cmp"
	"slices"
)

// span is the byte range [start, end) on a device.
type span struct{ start, end uint64 }

// spanSet is a set of byte ranges that counts each byte once, however
// often and however partially the added ranges overlap. Memory stays
// proportional to the distinct ranges: added ranges wait in pending and
// are merged into the sorted, disjoint merged list in batches, which
// makes add O(log n) amortized.
type spanSet struct {
	merged  []span // sorted, disjoint, not adjacent
	pending []span
}

func (s *spanSet) add(r span) {
	if r.end <= r.start {
		return
	}
	s.pending = append(s.pending, r)
	if len(s.pending) >= max(1024, len(s.merged)) {
		s.compact()
	}
}

// addSet adds every range of o.
func (s *spanSet) addSet(o *spanSet) {
	o.compact()
	for _, r := range o.merged {
		s.add(r)
	}
}

// compact merges pending into merged.
func (s *spanSet) compact() {
	if len(s.pending) == 0 {
		return
	}
	slices.SortFunc(s.pending, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	out := make([]span, 0, len(s.merged)+len(s.pending))
	i, j := 0, 0
	for i < len(s.merged) || j < len(s.pending) {
		var r span
		if j == len(s.pending) || (i < len(s.merged) && s.merged[i].start <= s.pending[j].start) {
			r, i = s.merged[i], i+1
		} else {
			r, j = s.pending[j], j+1
		}
		if n := len(out); n > 0 && r.start <= out[n-1].end {
			out[n-1].end = max(out[n-1].end, r.end)
			continue
		}
		out = append(out, r)
	}
	s.merged, s.pending = out, s.pending[:0]
}

// bytes returns how many bytes the set covers.
func (s *spanSet) bytes() uint64 {
	s.compact()
	var n uint64
	for _, r := range s.merged {
		n += r.end - r.start
	}
	return n
}
