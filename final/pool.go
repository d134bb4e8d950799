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

// pool bounds the requests answered at once, as stage05's pool did, but
// runs each on its connection's own goroutine, under one of the pool's
// slots, instead of handing it to a worker goroutine and waiting for it.
// The bound is the same, and so are the answers: a free slot, or a place
// among the queueSize requests waiting for one, or a 503 at once. What the
// hand-off cost is gone: a closure and a channel allocated, and two
// goroutine switches, for every request, and with them a third of the
// scheduler's work under load (final's README has the figures). net/http
// bounds nothing here: it runs every handler on its connection's
// goroutine, as many at once as there are requests.
type pool struct {
	slots   chan struct{} // holds a token for each request being answered
	waiting atomic.Int64  // requests waiting for a slot
	queue   int64         // how many may wait
}

// newPool returns a pool of workers slots, with room for queueSize
// requests to wait for one. A queue of 0 answers a request only when a
// slot is free.
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

// stop has nothing to stop: the pool has no goroutines of its own, and
// every job runs on a connection's goroutine, which serve has waited for
// before a shutdown stops the pool.
func (p *pool) stop() {}
