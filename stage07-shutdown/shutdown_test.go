package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// states counts the connections of srv in each state.
func states(srv *server) map[connState]int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	n := make(map[connState]int)
	for c := range srv.conns {
		c.mu.Lock()
		n[c.state]++
		c.mu.Unlock()
	}
	return n
}

// In-process, in the order a shutdown takes: new connections are refused;
// a connection that has sent nothing, and a kept one idle, are closed
// after the grace period, unless a request begins in it; a request that
// has begun is answered, with Connection: close; and serve returns once
// those are done. The race detector sees this.
func TestShutDownInProcess(t *testing.T) {
	srv := newAppServer(defaultWorkers, defaultQueueSize, settings{clientTimeout: time.Minute})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- serve(ln, srv.serveConn) }()

	silent := dial(t, addr)
	started := dial(t, addr)
	io.WriteString(started, "GET /api/hello HTTP/1.1\r\nHo")
	idle, resumed := dialKept(t, addr), dialKept(t, addr)
	for _, k := range []*kept{idle, resumed} {
		k.send(reqBytes("GET / HTTP/1.1\nHost: x"))
		if resp, _ := k.next("GET"); resp.StatusCode != 200 || resp.Close {
			t.Fatalf("before the shutdown: %d, close %v; want 200, kept", resp.StatusCode, resp.Close)
		}
	}
	eventually(t, "one connection new, one active, two idle", func() bool {
		n := states(srv)
		return n[stateNew] == 1 && n[stateActive] == 1 && n[stateIdle] == 2
	})

	exit := make(chan int, 1)
	go func() { exit <- shutDown(context.Background(), ln, srv, time.Minute, served, nil) }()
	// The listener closes first, then the drain begins: the request below
	// must come after both.
	eventually(t, "new connections refused, and the drain begun", func() bool {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
		}
		return err != nil && srv.drainBegan.Load() != nil
	})
	resumed.send(reqBytes("GET /api/hello HTTP/1.1\nHost: x"))
	if resp, _ := resumed.next("GET"); resp.StatusCode != 200 || !resp.Close {
		t.Errorf("a request begun on an idle connection in the grace period = %d, close %v; want 200 and Connection: close", resp.StatusCode, resp.Close)
	}
	if got := readAllWithin(t, silent); got != "" {
		t.Errorf("a connection that sent nothing got %q; want a close without an answer", got)
	}
	if !idle.ended() || !resumed.ended() {
		t.Error("a kept connection outlived the shutdown's grace period")
	}
	io.WriteString(started, "st: x\r\n\r\n")
	if resp, _ := parseResponse(t, readAllWithin(t, started), "GET"); resp.StatusCode != 200 || !resp.Close {
		t.Errorf("a request begun before the shutdown = %d, close %v; want 200 and Connection: close", resp.StatusCode, resp.Close)
	}
	select {
	case code := <-exit:
		if code != 0 {
			t.Errorf("shutDown = %d; want 0", code)
		}
	case <-time.After(ioTimeout):
		t.Fatal("shutDown did not return after its connections were done")
	}
}

