package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// copyBack is the handler these tests serve: it writes back what it reads,
// so a test can see that a connection was served.
func copyBack(conn net.Conn) { io.Copy(conn, conn) }

// ioTimeout bounds every wait on the network in these tests, so a broken
// server fails a test instead of hanging it. It is generous on purpose: the
// tests assert what happens, never how fast.
const ioTimeout = 10 * time.Second

// startServer serves handle on a free loopback port and returns the address.
// The server is stopped, and must have stopped cleanly, when the test ends.
func startServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- serve(ln, handle) }()
	t.Cleanup(func() {
		ln.Close()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v after Close; want nil", err)
		}
	})
	return ln.Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(ioTimeout))
	return conn
}

// assertEcho sends msg and expects the same bytes back.
func assertEcho(t *testing.T, conn net.Conn, msg string) {
	t.Helper()
	if _, err := io.WriteString(conn, msg); err != nil {
		t.Fatalf("write %q: %v", msg, err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(conn, got); err != nil {
		t.Fatalf("echo of %q: %v", msg, err)
	}
	if string(got) != msg {
		t.Errorf("echo = %q; want %q", got, msg)
	}
}

// A server that handled one connection at a time would still be busy with
// the first client, which has sent nothing, and never answer the second.
func TestServeHandlesClientsConcurrently(t *testing.T) {
	addr := startServer(t, copyBack)
	first := dial(t, addr)
	second := dial(t, addr)

	assertEcho(t, second, "from the second client\n")
	assertEcho(t, first, "from the first client\n")
}

func TestCloseStopsServeAndFreesThePort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- serve(ln, copyBack) }()

	client := dial(t, addr)
	assertEcho(t, client, "before close\n")
	client.Close()
	ln.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve = %v; want nil after Close", err)
		}
	case <-time.After(ioTimeout):
		t.Fatal("serve did not return after Close")
	}

	again, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening again on %s: %v", addr, err)
	}
	again.Close()
}

// Closing the listener stops accepting, but serve returns only once the
// connections it accepted have been served: then nothing they use is freed
// under them.
func TestServeReturnsAfterItsConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	var finished atomic.Bool
	done := make(chan error, 1)
	go func() {
		done <- serve(ln, func(net.Conn) {
			close(entered)
			<-release
			finished.Store(true)
		})
	}()
	dial(t, ln.Addr().String())
	<-entered
	ln.Close()
	select {
	case <-done:
		t.Fatal("serve returned while a connection was still being served")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil || !finished.Load() {
		t.Errorf("serve = %v with the handler finished %v; want nil after the handler", err, finished.Load())
	}
}

// temporaryError is an accept error that passes, like EMFILE.
type temporaryError struct{}

func (temporaryError) Error() string   { return "too many open files" }
func (temporaryError) Temporary() bool { return true }
func (temporaryError) Timeout() bool   { return false }

// failingListener returns its errors from Accept, one per call, before
// accepting for real.
type failingListener struct {
	net.Listener
	mu   sync.Mutex
	errs []error
}

func (l *failingListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) > 0 {
		err := l.errs[0]
		l.errs = l.errs[1:]
		return nil, err
	}
	return l.Listener.Accept()
}

func TestServeRetriesTemporaryAcceptErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	flaky := &failingListener{Listener: ln, errs: []error{temporaryError{}, temporaryError{}, temporaryError{}}}
	done := make(chan error, 1)
	go func() { done <- serve(flaky, copyBack) }()
	t.Cleanup(func() {
		ln.Close()
		if err := <-done; err != nil {
			t.Errorf("serve = %v; want nil", err)
		}
	})

	assertEcho(t, dial(t, ln.Addr().String()), "still serving\n")
}

func TestServeReturnsPermanentAcceptErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	broken := errors.New("listener broken")
	err = serve(&failingListener{Listener: ln, errs: []error{broken}}, copyBack)
	if !errors.Is(err, broken) {
		t.Errorf("serve = %v; want an error wrapping %v", err, broken)
	}
}

