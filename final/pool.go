package main

import "sync/atomic"

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

// pool bounds the requests answered at once, as stage05's did, but each
// runs on its connection's goroutine under one of the pool's slots, where
// stage05 handed it to a worker goroutine and waited: the same bound, the
// same queue and 503, without a closure, a channel and two goroutine
// switches per request (final's README has the figures). net/http bounds
// nothing: every handler runs on its connection's goroutine.
type pool struct {
	slots   chan struct{} // holds a token for each request being answered
	waiting atomic.Int64  // requests waiting for a slot
	queue   int64         // how many may wait
}

// newPool returns a pool of workers slots, with room for queueSize
// requests to wait for one.
func newPool(workers, queueSize int) *pool {
	return &pool{slots: make(chan struct{}, workers), queue: int64(queueSize)}
}

// run runs job on the caller's goroutine once a slot is free, and reports
// true; or reports false at once, running nothing, when queueSize requests
// already wait.
func (p *pool) run(job func()) bool {
	select {
	case p.slots <- struct{}{}:
	default:
		if p.waiting.Add(1) > p.queue {
			p.waiting.Add(-1)
			return false
		}
		p.slots <- struct{}{}
		p.waiting.Add(-1)
	}
	defer func() { <-p.slots }()
	job()
	return true
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
	total, active := cap(p.slots), len(p.slots)
	return poolStats{Total: total, Active: active, Idle: total - active, Queued: int(p.waiting.Load())}
}

// stop has nothing to stop: jobs run on connections' goroutines, which
// serve has waited for.
func (p *pool) stop() {}