// A connection lingers after its last answer, reading and dropping what
// the client may still send (closeWriteAndDrain). A shutdown that begins
// then leaves that wait as it is: stretched to the request's client
// timeout, a minute here, it would hold up the exit.
func TestShutdownLeavesTheLinger(t *testing.T) {
	for try := 1; try <= 3; try++ {
		srv := newAppServer(defaultWorkers, defaultQueueSize, settings{clientTimeout: time.Minute})
		conn := dial(t, startServing(t, srv))
		// 405 before the body is read: where the next request would begin
		// is unknown, so the answer is the last, and the connection lingers.
		io.WriteString(conn, "POST /api/hello HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
		if resp, _ := parseResponse(t, readAllWithin(t, conn), "POST"); resp.StatusCode != 405 || !resp.Close {
			t.Fatalf("POST /api/hello = %d, close %v; want 405 and Connection: close", resp.StatusCode, resp.Close)
		}
		srv.beginDrain()
		if states(srv)[stateClosing] == 0 {
			// The linger ended before the drain began: a loaded machine
			// was too slow for this try to show anything.
			continue
		}
		eventually(t, "the linger over, within lingerTimeout", func() bool { return srv.openConns() == 0 })
		return
	}
	t.Fatal("in three tries, the drain never began while a connection lingered")
}

// The rest run the real binary and send it real signals (helpers_test.go
// builds and starts it).

// SIGTERM with requests in flight: every one is answered, new connections
// are refused, the log says so, and the exit is 0, within the drain timeout.
func TestShutdownDrainsInFlightRequests(t *testing.T) {
	p := startBinary(t)
	var inFlight []<-chan int
	for range 5 {
		inFlight = append(inFlight, getAsync(p.addr, "/slow?for=2s"))
	}
	eventually(t, "5 requests in flight", func() bool { return activeWorkers(t, p.addr) == 5 })

	p.signal(t, syscall.SIGTERM)
	p.waitForLog(t, "shutting down")
	eventually(t, "new connections refused", func() bool {
		conn, err := net.Dial("tcp", p.addr)
		if err == nil {
			conn.Close()
		}
		return err != nil
	})
	for i, status := range inFlight {
		if got := <-status; got != 200 {
			t.Errorf("request %d in flight got %d; want 200", i, got)
		}
	}
	p.waitForLog(t, "exited cleanly")
	if code := p.exitCode(t, drainTimeout); code != 0 {
		t.Errorf("exit code %d; want 0", code)
	}
}

// A connection that has begun its request when the signal comes is read to
// its end and answered; one that has sent nothing is closed after the grace
// period, without an answer.
func TestShutdownAnswersBegunRequestsOnly(t *testing.T) {
	p := startBinary(t)
	idle := dial(t, p.addr)
	begun := dial(t, p.addr)
	io.WriteString(begun, "GET /api/hello HTTP/1.1\r\nHo")

	p.signal(t, syscall.SIGTERM)
	p.waitForLog(t, "shutting down")
	io.WriteString(begun, "st: x\r\n\r\n")
	if resp, _ := parseResponse(t, readAllWithin(t, begun), "GET"); resp.StatusCode != 200 {
		t.Errorf("begun request = %d; want 200", resp.StatusCode)
	}
	if got := readAllWithin(t, idle); got != "" {
		t.Errorf("idle connection got %q; want a close without an answer", got)
	}
	if code := p.exitCode(t, drainTimeout); code != 0 {
		t.Errorf("exit code %d; want 0", code)
	}
}

// A request that outlives the drain timeout is cut: the log says how many,
// and the exit code is 1.
func TestShutdownCutsAtDrainTimeout(t *testing.T) {
	p := startBinary(t)
	status := getAsync(p.addr, "/slow?for=30s")
	eventually(t, "1 request in flight", func() bool { return activeWorkers(t, p.addr) == 1 })

	p.signal(t, syscall.SIGTERM)
	p.waitForLog(t, "shutting down")
	if line := p.waitForLog(t, "drain timeout"); !strings.Contains(line, "cut=1") {
		t.Errorf("log %q; want it to say cut=1", line)
	}
	if code := p.exitCode(t, ioTimeout); code != 1 {
		t.Errorf("exit code %d; want 1", code)
	}
	if got := <-status; got != 0 {
		t.Errorf("cut request got %d; want no answer", got)
	}
}

// A second signal ends the shutdown at once, with exit code 1.
func TestSecondSignalForcesExit(t *testing.T) {
	p := startBinary(t)
	getAsync(p.addr, "/slow?for=30s")
	eventually(t, "1 request in flight", func() bool { return activeWorkers(t, p.addr) == 1 })

	p.signal(t, syscall.SIGINT)
	p.waitForLog(t, "shutting down")
	p.signal(t, syscall.SIGINT)
	p.waitForLog(t, "second signal")
	if code := p.exitCode(t, ioTimeout); code != 1 {
		t.Errorf("exit code %d; want 1", code)
	}
}

// SIGTERM with 100 idle kept connections and 10 requests in flight: the 10
// are answered, the idle connections are closed once the grace period has
// passed, without a byte, and the exit is 0.
func TestShutdownWithIdleKeptConnections(t *testing.T) {
	p := startBinary(t)
	var idle []*kept
	for range 100 {
		k := dialKept(t, p.addr)
		k.send(reqBytes("GET /health HTTP/1.1\nHost: x"))
		k.next("GET")
		idle = append(idle, k)
	}
	var inFlight []<-chan int
	for range 10 {
		inFlight = append(inFlight, getAsync(p.addr, "/slow?for=2s"))
	}
	eventually(t, "10 requests in flight", func() bool { return activeWorkers(t, p.addr) == 10 })

	p.signal(t, syscall.SIGTERM)
	p.waitForLog(t, "shutting down")
	for i, status := range inFlight {
		if got := <-status; got != 200 {
			t.Errorf("request %d in flight got %d; want 200", i, got)
		}
	}
	for i, k := range idle {
		if !k.ended() {
			t.Fatalf("idle connection %d was not closed, or got bytes", i)
		}
	}
	if line := p.waitForLog(t, "exited cleanly"); !strings.Contains(line, "closed_without_request=0") {
		t.Errorf("exit line %q; want closed_without_request=0", line)
	}
	if code := p.exitCode(t, drainTimeout); code != 0 {
		t.Errorf("exit code %d; want 0", code)
	}
}

// keptLoad is what happened to clients that send request after request on
// kept connections through a shutdown.
type keptLoad struct {
	answered atomic.Int64 // a whole 200
	refused  atomic.Int64 // a reconnect refused at connect: the listener had closed
	lost     atomic.Int64 // a request written and not answered, or a reset
}

// client sends requests back to back on a kept connection, reconnecting
// when an answer ends it, until stop closes or a reconnect is refused.
func (l *keptLoad) client(addr string, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		conn, err := net.DialTimeout("tcp", addr, ioTimeout)
		if err != nil {
			l.refused.Add(1)
			return
		}
		l.converse(conn, stop)
	}
}

