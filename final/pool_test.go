package main

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// eventually polls cond until it holds, and fails the test if it does not
// hold within ioTimeout. Tests poll instead of sleeping for a guessed time.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(ioTimeout); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after %v", what, ioTimeout)
		}
	}
}

// blockedPool returns a pool whose workers are all running jobs that wait
// for release, and whose queue is full of them.
func blockedPool(t *testing.T, workers, queueSize int) (p *pool, release func()) {
	t.Helper()
	p = newPool(workers, queueSize)
	gate := make(chan struct{})
	eventually(t, "every worker idle", func() bool { return p.stats().Idle == workers })
	for i := range workers + queueSize {
		// A queue of 0 takes a job only from a worker already waiting for
		// one, which a worker that has just started may not be yet.
		eventually(t, "the job taken", func() bool { return p.submit(func() { <-gate }) })
		if i < workers { // let a worker take it, so the queue holds only the rest
			eventually(t, "the job started", func() bool { return p.stats().Active == i+1 })
		}
	}
	var once sync.Once
	release = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(func() { release(); p.stop() })
	return p, release
}

func TestPoolRunsEveryJob(t *testing.T) {
	p := newPool(4, 100)
	var ran atomic.Int64
	for range 100 {
		if !p.submit(func() { ran.Add(1) }) {
			t.Fatal("submit refused with room in the queue")
		}
	}
	p.stop() // waits for every queued job
	if got := ran.Load(); got != 100 {
		t.Errorf("ran %d jobs; want 100", got)
	}
}

// With every worker busy and the queue full, submit says no at once.
func TestPoolSubmitNeverBlocks(t *testing.T) {
	p, release := blockedPool(t, 2, 3)
	refused := make(chan bool)
	go func() { refused <- !p.submit(func() {}) }()
	select {
	case ok := <-refused:
		if !ok {
			t.Error("submit accepted a job with the queue full")
		}
	case <-time.After(ioTimeout):
		t.Fatal("submit blocked with the queue full")
	}
	release()
}

func TestPoolQueueOfZero(t *testing.T) {
	p, release := blockedPool(t, 1, 0)
	if p.submit(func() {}) {
		t.Error("submit accepted a job with no queue and the worker busy")
	}
	release()
}

// The stats tell the truth while work is in flight, and reading them races
// with nothing (go test -race).
func TestPoolStats(t *testing.T) {
	p, release := blockedPool(t, 3, 2)
	var readers sync.WaitGroup
	for range 8 {
		readers.Go(func() {
			for range 1000 {
				if s := p.stats(); s.Active+s.Idle != s.Total {
					t.Errorf("stats %+v: active and idle do not add up", s)
					return
				}
			}
		})
	}
	if got, want := p.stats(), (poolStats{Total: 3, Active: 3, Idle: 0, Queued: 2}); got != want {
		t.Errorf("stats while blocked = %+v; want %+v", got, want)
	}
	release()
	readers.Wait()
	eventually(t, "idle again", func() bool { return p.stats() == poolStats{Total: 3, Active: 0, Idle: 3, Queued: 0} })
}

func BenchmarkPool(b *testing.B) {
	p := newPool(defaultWorkers, defaultQueueSize)
	defer p.stop()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			done := make(chan struct{})
			for !p.submit(func() { close(done) }) {
				// The queue is full: more goroutines submit than it holds.
			}
			<-done
		}
	})
}
