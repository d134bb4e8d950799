package main

// Persistent connections (keepalive.go), in-process, over real sockets:
// which connections stay open and which end, pipelining, the idle timeout,
// the cap full of idle connections, and the shutdown of kept ones.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"
)

// startKeepAlive serves this server's routes with connections that persist,
// within the limits of set, and returns the server and its address.
func startKeepAlive(t *testing.T, set settings) (*server, string) {
	t.Helper()
	set.keepAlive = true
	srv := newAppServer(defaultWorkers, defaultQueueSize, set)
	return srv, startServing(t, srv)
}

// kept is a client's side of one connection: it writes requests and reads
// the responses one at a time, with net/http's parser.
type kept struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func dialKept(t *testing.T, addr string) *kept {
	conn := dial(t, addr)
	return &kept{t, conn, bufio.NewReader(conn)}
}

// send writes raw, one or more requests.
func (k *kept) send(raw string) {
	k.t.Helper()
	if _, err := io.WriteString(k.conn, raw); err != nil {
		k.t.Fatalf("writing %.60q: %v", raw, err)
	}
}

// next reads the next response and its body.
func (k *kept) next(method string) (*http.Response, string) {
	k.t.Helper()
	resp, err := http.ReadResponse(k.br, &http.Request{Method: method})
	if err != nil {
		k.t.Fatalf("reading a response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		k.t.Fatalf("reading its body: %v", err)
	}
	return resp, string(body)
}

// ended reports whether the server has closed the connection with nothing
// more sent, within timeoutBound.
func (k *kept) ended() bool {
	k.conn.SetReadDeadline(time.Now().Add(timeoutBound))
	rest, err := io.ReadAll(k.br)
	return err == nil && len(rest) == 0
}

// open reports whether the connection is still open a moment after the
// last response: a read finds neither data nor its end before a short
// deadline. (A closed connection answers at once; an open one may be
// mistaken for closed only if the server is slower to close than this.)
func (k *kept) open() bool {
	k.conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err := k.br.Peek(1)
	k.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// net/http's client reuses one connection for request after request, as
// every client that people use does.
func TestTransportReusesOneConnection(t *testing.T) {
	_, addr := startKeepAlive(t, settings{})
	client := &http.Client{Timeout: ioTimeout, Transport: &http.Transport{}}
	defer client.CloseIdleConnections() // else the server waits for it at cleanup
	reused := 0
	for i := range 100 {
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
			if info.Reused {
				reused++
			}
		}}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", "http://"+addr+"/api/hello", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Close {
			t.Fatalf("request %d = %d, close %v; want 200 on a kept connection", i, resp.StatusCode, resp.Close)
		}
	}
	if reused != 99 {
		t.Errorf("%d of 100 requests reused a connection; want 99 (all but the first)", reused)
	}
}

// Pipelined requests, sent together, are answered in order, one at a time.
func TestPipelinedRequestsAnsweredInOrder(t *testing.T) {
	_, addr := startKeepAlive(t, settings{})
	k := dialKept(t, addr)
	k.send(reqBytes("GET /api/hello?1 HTTP/1.1\nHost: x") +
		reqBytes("POST /api/echo?2 HTTP/1.1\nHost: x\nContent-Length: 3") + "two" +
		reqBytes("HEAD /api/hello?3 HTTP/1.1\nHost: x"))
	if resp, body := k.next("GET"); resp.StatusCode != 200 || !strings.Contains(body, `"path": "/api/hello"`) {
		t.Errorf("first = %d %q; want /api/hello's 200", resp.StatusCode, body)
	}
	if resp, body := k.next("POST"); resp.StatusCode != 200 || !strings.Contains(body, `"body": "two"`) {
		t.Errorf("second = %d %q; want the echo of two", resp.StatusCode, body)
	}
	if resp, body := k.next("HEAD"); resp.StatusCode != 200 || body != "" || resp.ContentLength <= 0 {
		t.Errorf("third = %d %q, length %d; want HEAD's 200 with no body", resp.StatusCode, body, resp.ContentLength)
	}
	if !k.open() {
		t.Error("the connection closed after three answers; want it kept")
	}
}

