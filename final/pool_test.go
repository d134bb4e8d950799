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

// blockedPool returns a pool whose slots are all taken by jobs that wait
// for release, and whose queue is full of requests waiting for a slot.
func blockedPool(t *testing.T, workers, queueSize int) (p *pool, release func()) {
	t.Helper()
	p = newPool(workers, queueSize)
	gate := make(chan struct{})
	var running sync.WaitGroup
	for range workers + queueSize {
		running.Go(func() { p.run(func() { <-gate }) })
	}
	eventually(t, "every slot taken, the queue full", func() bool {
		return p.stats() == poolStats{Total: workers, Active: workers, Idle: 0, Queued: queueSize}
	})
	var once sync.Once
	release = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(func() { release(); running.Wait() })
	return p, release
}

func TestPoolRunsEveryJob(t *testing.T) {
	p := newPool(4, 100)
	var ran atomic.Int64
	var callers sync.WaitGroup
	for range 100 {
		callers.Go(func() {
			if !p.run(func() { ran.Add(1) }) {
				t.Error("run refused with room in the queue")
			}
		})
	}
	callers.Wait()
	if got := ran.Load(); got != 100 {
		t.Errorf("ran %d jobs; want 100", got)
	}
}

// With every slot taken and the queue full, run says no at once.
func TestPoolRunNeverWaitsPastTheQueue(t *testing.T) {
	p, release := blockedPool(t, 2, 3)
	refused := make(chan bool)
	go func() { refused <- !p.run(func() {}) }()
	select {
	case ok := <-refused:
		if !ok {
			t.Error("run took a job with the queue full")
		}
	case <-time.After(ioTimeout):
		t.Fatal("run waited with the queue full")
	}
	release()
}

func TestPoolQueueOfZero(t *testing.T) {
	p, release := blockedPool(t, 1, 0)
	if p.run(func() {}) {
		t.Error("run took a job with no queue and the slot taken")
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
	release()
	readers.Wait()
	eventually(t, "idle again", func() bool { return p.stats() == poolStats{Total: 3, Active: 0, Idle: 3, Queued: 0} })
}

func BenchmarkPool(b *testing.B) {
	p := newPool(defaultWorkers, defaultQueueSize)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			for !p.run(func() {}) {
				// The queue is full: more goroutines run than it holds.
			}
		}
	})
}