// converse sends requests on conn, one at a time, until an answer says
// Connection: close, and counts what happened.
func (l *keptLoad) converse(conn net.Conn, stop <-chan struct{}) {
	defer conn.Close()
	br := bufio.NewReader(conn)
	for {
		select {
		case <-stop:
			return
		default:
		}
		conn.SetDeadline(time.Now().Add(ioTimeout))
		if _, err := io.WriteString(conn, "GET /api/hello HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			l.lost.Add(1)
			return
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			l.lost.Add(1)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			l.lost.Add(1)
			return
		}
		l.answered.Add(1)
		if resp.Close {
			return
		}
	}
}

// SIGTERM while 32 clients send request after request on kept connections:
// every request sent on a connection the server accepted is answered, the
// last on each with Connection: close; a client that then reconnects is
// refused at connect, which it may safely retry, and never reset, because
// the listener closes before any kept client is told to go.
func TestShutdownUnderKeptLoad(t *testing.T) {
	p := startBinary(t)
	var load keptLoad
	stop := make(chan struct{})
	var clients sync.WaitGroup
	for range 32 {
		clients.Go(func() { load.client(p.addr, stop) })
	}
	eventually(t, "the clients warm", func() bool { return load.answered.Load() >= 2000 })
	p.signal(t, syscall.SIGTERM)
	code := p.exitCode(t, drainTimeout+ioTimeout)
	close(stop)
	clients.Wait()
	t.Logf("answered %d, refused at connect %d, lost %d", load.answered.Load(), load.refused.Load(), load.lost.Load())
	if n := load.lost.Load(); n != 0 {
		t.Errorf("%d requests were sent and not answered, or reset; want none", n)
	}
	if code != 0 {
		t.Errorf("exit code %d; want 0", code)
	}
}
