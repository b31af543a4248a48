package pool

import (
	"bytes"
	"runtime"
	"slices"
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
	if len(collectors) > 2 {
		// The producer's, before the start, and the collector's after.
		t.Errorf("collect ran on %d goroutines, want at most 2", len(collectors))
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
	p.SetBatch(1, queue)
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

// Work smaller than a batch runs on the producer's goroutine at Wait, in
// the order it came, and starts no goroutine.
func TestPoolSmallWorkRunsInline(t *testing.T) {
	me := goid()
	var order []int
	p := New(4, 64, func(j int) int {
		if goid() != me {
			t.Errorf("job %d ran on goroutine %s, not the producer's %s", j, goid(), me)
		}
		return j
	}, func(r int) { order = append(order, r) })
	p.Report(-1)
	p.Submit(1)
	p.Report(-2)
	p.Submit(2)
	p.Wait()
	if p.started {
		t.Error("the pool started goroutines for two jobs")
	}
	if want := []int{-1, 1, -2, 2}; !slices.Equal(order, want) {
		t.Errorf("collected %v, want %v", order, want)
	}
}

// Flush before the start does the work there and then, so a producer
// about to wait on the collector never waits on itself.
func TestPoolFlushBeforeStart(t *testing.T) {
	got := 0
	p := New(2, 64, func(j int) int { return j }, func(r int) { got += r })
	p.Submit(5)
	p.Flush()
	if got != 5 {
		t.Errorf("after Flush collected %d, want 5", got)
	}
	p.Wait()
}

// A batch's worth of jobs starts the workers: they run off the producer's
// goroutine, and a worker gets whole batches.
func TestPoolBatches(t *testing.T) {
	me := goid()
	var mu sync.Mutex
	ran := map[string][]int{}
	p := New(2, 4*Batch, func(j int) int {
		mu.Lock()
		ran[goid()] = append(ran[goid()], j)
		mu.Unlock()
		return j
	}, func(int) {})
	for i := range 4 * Batch {
		p.Submit(i)
	}
	p.Wait()
	if !p.started || ran[me] != nil {
		t.Fatalf("%d jobs ran on the producer's goroutine (started %v)", len(ran[me]), p.started)
	}
	for g, js := range ran {
		if len(js)%Batch != 0 {
			t.Errorf("goroutine %s ran %d jobs, not whole batches of %d", g, len(js), Batch)
		}
	}
}
