//go:build linux

package pool

import "sync"

// Pool runs jobs on a fixed number of workers and hands every result to a
// single collector goroutine. The collector is the only place that may own
// statistics, progress bars or other shared state: workers return what they
// did instead of touching shared counters.
//
// The job queue is bounded, so a producer walking a huge tree blocks
// instead of buffering the tree in memory.
type Pool[J, R any] struct {
	jobs    chan J
	results chan R
	workers sync.WaitGroup
	done    chan struct{}
}

// New starts workers goroutines running work and one running collect.
// queue bounds the number of submitted jobs not yet taken by a worker.
func New[J, R any](workers, queue int, work func(J) R, collect func(R)) *Pool[J, R] {
	return NewWorkers(workers, queue, func(func(R)) func(J) R { return work }, collect)
}

// NewWorkers is New for workers that own state (a buffer, scratch space):
// newWorker is called once per worker goroutine, before it starts, and
// returns the work func only that goroutine runs. It is handed the pool's
// Report, so a worker can tell the collector about progress within a job;
// a worker cannot Submit.
func NewWorkers[J, R any](workers, queue int, newWorker func(report func(R)) func(J) R, collect func(R)) *Pool[J, R] {
	if workers < 1 {
		workers = 1
	}
	if queue < workers {
		queue = workers
	}
	p := &Pool[J, R]{
		jobs:    make(chan J, queue),
		results: make(chan R, queue),
		done:    make(chan struct{}),
	}
	p.workers.Add(workers)
	for range workers {
		work := newWorker(p.Report)
		go func() {
			defer p.workers.Done()
			for j := range p.jobs {
				p.results <- work(j)
			}
		}()
	}
	go func() {
		defer close(p.done)
		for r := range p.results {
			collect(r)
		}
	}()
	return p
}

// Submit queues a job, blocking while the queue is full. It must not be
// called after Wait, nor from a worker or the collector.
func (p *Pool[J, R]) Submit(j J) { p.jobs <- j }

// Report hands a result straight to the collector, for work the producer
// did itself (a directory it created, an error it met while walking), or
// for a worker's progress within a job.
func (p *Pool[J, R]) Report(r R) { p.results <- r }

// Cap is how many submitted jobs the queue holds before Submit blocks.
func (p *Pool[J, R]) Cap() int { return cap(p.jobs) }

// Wait stops accepting jobs, waits for the workers to finish the queue and
// for the collector to drain every result.
func (p *Pool[J, R]) Wait() {
	close(p.jobs)
	p.workers.Wait()
	close(p.results)
	<-p.done
}
