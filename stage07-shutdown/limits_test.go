package main

// What no client can make the server do: hold a worker by sending nothing
// or sending slowly, keep one by not reading, wait forever, open more
// connections than the cap, or keep one connection for ever.

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
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
	eventually(t, "50 connections open", func() bool { return srv.openConns() == 50 })
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
	eventually(t, "2 connections open", func() bool { return srv.openConns() == 2 })

	resp, _ := parseResponse(t, readAllWithin(t, dial(t, addr)), "GET")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("over the cap = %d, Retry-After %q; want 503, Retry-After 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	first.Close()
	eventually(t, "1 connection open", func() bool { return srv.openConns() == 1 })
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

// A connection carries at most maxRequestsPerConn requests; the last says
// Connection: close.
func TestRequestMaximumEnds(t *testing.T) {
	k := dialKept(t, strings.TrimPrefix(startApp(t), "http://"))
	go io.WriteString(k.conn, strings.Repeat(reqBytes("GET /api/hello HTTP/1.1\nHost: x"), maxRequestsPerConn+1))
	for i := 1; i <= maxRequestsPerConn; i++ {
		resp, _ := k.next("GET")
		if resp.StatusCode != 200 || resp.Close != (i == maxRequestsPerConn) {
			t.Fatalf("response %d = %d, close %v; want 200, closing only the %dth", i, resp.StatusCode, resp.Close, maxRequestsPerConn)
		}
	}
	if !k.ended() {
		t.Errorf("request %d was answered; want the connection ended", maxRequestsPerConn+1)
	}
}

// An idle connection that sends nothing more is closed quietly after the
// idle timeout; one that begins a request and stalls gets 408, as a first
// request does; empty lines after an answer start no request, and draw no
// answer (RFC 9112 §2.2).
func TestIdleTimeout(t *testing.T) {
	// Each first request has a second to arrive, so that a loaded machine
	// cannot make it late. A test that must send more before the idle
	// timeout ends uses a server that waits a minute idle.
	short := startServing(t, newAppServer(2, 10, settings{idleTimeout: 300 * time.Millisecond, clientTimeout: time.Second}))
	patient := startServing(t, newAppServer(2, 10, settings{idleTimeout: time.Minute, clientTimeout: time.Second}))
	tests := []struct {
		name, addr, after string // the server, and what the client sends after its first answer
		want              int    // the status of the next answer; 0 for none
	}{
		{"idle_closed_quietly", short, "", 0},
		{"empty_lines_ignored", short, "\r\n\r\n\n", 0},
		{"half_sent_second_request_408", patient, "GET / HTTP/1.1\r\nHo", 408},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := dialKept(t, tt.addr)
			k.send(reqBytes("GET / HTTP/1.1\nHost: x"))
			k.next("GET")
			k.send(tt.after)
			if tt.want == 0 {
				if !k.ended() {
					t.Error("an idle connection was still open after the idle timeout, or got bytes")
				}
				return
			}
			k.conn.SetReadDeadline(time.Now().Add(timeoutBound))
			if resp, _ := k.next("GET"); resp.StatusCode != tt.want || !resp.Close {
				t.Errorf("stalled second request = %d, close %v; want %d, Connection: close", resp.StatusCode, resp.Close, tt.want)
			}
		})
	}
	t.Run("empty_lines_then_a_request", func(t *testing.T) {
		k := dialKept(t, patient)
		k.send(reqBytes("GET / HTTP/1.1\nHost: x") + "\r\n")
		k.next("GET")
		k.send(reqBytes("GET /api/hello HTTP/1.1\nHost: x"))
		if resp, _ := k.next("GET"); resp.StatusCode != 200 {
			t.Errorf("a request after an empty line = %d; want 200", resp.StatusCode)
		}
	})
}

// idleConns counts the connections of srv that wait idle for a request.
func idleConns(srv *server) int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	n := 0
	for c := range srv.conns {
		if _, idle := c.idle(); idle {
			n++
		}
	}
	return n
}

// With the cap full and some connections idle, a new connection is served,
// and the connection idle longest is closed to make room; with none idle,
// the newcomer gets 503.
func TestCapClosesLongestIdle(t *testing.T) {
	srv := newAppServer(2, 10, settings{maxConns: 2, clientTimeout: time.Minute})
	addr := startServing(t, srv)
	first, second := dialKept(t, addr), dialKept(t, addr)
	for i, k := range []*kept{first, second} {
		k.send(reqBytes("GET / HTTP/1.1\nHost: x"))
		k.next("GET")
		eventually(t, "idle in order", func() bool { return idleConns(srv) == i+1 })
	}

	if resp, _ := getPath(t, addr, "/api/hello"); resp.StatusCode != 200 {
		t.Errorf("a newcomer with the cap full of idle connections = %d; want 200", resp.StatusCode)
	}
	if !first.ended() {
		t.Error("the connection idle longest is still open; want it closed to make room")
	}
	second.send(reqBytes("GET / HTTP/1.1\nHost: x"))
	if resp, _ := second.next("GET"); resp.StatusCode != 200 {
		t.Errorf("the other idle connection = %d; want it still served", resp.StatusCode)
	}

	second.conn.Close()
	eventually(t, "every connection gone", func() bool { return srv.openConns() == 0 })
	dial(t, addr) // silent: new, not idle, so neither can be closed for room
	dial(t, addr)
	eventually(t, "the cap full, nothing idle", func() bool { return srv.openConns() == 2 && idleConns(srv) == 0 })
	if resp, _ := getPath(t, addr, "/api/hello"); resp.StatusCode != 503 {
		t.Errorf("a newcomer with no idle connection to close = %d; want 503", resp.StatusCode)
	}
}

