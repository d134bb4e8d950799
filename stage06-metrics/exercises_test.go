//go:build exercises

package main

// The open exercise of this stage's README, as a test. It fails on the stage
// as shipped and passes once the exercise is solved:
//
//	go test -tags exercises -run TestExerciseReady .

import (
	"encoding/json"
	"testing"
)

// /ready is 200 while a worker or a place in the queue is free, and 503
// with Retry-After once the queue is full, while /health stays 200. It is
// answered without a worker, and not counted.
func TestExerciseReady(t *testing.T) {
	started, release := make(chan struct{}, 2), make(chan struct{})
	srv := newAppServer(1, 1, settings{})
	srv.router.handle("GET", "/block", blockUntil(started, release))
	addr := startServing(t, srv)
	t.Cleanup(func() { close(release) }) // runs before the server stops

	assertReady := func(when string, status int) {
		t.Helper()
		resp, body := getPath(t, addr, "/ready")
		if resp.StatusCode != status {
			t.Fatalf("/ready %s = %d %q; want %d", when, resp.StatusCode, body, status)
		}
		if status == 503 && resp.Header.Get("Retry-After") != "1" {
			t.Errorf("/ready %s: Retry-After %q; want 1", when, resp.Header.Get("Retry-After"))
		}
	}
	assertReady("with every worker idle", 200)

	go getStatus(addr, "/block")
	<-started
	eventually(t, "the worker busy", func() bool { return srv.pool.stats().Active == 1 })
	assertReady("with the worker busy and the queue empty", 200)

	go getStatus(addr, "/block")
	eventually(t, "the queue full", func() bool { return srv.pool.stats().Queued == 1 })
	assertReady("with the worker busy and the queue full", 503)
	if resp, _ := getPath(t, addr, "/health"); resp.StatusCode != 200 {
		t.Errorf("/health with the queue full = %d; want 200", resp.StatusCode)
	}

	_, body := getPath(t, addr, "/metrics")
	var got metricsBody
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("/metrics: %v: %s", err, body)
	}
	if n, counted := got.ByPath["/ready"]; counted {
		t.Errorf("/metrics counts /ready %d times; want it not counted", n)
	}
}
