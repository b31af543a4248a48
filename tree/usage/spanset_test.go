package usage

import (
	"math/rand/v2"
	"testing"
)

func TestSpanSet(t *testing.T) {
	tests := []struct {
		name  string
		spans []span
		want  uint64
	}{
		{name: "Empty", want: 0},
		{name: "Disjoint", spans: []span{{0, 10}, {20, 30}}, want: 20},
		{name: "Adjacent", spans: []span{{0, 10}, {10, 20}}, want: 20},
		{name: "Duplicate", spans: []span{{5, 15}, {5, 15}, {5, 15}}, want: 10},
		{name: "Contained", spans: []span{{0, 100}, {10, 20}}, want: 100},
		{name: "PartialOverlap", spans: []span{{0, 10}, {5, 25}}, want: 25},
		{name: "PartialOverlapReversed", spans: []span{{5, 25}, {0, 10}}, want: 25},
		{name: "Bridge", spans: []span{{0, 10}, {20, 30}, {8, 22}}, want: 30},
		{name: "EmptyAndInverted", spans: []span{{5, 5}, {9, 3}}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s spanSet
			for _, r := range tt.spans {
				s.add(r)
			}
			if got := s.bytes(); got != tt.want {
				t.Errorf("bytes() = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestSpanSetRandom checks the batched merging against a bitmap, across
// several compactions and a merge of one set into another.
func TestSpanSetRandom(t *testing.T) {
	const space = 1 << 16
	rng := rand.New(rand.NewPCG(1, 2))
	var bits [space]bool
	var a, b spanSet
	for i := range 20000 {
		start := rng.Uint64N(space - 64)
		r := span{start, start + rng.Uint64N(64)}
		for x := r.start; x < r.end; x++ {
			bits[x] = true
		}
		if i%3 == 0 {
			b.add(r)
		} else {
			a.add(r)
		}
		if i%5000 == 0 {
			a.bytes() // compact midway, as Total does
		}
	}
	a.addSet(&b)
	var want uint64
	for _, set := range bits {
		if set {
			want++
		}
	}
	if got := a.bytes(); got != want {
		t.Fatalf("bytes() = %d, want %d", got, want)
	}
	for i := 1; i < len(a.merged); i++ {
		if a.merged[i].start <= a.merged[i-1].end {
			t.Fatalf("merged spans %v and %v overlap or touch", a.merged[i-1], a.merged[i])
		}
	}
}
