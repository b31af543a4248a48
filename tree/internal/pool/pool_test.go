package pool

import (
	"bytes"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// goid returns the current goroutine's id from its stack header, to tell
// goroutines apart in tests.
func goid() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	buf = bytes.TrimPrefix(buf, []byte("goroutine "))
	return string(buf[:bytes.IndexByte(buf, ' ')])
}

func TestPoolProcessesAllJobs(t *testing.T) {
	const n = 2000
	var (
		inCollect  atomic.Int32
		concurrent atomic.Bool
		collectors = map[string]bool{}
		seen       = make([]int, n+1000)
		workers    sync.Map
	)
	p := New(8, 4, func(j int) int {
		workers.Store(goid(), true)
		if j%97 == 0 {
			time.Sleep(time.Millisecond)
		}
		return j
	}, func(r int) {
		if inCollect.Add(1) != 1 {
			concurrent.Store(true)
		}
		collectors[goid()] = true // racy map write if collect ran concurrently
		seen[r]++
		if r%101 == 0 {
			runtime.Gosched()
		}
		inCollect.Add(-1)
	})
	for i := range n {
		p.Submit(i)
		if i%10 == 0 {
			p.Report(n + i/10) // the producer's own results
		}
	}
	p.Wait()

	if concurrent.Load() {
		t.Error("collect ran concurrently with itself")
	}
	if len(collectors) != 1 {
		t.Errorf("collect ran on %d goroutines, want 1", len(collectors))
	}
	nWorkers := 0
	workers.Range(func(any, any) bool { nWorkers++; return true })
	if nWorkers > 8 {
		t.Errorf("jobs ran on %d goroutines with 8 workers", nWorkers)
	}
	for i := range n {
		if seen[i] != 1 {
			t.Fatalf("job %d collected %d times", i, seen[i])
		}
	}
	for i := range n / 10 {
		if seen[n+i] != 1 {
			t.Fatalf("reported result %d collected %d times", n+i, seen[n+i])
		}
	}
}

// Submit blocks once the workers are busy and the queue is full, so a
// walker cannot buffer a whole tree.
func TestPoolQueueIsBounded(t *testing.T) {
	const workers, queue = 2, 4
	gate := make(chan struct{})
	var collected atomic.Int32
	p := New(workers, queue, func(j int) int { <-gate; return j }, func(int) { collected.Add(1) })
	if p.Cap() != queue {
		t.Errorf("Cap() = %d, want %d", p.Cap(), queue)
	}

	filled := make(chan struct{})
	go func() {
		for i := range workers + queue {
			p.Submit(i)
		}
		close(filled)
	}()
	select {
	case <-filled:
	case <-time.After(10 * time.Second):
		close(gate)
		t.Fatalf("%d submits did not fit %d busy workers and a queue of %d", workers+queue, workers, queue)
	}

	extra := make(chan struct{})
	go func() { p.Submit(99); close(extra) }()
	select {
	case <-extra:
		t.Error("Submit did not block with busy workers and a full queue")
	case <-time.After(200 * time.Millisecond):
	}
	close(gate)
	select {
	case <-extra:
	case <-time.After(10 * time.Second):
		t.Fatal("Submit still blocked after the workers were released")
	}
	p.Wait()
	if got := collected.Load(); got != workers+queue+1 {
		t.Errorf("collected %d results, want %d", got, workers+queue+1)
	}
}

// Degenerate sizes are raised to something that works.
func TestPoolDegenerateSizes(t *testing.T) {
	var sum atomic.Int64
	p := New(0, 0, func(j int) int { return j }, func(r int) { sum.Add(int64(r)) })
	for i := 1; i <= 100; i++ {
		p.Submit(i)
	}
	p.Report(1000)
	p.Wait()
	if sum.Load() != 5050+1000 {
		t.Errorf("sum %d, want %d", sum.Load(), 6050)
	}
}

// Wait returns only after the last result was collected.
func TestPoolWaitDrains(t *testing.T) {
	var last atomic.Int32
	p := New(3, 3, func(j int) int { return j }, func(r int) {
		time.Sleep(time.Millisecond)
		last.Add(1)
	})
	for i := range 50 {
		p.Submit(i)
	}
	p.Wait()
	if last.Load() != 50 {
		t.Errorf("Wait returned after %d of 50 results", last.Load())
	}
}
