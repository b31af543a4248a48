//go:build linux

package pool

import "testing"

// Each worker goroutine runs its own work func, so a worker may keep state
// without locks: run with -race, two goroutines sharing one would be a
// race on its unsynchronised counter. Report from a worker reaches the
// collector.
func TestNewWorkersOwnState(t *testing.T) {
	const workers, n = 4, 1000
	var made []*int // each worker's counter; read after Wait
	reports := 0
	p := NewWorkers(workers, 8, func(report func(int)) func(int) int {
		count := new(int)
		made = append(made, count)
		return func(j int) int {
			*count++ // this worker's alone
			if j%10 == 0 {
				report(-1)
			}
			return j
		}
	}, func(r int) {
		if r < 0 {
			reports++
		}
	})
	for i := range n {
		p.Submit(i)
	}
	p.Wait()
	if len(made) != workers {
		t.Fatalf("newWorker called %d times for %d workers", len(made), workers)
	}
	total := 0
	for _, c := range made {
		total += *c
	}
	if total != n || reports != n/10 {
		t.Errorf("workers ran %d jobs and reported %d times, want %d and %d", total, reports, n, n/10)
	}
}