// A bad request in a pipeline is answered, and ends the connection: what
// follows it is never read as a request.
func TestBadRequestInPipelineEnds(t *testing.T) {
	_, addr := startKeepAlive(t, settings{})
	k := dialKept(t, addr)
	k.send(reqBytes("GET / HTTP/1.1\nHost: x") + reqBytes("GET / HTTP/1.1\nHost : x") + reqBytes("GET / HTTP/1.1\nHost: x"))
	if resp, _ := k.next("GET"); resp.StatusCode != 200 || resp.Close {
		t.Errorf("first = %d, close %v; want 200, kept", resp.StatusCode, resp.Close)
	}
	if resp, _ := k.next("GET"); resp.StatusCode != 400 || !resp.Close {
		t.Errorf("second = %d, close %v; want 400 and Connection: close", resp.StatusCode, resp.Close)
	}
	if !k.ended() {
		t.Error("the connection went on after the 400; want its end")
	}
}

// What ends a kept connection, and what the last response says.
func TestWhatEndsAConnection(t *testing.T) {
	tests := []struct {
		name, request string
		keeps         bool
		connection    string // the response's Connection field
	}{
		{"http_1_1", "GET / HTTP/1.1\nHost: x", true, ""},
		{"http_1_1_close", "GET / HTTP/1.1\nHost: x\nConnection: close", false, "close"},
		{"http_1_1_close_among_options", "GET / HTTP/1.1\nHost: x\nConnection: Upgrade, Close", false, "close"},
		{"http_1_0", "GET / HTTP/1.0", false, "close"},
		{"http_1_0_keep_alive", "GET / HTTP/1.0\nConnection: keep-alive", true, "keep-alive"},
		{"http_1_0_keep_alive_any_case", "GET / HTTP/1.0\nConnection: Keep-Alive", true, "keep-alive"},
		{"not_found_without_body", "GET /nope HTTP/1.1\nHost: x", true, ""},
		{"not_found_with_body_unread", "POST /nope HTTP/1.1\nHost: x\nContent-Length: 5\n\nhello", false, "close"},
	}
	_, addr := startKeepAlive(t, settings{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := reqBytes(tt.request)
			if head, body, ok := strings.Cut(tt.request, "\n\n"); ok {
				raw = reqBytes(head) + body
			}
			k := dialKept(t, addr)
			k.send(raw)
			resp, _ := k.next("GET")
			// net/http's parser takes "Connection: close" out of the
			// header into resp.Close.
			got := resp.Header.Get("Connection")
			if resp.Close {
				got = "close"
			}
			if got != tt.connection {
				t.Errorf("Connection = %q; want %q", got, tt.connection)
			}
			switch {
			case tt.keeps && !k.open():
				t.Error("the connection ended after the answer; want it kept")
			case !tt.keeps && !k.ended():
				t.Error("the connection stayed open after the answer, or sent more; want its end")
			}
		})
	}
}

