//go:build exercises

package main

// The open exercises of this stage (README.md, Exercises), one test each.
// Each fails as the stage ships and passes once its exercise is solved:
//
//	go test -tags exercises -run TestExerciseHangup .

import (
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// SIGHUP, which a terminal sends as it closes, is logged with the signal's
// name and ignored: the server goes on answering, and a SIGTERM after it
// still drains and exits 0. As shipped, SIGHUP kills the server, and its
// log ends without the line.
func TestExerciseHangup(t *testing.T) {
	p := startBinary(t)
	p.signal(t, syscall.SIGHUP)
	p.waitForLog(t, syscall.SIGHUP.String()) // "hangup"
	if got := getStatus(p.addr, "/health"); got != 200 {
		t.Errorf("GET /health after SIGHUP = %d; want 200", got)
	}
	p.signal(t, syscall.SIGTERM)
	p.waitForLog(t, "exited cleanly")
	if code := p.exitCode(t, drainTimeout); code != 0 {
		t.Errorf("exit code after SIGHUP, then SIGTERM = %d; want 0", code)
	}
}

// GET /ready answers 200 while the server takes requests, and 503 once a
// shutdown has begun, to a request that the shutdown lets finish. As
// shipped, there is no /ready: 404.
func TestExerciseReady(t *testing.T) {
	srv := newAppServer(defaultWorkers, defaultQueueSize, settings{clientTimeout: time.Minute})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- serve(ln, srv.serveConn) }()
	t.Cleanup(func() { ln.Close(); <-served; srv.pool.stop() })

	if resp, body := getPath(t, addr, "/ready"); resp.StatusCode != 200 {
		t.Errorf("GET /ready while serving = %d %q; want 200", resp.StatusCode, body)
	}

	begun := dial(t, addr)
	io.WriteString(begun, "GET /ready HTTP/1.1\r\nHo")
	eventually(t, "the request begun", func() bool { return states(srv)[stateActive] == 1 })
	ln.Close()
	srv.beginDrain()
	io.WriteString(begun, "st: x\r\n\r\n")
	if resp, body := parseResponse(t, readAllWithin(t, begun), "GET"); resp.StatusCode != 503 {
		t.Errorf("GET /ready once a shutdown has begun = %d %q; want 503", resp.StatusCode, body)
	}
}
