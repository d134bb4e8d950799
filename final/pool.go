package main

import (
	"sync"
	"sync/atomic"
)

// The pool's size. Handlers here take microseconds, so these are about
// bursts, not throughput; a worker's job includes writing the response,
// which a client that reads slowly can stretch to the write timeout.
const (
	// defaultWorkers is the number of requests answered at once: the seed's
	// NUM_WORKERS.
	defaultWorkers = 10

	// defaultQueueSize is how many complete requests may wait for a worker.
	// Past it, a request gets 503 at once: ten waiting per worker is a
	// burst the pool clears in ten handler runs, and a client that would
	// wait longer is better told to come back (Retry-After). Arbitrary.
	defaultQueueSize = 100
)

// pool runs jobs on a fixed number of worker goroutines, fed by a bounded
// queue. Submitting never blocks: when the queue is full, submit says so at
// once, and the caller answers 503 rather than make a client wait behind
// work the server cannot start.
type pool struct {
	jobs    chan func()
	workers int
	active  atomic.Int64 // workers running a job now
	done    sync.WaitGroup
}

// newPool starts workers goroutines that take jobs from a queue of
// queueSize. A queue of 0 takes a job only when a worker is free.
func newPool(workers, queueSize int) *pool {
	p := &pool{jobs: make(chan func(), queueSize), workers: workers}
	p.done.Add(workers)
	for range workers {
		go p.work()
	}
	return p
}

// work runs jobs until the queue is closed and empty. Closing the channel
// is Go's version of the seed's poison pill: one close stops every worker,
// and each stops only after the jobs queued before it.
func (p *pool) work() {
	defer p.done.Done()
	for job := range p.jobs {
		p.active.Add(1)
		job()
		p.active.Add(-1)
	}
}

// submit queues job and reports true, or reports false at once if the queue
// is full.
func (p *pool) submit(job func()) bool {
	select {
	case p.jobs <- job:
		return true
	default:
		return false
	}
}

// poolStats is the pool at one moment, named as /metrics reports it.
type poolStats struct {
	Total  int `json:"total_workers"`
	Active int `json:"active_workers"`
	Idle   int `json:"idle_workers"`
	Queued int `json:"queue_depth"`
}

// stats may be called at any time, from any goroutine.
func (p *pool) stats() poolStats {
	active := int(p.active.Load())
	return poolStats{Total: p.workers, Active: active, Idle: p.workers - active, Queued: len(p.jobs)}
}

// stop closes the queue and waits until the workers have run every job in
// it. No one may submit after stop: a send on a closed channel panics, so
// the caller stops the pool only once no connection can submit any more.
func (p *pool) stop() {
	close(p.jobs)
	p.done.Wait()
}