// With a budget for two bodies in memory and the handler holding every
// body it gets, many clients that each send a body at once get 200 or 503
// with Retry-After, never a reset or a lost answer; a chunked body is
// refused when a chunk does not fit; and once every answer is written, the
// budget is whole again.
func TestBodyBudget(t *testing.T) {
	const bodySize = 100 << 10
	started, release := make(chan struct{}, 50), make(chan struct{})
	srv := newAppServer(2, 50, settings{bodyBudget: 2 * bodySize, clientTimeout: time.Minute})
	srv.router.handle("POST", "/hold", func(req *Request) *Response {
		started <- struct{}{}
		<-release
		return textResponse(200, strconv.Itoa(len(req.Body))+" bytes\n")
	})
	addr := startServing(t, srv)
	body := strings.Repeat("x", bodySize)
	statuses := make(chan string, 20)
	for i := range 20 {
		go func() {
			raw := reqBytes("POST /hold HTTP/1.1\nHost: x\nContent-Length: "+strconv.Itoa(bodySize)) + body
			if i%2 == 1 { // chunked, in two chunks
				half := strconv.FormatInt(bodySize/2, 16)
				raw = reqBytes("POST /hold HTTP/1.1\nHost: x\nTransfer-Encoding: chunked") +
					half + "\r\n" + body[:bodySize/2] + "\r\n" + half + "\r\n" + body[bodySize/2:] + "\r\n0\r\n\r\n"
			}
			statuses <- answerTo(addr, raw)
		}()
	}
	for range 2 { // two bodies held: the budget is spent
		select {
		case <-started:
		case <-time.After(ioTimeout):
			t.Fatal("the budget for two bodies never held two")
		}
	}
	counts := map[string]int{}
	for range 18 {
		counts[<-statuses]++
	}
	close(release)
	for range 2 {
		counts[<-statuses]++
	}
	if counts["200"] != 2 || counts["503"] != 18 {
		t.Errorf("answers %v; want 2 × 200 and 18 × 503 with Retry-After, nothing else", counts)
	}
	eventually(t, "the budget whole again", func() bool { return srv.bodies.used.Load() == 0 })
}

// answerTo sends raw on a fresh connection and returns the status of the
// answer, "503" only with its Retry-After, or what went wrong instead. It
// reports to no test, so any goroutine may call it.
func answerTo(addr, raw string) string {
	conn, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return err.Error()
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(ioTimeout))
	go io.WriteString(conn, raw) // the answer may come before the body is all sent
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return err.Error()
	}
	resp.Body.Close()
	if resp.StatusCode == 503 && resp.Header.Get("Retry-After") != "1" {
		return "503 without Retry-After"
	}
	return strconv.Itoa(resp.StatusCode)
}

// Empty lines sent with a request, after its end, leave the connection
// idle once it is answered, as if they had come apart: under the idle
// timeout, not the request's, and open to the cap's eviction.
func TestEmptyLinesLeaveAConnectionIdle(t *testing.T) {
	srv := newAppServer(2, 10, settings{clientTimeout: time.Minute})
	k := dialKept(t, startServing(t, srv))
	k.send(reqBytes("GET / HTTP/1.1\nHost: x") + "\r\n\r\n")
	k.next("GET")
	eventually(t, "the connection idle", func() bool { return idleConns(srv) == 1 })
}

// A CR alone ends no line (RFC 9112 §2.2), so after an answer, as before a
// first request, it is no empty line to drop: it starts a request, which
// is refused.
func TestBareCRAfterAnAnswerRefused(t *testing.T) {
	k := dialKept(t, startServing(t, newAppServer(2, 10, settings{clientTimeout: time.Minute})))
	k.send(reqBytes("GET / HTTP/1.1\nHost: x") + "\r" + reqBytes("GET /api/hello HTTP/1.1\nHost: x"))
	k.next("GET")
	if resp, _ := k.next("GET"); resp.StatusCode != 400 || !resp.Close {
		t.Errorf("a request after a bare CR = %d, close %v; want 400, Connection: close", resp.StatusCode, resp.Close)
	}
}
