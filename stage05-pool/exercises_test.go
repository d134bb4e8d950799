//go:build exercises

package main

// The open exercise of this stage's README, as a test. It fails on the stage
// as shipped and passes once the exercise is solved:
//
//	go test -tags exercises -run TestExerciseRefuseBeforeBody .

import (
	"bufio"
	"io"
	"strings"
	"testing"
)

// With every worker busy and no queue, a request that waits for 100 Continue
// before it sends its body gets its 503 at once: the server checks for room
// after routing, before it invites or reads the body, so the client never
// sends it.
func TestExerciseRefuseBeforeBody(t *testing.T) {
	started, release := make(chan struct{}, 1), make(chan struct{})
	srv := newAppServer(1, 0, settings{})
	srv.router.handle("GET", "/block", blockUntil(started, release))
	addr := startServing(t, srv)
	t.Cleanup(func() { close(release) }) // runs before the server stops

	go getStatus(addr, "/block")
	<-started
	eventually(t, "the worker busy", func() bool { return srv.pool.stats().Active == 1 })

	conn := dial(t, addr)
	io.WriteString(conn, reqBytes("POST /api/echo HTTP/1.1\nHost: x\nContent-Length: 5\nExpect: 100-continue"))
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the first answer: %q, %v", line, err)
	}
	if strings.HasPrefix(line, "HTTP/1.1 100 ") {
		t.Fatalf("first answer = %q; want 503 at once, with no 100 Continue to invite a body the server has no room for", line)
	}
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatalf("reading the answer after %q: %v", line, err)
	}
	resp, _ := parseResponse(t, line+string(rest), "POST")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("answer = %d, Retry-After %q; want 503, Retry-After 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}