func TestIsTemporary(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"out_of_file_descriptors", &net.OpError{Op: "accept", Err: os.NewSyscallError("accept", syscall.EMFILE)}, true},
		{"listener_closed", net.ErrClosed, false},
		{"plain_error", errors.New("boom"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isTemporary(tt.err); got != tt.want {
				t.Errorf("isTemporary(%v) = %v; want %v", tt.err, got, tt.want)
			}
		})
	}
}

// exchange sends raw on a fresh connection, half-closes it, and returns all
// the server sent back before it closed. An error, a reset among them, fails
// the test: a client must never get a reset in place of its answer.
func exchange(t *testing.T, addr, raw string) string {
	t.Helper()
	conn := dial(t, addr)
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatalf("writing %.60q: %v", raw, err)
	}
	conn.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("reading the answer to %.60q: %v (after %q)", raw, err, got)
	}
	return string(got)
}

// parseResponse reads the one response in wire with net/http's parser, an
// independent peer, and checks what every response must have: a body of
// Content-Length bytes and nothing after it, a Date, the Server, and
// Connection: close.
func parseResponse(t *testing.T, wire, method string) (*http.Response, string) {
	t.Helper()
	r := bufio.NewReader(strings.NewReader(wire))
	resp, err := http.ReadResponse(r, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("net/http cannot read %q: %v", wire, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the body of %q: %v", wire, err)
	}
	if rest, _ := io.ReadAll(r); len(rest) > 0 {
		t.Errorf("bytes after the response: %q", rest)
	}
	if _, err := http.ParseTime(resp.Header.Get("Date")); err != nil {
		t.Errorf("Date %q: %v", resp.Header.Get("Date"), err)
	}
	if got := resp.Header.Get("Server"); got != serverName {
		t.Errorf("Server = %q; want %q", got, serverName)
	}
	if !resp.Close {
		t.Errorf("response does not say Connection: close: %q", wire)
	}
	return resp, string(body)
}

// startServing serves srv on a free port. When the test ends, it stops as a
// server should: the listener, then the connections, then the pool.
func startServing(t *testing.T, srv *server) string {
	t.Helper()
	t.Cleanup(srv.pool.stop) // cleanups run last first: this one runs last
	return startServer(t, srv.serveConn)
}

// startHTTP serves describe on every path and method, on a free port.
func startHTTP(t *testing.T) string {
	rt := newRouter()
	for _, method := range knownMethods {
		rt.handle(method, "/*", describe)
	}
	return startServing(t, newTestServer(rt, defaultWorkers, defaultQueueSize))
}

// newTestServer is a server for rt with a pool of the given size and the
// default limits.
func newTestServer(rt *router, workers, queueSize int) *server {
	return newServer(rt, newPool(workers, queueSize), newMetrics())
}

// describe answers with what the server read, so that a wire test can see it.
func describe(req *Request) *Response {
	var b strings.Builder
	fmt.Fprintf(&b, "method:  %s\ntarget:  %s\npath:    %s\nquery:   %s\nversion: %s\nhost:    %s\n",
		req.Method, req.Target, req.Path, req.Query, req.Version, req.Host)
	fmt.Fprintf(&b, "headers: %d\n", len(req.Headers))
	for _, f := range req.Headers {
		fmt.Fprintf(&b, "  %s: %s\n", f.Name, f.Value)
	}
	fmt.Fprintf(&b, "body:    %d bytes\n", len(req.Body))
	return textResponse(200, b.String())
}

// Every row of the request rules gets its status on the wire, in a response
// net/http can read; a connection that sent nothing gets no answer at all.
func TestWireRequestRules(t *testing.T) {
	addr := startHTTP(t)
	for _, rule := range requestRules {
		t.Run(rule.name, func(t *testing.T) {
			got := exchange(t, addr, rule.raw)
			if rule.raw == "" {
				if got != "" {
					t.Errorf("answer to a silent client = %q; want none", got)
				}
				return
			}
			want := rule.want
			if rule.name == "unknown_method_parses" {
				want = 501 // the parser takes any token; the router knows the methods
			}
			if resp, _ := parseResponse(t, got, "GET"); resp.StatusCode != want {
				t.Errorf("status = %d; want %d", resp.StatusCode, want)
			}
		})
	}
}

func TestNetHTTPClientAcceptsResponses(t *testing.T) {
	addr := startHTTP(t)
	client := &http.Client{
		Timeout: ioTimeout,
		// If the server failed to send 100 Continue, the client would wait
		// this long before sending the body anyway: longer than Timeout.
		Transport: &http.Transport{ExpectContinueTimeout: time.Minute},
	}
	unsized := func(s string) io.Reader { return io.MultiReader(strings.NewReader(s)) }
	tests := []struct {
		name, method string
		body         io.Reader
		header       http.Header
		want         string
	}{
		{"get", "GET", nil, nil, "body:    0 bytes"},
		{"head", "HEAD", nil, nil, ""},
		{"post_with_length", "POST", strings.NewReader("hello"), nil, "body:    5 bytes"},
		{"post_chunked", "POST", unsized("hello, chunks"), nil, "transfer-encoding: chunked"},
		{"post_expecting_100", "POST", strings.NewReader("hello"), http.Header{"Expect": {"100-continue"}}, "body:    5 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, "http://"+addr+"/a/b?c=d", tt.body)
			if err != nil {
				t.Fatal(err)
			}
			maps.Copy(req.Header, tt.header)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != 200 || !resp.Close || !strings.Contains(string(body), tt.want) {
				t.Errorf("%s = %d, close %v, body %q, %v; want 200, close, a body with %q",
					tt.method, resp.StatusCode, resp.Close, body, err, tt.want)
			}
		})
	}
}