// A connection carries at most maxRequestsPerConn requests; the last says
// Connection: close.
func TestRequestMaximumEnds(t *testing.T) {
	_, addr := startKeepAlive(t, settings{})
	k := dialKept(t, addr)
	go io.WriteString(k.conn, strings.Repeat(reqBytes("GET /health HTTP/1.1\nHost: x"), maxRequestsPerConn+1))
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
// request does.
func TestIdleTimeout(t *testing.T) {
	_, addr := startKeepAlive(t, settings{idleTimeout: 300 * time.Millisecond, clientTimeout: 300 * time.Millisecond})
	t.Run("idle_closed_quietly", func(t *testing.T) {
		k := dialKept(t, addr)
		k.send(reqBytes("GET / HTTP/1.1\nHost: x"))
		k.next("GET")
		if !k.ended() {
			t.Error("an idle connection was still open after the idle timeout, or got bytes")
		}
	})
	t.Run("half_sent_second_request_408", func(t *testing.T) {
		k := dialKept(t, addr)
		k.send(reqBytes("GET / HTTP/1.1\nHost: x"))
		k.next("GET")
		k.send("GET / HTTP/1.1\r\nHo")
		k.conn.SetReadDeadline(time.Now().Add(timeoutBound))
		if resp, _ := k.next("GET"); resp.StatusCode != 408 || !resp.Close {
			t.Errorf("stalled second request = %d, close %v; want 408, Connection: close", resp.StatusCode, resp.Close)
		}
	})
}

// With the cap full and some connections idle, a new connection is served,
// and the connection idle longest is closed to make room; with none idle,
// the newcomer gets 503.
func TestCapClosesLongestIdle(t *testing.T) {
	srv, addr := startKeepAlive(t, settings{maxConns: 2, clientTimeout: time.Minute})
	first, second := dialKept(t, addr), dialKept(t, addr)
	for i, k := range []*kept{first, second} {
		k.send(reqBytes("GET / HTTP/1.1\nHost: x"))
		k.next("GET")
		eventually(t, "idle in order", func() bool { return srv.metrics.conns.stats().Idle == int64(i+1) })
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
	eventually(t, "every connection gone", func() bool { return srv.metrics.conns.stats().Open == 0 })
	dial(t, addr) // silent: new, not idle, so neither can be closed for room
	dial(t, addr)
	eventually(t, "the cap full, nothing idle", func() bool {
		s := srv.metrics.conns.stats()
		return s.Open == 2 && s.Idle == 0
	})
	if resp, _ := getPath(t, addr, "/api/hello"); resp.StatusCode != 503 {
		t.Errorf("a newcomer with no idle connection to close = %d; want 503", resp.StatusCode)
	}
}

// A shutdown treats an idle kept connection as one that has sent nothing:
// closed after the grace period, unless a request begins in it; that one is
// answered, and its answer says Connection: close.
func TestShutdownClosesIdleConnections(t *testing.T) {
	srv, addr := startKeepAlive(t, settings{})
	idle, resumed := dialKept(t, addr), dialKept(t, addr)
	for _, k := range []*kept{idle, resumed} {
		k.send(reqBytes("GET / HTTP/1.1\nHost: x"))
		k.next("GET")
	}
	eventually(t, "two idle connections", func() bool { return srv.metrics.conns.stats().Idle == 2 })
	srv.beginShutdown(fakeListener{})
	resumed.send(reqBytes("GET /api/hello HTTP/1.1\nHost: x"))
	if resp, _ := resumed.next("GET"); resp.StatusCode != 200 || !resp.Close {
		t.Errorf("a request begun in the grace period = %d, close %v; want 200 and Connection: close", resp.StatusCode, resp.Close)
	}
	if !idle.ended() || !resumed.ended() {
		t.Error("a kept connection outlived the shutdown's grace period")
	}
}

// fakeListener stands in for the listener that beginShutdown stops: the
// real one goes on serving the test's connections.
type fakeListener struct{ net.Listener }

func (fakeListener) Close() error { return nil }

// /metrics shows the connections: open, idle, and the requests that reused
// one.
func TestMetricsShowConnections(t *testing.T) {
	_, addr := startKeepAlive(t, settings{})
	k := dialKept(t, addr)
	for range 3 {
		k.send(reqBytes("GET / HTTP/1.1\nHost: x"))
		k.next("GET")
	}
	k.send(reqBytes("GET /metrics HTTP/1.1\nHost: x"))
	_, body := k.next("GET")
	var got struct {
		Conns connStats `json:"connections"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if want := (connStats{Accepted: 1, Open: 1, Idle: 0, Reused: 3}); got.Conns != want {
		t.Errorf("connections = %+v; want %+v", got.Conns, want)
	}
}
