package main

// What no client can make the server do: hold a worker by sending nothing
// or sending slowly, keep one by not reading, wait forever, or open more
// connections than the cap.

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// blockUntil is a handler that tells started it has begun, then waits for
// release.
func blockUntil(started chan<- struct{}, release <-chan struct{}) Handler {
	return func(*Request) *Response {
		started <- struct{}{}
		<-release
		return textResponse(200, "released\n")
	}
}

// getStatus sends GET path on its own connection and returns the status,
// or 0 if the request failed. It reports to no test, so any goroutine may
// call it: t.Fatal belongs to the test's own goroutine.
func getStatus(addr, path string) int {
	client := http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + addr + path)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// getPath sends GET path on a fresh connection, as its only request, and
// returns the response.
func getPath(t *testing.T, addr, path string) (*http.Response, string) {
	t.Helper()
	return parseResponse(t, exchange(t, addr, reqBytes("GET "+path+" HTTP/1.1\nHost: x\nConnection: close")), "GET")
}

// With every worker busy and the queue full, the next request gets 503 with
// Retry-After, and every request that was taken gets its 200 once the work
// can go on.
func TestOverloadGets503(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	srv := newAppServer(2, 2, settings{})
	srv.router.handle("GET", "/block", blockUntil(started, release))
	addr := startServing(t, srv)

	statuses := make(chan int, 4)
	for range 4 {
		go func() { statuses <- getStatus(addr, "/block") }()
	}
	<-started
	<-started
	eventually(t, "two running, two queued", func() bool { return srv.pool.stats() == poolStats{Total: 2, Active: 2, Idle: 0, Queued: 2} })

	resp, body := getPath(t, addr, "/block")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("overloaded answer = %d, Retry-After %q, %q; want 503, Retry-After 1", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}

	close(release)
	for range 2 {
		<-started // the queued two now run
	}
	for range 4 {
		if status := <-statuses; status != 200 {
			t.Errorf("an accepted request got %d; want 200", status)
		}
	}
}

// Fifty clients connect and send nothing, with a client timeout of a minute
// and two workers (and a queue, so that a worker just back from a job
// counts as free). A fresh request is answered at once, because reading
// needs no worker. A server that gave each connection a worker, as the seed
// did, would make it wait behind them all.
func TestSilentClientsHoldNoWorker(t *testing.T) {
	srv := newAppServer(2, 10, settings{clientTimeout: time.Minute})
	addr := startServing(t, srv)
	for range 50 {
		dial(t, addr)
	}
	eventually(t, "50 connections open", func() bool { return srv.open.Load() == 50 })
	if stats := srv.pool.stats(); stats.Active != 0 {
		t.Errorf("with 50 silent clients, pool = %+v; want no worker held", stats)
	}

	client := http.Client{Timeout: ioTimeout}
	resp, err := client.Get("http://" + addr + "/api/hello")
	if err != nil {
		t.Fatalf("fresh request with 50 silent clients: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status %d; want 200", resp.StatusCode)
	}
}

// timeoutServer has a client timeout of 300 ms: a test of it must see its
// 408 or close within 5 s, a bound with room for a loaded machine.
func timeoutServer(t *testing.T) string {
	return startServing(t, newAppServer(2, 10, settings{clientTimeout: 300 * time.Millisecond}))
}

const timeoutBound = 5 * time.Second

// readAllWithin reads conn to its end and fails the test if that takes
// longer than timeoutBound.
func readAllWithin(t *testing.T, conn net.Conn) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(timeoutBound))
	got, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("after %v: read %q, %v; want the server to have answered and closed", timeoutBound, got, err)
	}
	return string(got)
}

// A client that sends a byte at a time, and keeps sending, is cut off by the
// deadline on the whole request; a deadline per read would never fire.
func TestTrickleGets408(t *testing.T) {
	conn := dial(t, timeoutServer(t))
	stop := make(chan struct{})
	defer close(stop)
	go trickle(conn, stop)
	if resp, _ := parseResponse(t, readAllWithin(t, conn), "GET"); resp.StatusCode != 408 {
		t.Errorf("status = %d; want 408", resp.StatusCode)
	}
}

// trickle writes one byte of a request head every 20 ms until stop closes,
// like a client on the slowest link there is.
func trickle(conn net.Conn, stop <-chan struct{}) {
	const head = "GET / HTTP/1.1\r\nX-Slow: "
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-tick.C:
			if _, err := conn.Write([]byte{head[min(i, len(head)-1)]}); err != nil {
				return
			}
		}
	}
}

func TestPartialRequestGets408(t *testing.T) {
	conn := dial(t, timeoutServer(t))
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n")
	if resp, _ := parseResponse(t, readAllWithin(t, conn), "GET"); resp.StatusCode != 408 {
		t.Errorf("status = %d; want 408", resp.StatusCode)
	}
}

func TestSilentClientClosedQuietly(t *testing.T) {
	conn := dial(t, timeoutServer(t))
	if got := readAllWithin(t, conn); got != "" {
		t.Errorf("a client that sent nothing got %q; want a close with no answer", got)
	}
}

// Over the connection cap, a new connection gets 503 without having sent a
// byte; once a connection closes, there is room again.
func TestConnectionCap(t *testing.T) {
	srv := newAppServer(2, 10, settings{maxConns: 2, clientTimeout: time.Minute})
	addr := startServing(t, srv)
	first := dial(t, addr)
	dial(t, addr)
	eventually(t, "2 connections open", func() bool { return srv.open.Load() == 2 })

	resp, _ := parseResponse(t, readAllWithin(t, dial(t, addr)), "GET")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("over the cap = %d, Retry-After %q; want 503, Retry-After 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	first.Close()
	eventually(t, "1 connection open", func() bool { return srv.open.Load() == 1 })
	if resp, _ := getPath(t, addr, "/api/hello"); resp.StatusCode != 200 {
		t.Errorf("under the cap again = %d; want 200", resp.StatusCode)
	}
}

// A client that never reads its response holds its worker only until the
// write deadline; then the worker is free for the next request.
func TestWriteDeadlineFreesWorker(t *testing.T) {
	big := make([]byte, 32<<20) // far more than the sockets' buffers hold
	srv := newAppServer(1, 1, settings{writeTimeout: 300 * time.Millisecond})
	taken := make(chan struct{}, 1)
	srv.router.handle("GET", "/big", func(*Request) *Response {
		taken <- struct{}{}
		return &Response{Status: 200, Body: big}
	})
	addr := startServing(t, srv)

	stuck := dial(t, addr)
	io.WriteString(stuck, reqBytes("GET /big HTTP/1.1\nHost: x")) // and never read
	select {
	case <-taken: // the worker has the job, and writes until the deadline
	case <-time.After(ioTimeout):
		t.Fatal("the handler never ran")
	}
	eventually(t, "the worker freed", func() bool { return srv.pool.stats().Active == 0 })

	if resp, _ := getPath(t, addr, "/api/hello"); resp.StatusCode != 200 {
		t.Errorf("next request = %d; want 200 from the freed worker", resp.StatusCode)
	}
}
