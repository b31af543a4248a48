//go:build linux

package pool

import (
	"runtime"
	"sync"
)

// Pool runs jobs on a fixed number of workers and hands every result to a
// single collector. The collector is the only place that may own
// statistics, progress bars or other shared state: workers return what they
// did instead of touching shared counters.
//
// Work is handed over in batches: the producer's jobs and its own results
// are gathered and sent Batch at a time, and a worker returns a batch's
// results at once. A hand-over between goroutines costs a wake-up of a
// sleeping thread, which on small files costs more than the copy itself;
// per batch, it is paid once for many files.
//
// The goroutines start only when there is a batch's worth of work. Until
// then the producer holds what it submits and reports, and if Wait (or
// Flush) comes first, it runs them itself, in order, with one worker of
// its own and the collector on its own goroutine: copying one file starts
// no goroutine at all.
//
// The job queue is bounded, so a producer walking a huge tree blocks
// instead of buffering the tree in memory.
type Pool[J, R any] struct {
	workers   int
	batch     int
	newWorker func(report func(R)) func(J) R
	collect   func(R)

	// The producer's, until handed over: jobs and results in the order
	// they came (order matters only while nothing has started).
	pending []item[J, R]
	jobsIn  int // jobs in pending

	started bool
	jobs    chan []J
	results chan []R
	wg      sync.WaitGroup
	done    chan struct{}
	inline  func(J) R // the producer's own worker, before the start

	// OnStart, if set, is called on the producer's goroutine just before
	// the workers start.
	OnStart func()
}

// item is a job, or a result the producer reported itself.
type item[J, R any] struct {
	job    J
	result R
	isJob  bool
}

// Batch is how many jobs go to a worker at once unless New is told
// otherwise (SetBatch).
const Batch = 32

// New makes a pool of workers running work and a collector running
// collect. queue bounds the number of submitted jobs not yet taken by a
// worker.
func New[J, R any](workers, queue int, work func(J) R, collect func(R)) *Pool[J, R] {
	return NewWorkers(workers, queue, func(func(R)) func(J) R { return work }, collect)
}

// NewWorkers is New for workers that own state (a buffer, scratch space):
// newWorker is called once per worker goroutine, before it starts, and
// returns the work func only that goroutine runs. It is handed the pool's
// Report, so a worker can tell the collector about progress within a job;
// a worker cannot Submit.
func NewWorkers[J, R any](workers, queue int, newWorker func(report func(R)) func(J) R, collect func(R)) *Pool[J, R] {
	workers = max(workers, 1)
	p := &Pool[J, R]{workers: workers, newWorker: newWorker, collect: collect}
	p.SetBatch(Batch, queue)
	return p
}

// SetBatch sets the batch size and the queue bound (in jobs); it must be
// called before the first Submit. A batch of 1 hands every job over at
// once, as an unbatched pool would.
func (p *Pool[J, R]) SetBatch(batch, queue int) {
	p.batch = max(batch, 1)
	p.jobs = make(chan []J, max(queue/p.batch, 1))
}

// start starts the workers and the collector.
func (p *Pool[J, R]) start() {
	if p.OnStart != nil {
		p.OnStart()
	}
	p.started = true
	p.results = make(chan []R, cap(p.jobs)+p.workers)
	p.done = make(chan struct{})
	p.wg.Add(p.workers)
	for range p.workers {
		work := p.newWorker(func(r R) { p.results <- []R{r} })
		go func() {
			defer p.wg.Done()
			for batch := range p.jobs {
				out := make([]R, len(batch))
				for i, j := range batch {
					out[i] = work(j)
					// A worker whose queue never runs dry is never
					// rescheduled: after 10 ms Go's sysmon preempts it
					// with a signal (three system calls) and keeps
					// waking every 20 µs. A yield per job is a few
					// hundred nanoseconds and no system call.
					runtime.Gosched()
				}
				p.results <- out
			}
		}()
	}
	go func() {
		defer close(p.done)
		for rs := range p.results {
			for _, r := range rs {
				p.collect(r)
			}
		}
	}()
}

// Submit queues a job, blocking while the queue is full. It must not be
// called after Wait, nor from a worker or the collector.
func (p *Pool[J, R]) Submit(j J) {
	p.pending = append(p.pending, item[J, R]{job: j, isJob: true})
	p.jobsIn++
	if p.jobsIn >= p.batch {
		p.handOver()
	}
}

// Report hands a result of the producer's own work (a directory it
// created, an error it met while walking) to the collector, after the
// jobs submitted before it are handed over.
func (p *Pool[J, R]) Report(r R) {
	p.pending = append(p.pending, item[J, R]{result: r})
	if len(p.pending) >= 4*p.batch {
		p.handOver()
	}
}

// Flush hands over everything submitted and reported so far: before the
// producer waits for something the collector does, it must flush. Before
// the pool has started, the producer does the work itself.
func (p *Pool[J, R]) Flush() {
	if !p.started {
		p.runPending()
		return
	}
	p.handOver()
}

// handOver starts the pool if needed and sends the pending results, then
// the pending jobs.
func (p *Pool[J, R]) handOver() {
	if len(p.pending) == 0 {
		return
	}
	if !p.started {
		p.start()
	}
	var jobs []J
	var results []R
	for _, it := range p.pending {
		if it.isJob {
			jobs = append(jobs, it.job)
		} else {
			results = append(results, it.result)
		}
	}
	p.pending, p.jobsIn = p.pending[:0], 0
	if len(results) > 0 {
		p.results <- results
	}
	if len(jobs) > 0 {
		p.jobs <- jobs
	}
}

// runPending does the pending work on the producer's goroutine, before
// anything has started: the collector's calls stay on one goroutine at a
// time, since the collector goroutine does not exist yet.
func (p *Pool[J, R]) runPending() {
	if len(p.pending) == 0 {
		return
	}
	if p.inline == nil {
		p.inline = p.newWorker(p.collect)
	}
	// Taken first: a job may not Submit, but collect runs here and must
	// find the pool's own state settled.
	todo := p.pending
	p.pending, p.jobsIn = nil, 0
	for _, it := range todo {
		if it.isJob {
			p.collect(p.inline(it.job))
		} else {
			p.collect(it.result)
		}
	}
}

// Cap is how many submitted jobs the queue holds before Submit blocks.
func (p *Pool[J, R]) Cap() int { return cap(p.jobs) * p.batch }

// Wait hands over what is left, stops accepting jobs, waits for the
// workers to finish the queue and for the collector to drain every result.
func (p *Pool[J, R]) Wait() {
	if !p.started {
		p.runPending()
		return
	}
	p.handOver()
	close(p.jobs)
	p.wg.Wait()
	close(p.results)
	<-p.done
}