func TestExpectContinue(t *testing.T) {
	addr := startHTTP(t)
	const continueLine = "HTTP/1.1 100 Continue\r\n\r\n"

	t.Run("100_before_the_body", func(t *testing.T) {
		// The client sends only the head, and must get the 100 before it
		// sends a byte of the body (RFC 9110 §10.1.1).
		conn := dial(t, addr)
		io.WriteString(conn, reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: 5\nExpect: 100-continue"))
		interim := make([]byte, len(continueLine))
		if _, err := io.ReadFull(conn, interim); err != nil || string(interim) != continueLine {
			t.Fatalf("interim response = %q, %v; want %q", interim, err, continueLine)
		}
		io.WriteString(conn, "hello")
		rest, err := io.ReadAll(conn)
		if err != nil {
			t.Fatal(err)
		}
		if resp, body := parseResponse(t, string(rest), "POST"); resp.StatusCode != 200 || !strings.Contains(body, "body:    5 bytes") {
			t.Errorf("final response %d %q; want 200 with the 5-byte body", resp.StatusCode, body)
		}
	})
	tests := []struct {
		name, raw string
		want      int
	}{
		{"body_over_limit_refused_at_once", reqBytes(fmt.Sprintf("POST / HTTP/1.1\nHost: x\nContent-Length: %d\nExpect: 100-continue", maxBodyBytes+1)), 413},
		{"ignored_in_http_1_0", reqBytes("POST / HTTP/1.0\nContent-Length: 5\nExpect: 100-continue") + "hello", 200},
		{"no_body_no_100", reqBytes("GET / HTTP/1.1\nHost: x\nExpect: 100-continue"), 200},
		{"other_expectation", reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: 5\nExpect: coffee") + "hello", 417},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := exchange(t, addr, tt.raw)
			if strings.HasPrefix(got, continueLine) {
				t.Errorf("got a 100 Continue; want only the final response")
			}
			if resp, _ := parseResponse(t, got, "POST"); resp.StatusCode != tt.want {
				t.Errorf("status = %d; want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

func TestOneRequestPerConnection(t *testing.T) {
	addr := startHTTP(t)
	t.Run("pipelined_request_not_answered", func(t *testing.T) {
		two := reqBytes("GET /first HTTP/1.1\nHost: x") + reqBytes("GET /second HTTP/1.1\nHost: x")
		// parseResponse fails the test if anything follows the first response.
		if _, body := parseResponse(t, exchange(t, addr, two), "GET"); !strings.Contains(body, "/first") {
			t.Errorf("body = %q; want the answer to /first", body)
		}
	})
	t.Run("head_has_no_body", func(t *testing.T) {
		got := exchange(t, addr, reqBytes("HEAD / HTTP/1.1\nHost: x"))
		if resp, _ := parseResponse(t, got, "HEAD"); resp.ContentLength <= 0 || !strings.HasSuffix(got, "\r\n\r\n") {
			t.Errorf("HEAD answer %q; want a Content-Length and nothing after the head", got)
		}
	})
}

// A client still sending a body the server has refused must be able to
// finish sending and then see the connection end cleanly: the server reads
// and drops the rest instead of closing on it, which would make the kernel
// answer the late bytes with a reset (RFC 9112 §9.6). A client that gets a
// reset mid-upload, as curl does, reports the reset, not the answer.
func TestNoResetWhileClientStillSends(t *testing.T) {
	addr := startHTTP(t)
	conn := dial(t, addr)
	io.WriteString(conn, reqBytes(fmt.Sprintf("POST / HTTP/1.1\nHost: x\nContent-Length: %d", 4*maxBodyBytes)))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 413 {
		t.Fatalf("status = %d; want 413", resp.StatusCode)
	}
	chunk := strings.Repeat("x", 4<<10)
	for i := range lingerMaxBytes / len(chunk) / 2 {
		if _, err := io.WriteString(conn, chunk); err != nil {
			t.Fatalf("write %d of the body after the answer: %v", i, err)
		}
	}
	conn.(*net.TCPConn).CloseWrite()
	if rest, err := io.ReadAll(br); err != nil || len(rest) > 0 {
		t.Errorf("after the answer: %q, %v; want a clean end", rest, err)
	}
}

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

// getPath sends GET path on a fresh connection and returns the response.
func getPath(t *testing.T, addr, path string) (*http.Response, string) {
	t.Helper()
	return parseResponse(t, exchange(t, addr, reqBytes("GET "+path+" HTTP/1.1\nHost: x")), "GET")
}

// With every worker busy and the queue full, the next request gets 503 with
// Retry-After, and every request that was taken gets its 200 once the work
// can go on.
func TestOverloadGets503(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	srv := newAppServer(2, 2)
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
	srv := newAppServer(2, 10)
	srv.clientTimeout = time.Minute
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
	srv := newAppServer(2, 10)
	srv.clientTimeout = 300 * time.Millisecond
	return startServing(t, srv)
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
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte{"GET / HTTP/1.1\r\nX-Slow: "[min(i, 24)]}); err != nil {
					return
				}
			}
		}
	}()
	if resp, _ := parseResponse(t, readAllWithin(t, conn), "GET"); resp.StatusCode != 408 {
		t.Errorf("status = %d; want 408", resp.StatusCode)
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
	srv := newAppServer(2, 10)
	srv.maxConns = 2
	srv.clientTimeout = time.Minute
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
	srv := newAppServer(1, 1)
	srv.router.handle("GET", "/big", func(*Request) *Response { return &Response{Status: 200, Body: big} })
	srv.writeTimeout = 300 * time.Millisecond
	addr := startServing(t, srv)

	stuck := dial(t, addr)
	io.WriteString(stuck, reqBytes("GET /big HTTP/1.1\nHost: x")) // and never read
	eventually(t, "the worker writing", func() bool { return srv.pool.stats().Active == 1 })
	eventually(t, "the worker freed", func() bool { return srv.pool.stats().Active == 0 })

	if resp, _ := getPath(t, addr, "/api/hello"); resp.StatusCode != 200 {
		t.Errorf("next request = %d; want 200 from the freed worker", resp.StatusCode)
	}
}
