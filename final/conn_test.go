package main

// The wire: requests as raw bytes over a real loopback socket, and the
// answers read back with net/http's parser, an independent peer.

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

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

// startHTTP serves describe on every path and method, on a free port.
func startHTTP(t *testing.T) string {
	rt := newRouter()
	for _, method := range knownMethods {
		rt.handle(method, "/*", describe)
	}
	return startRouter(t, rt)
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
// net/http can read; a row of status 0, a connection that sent nothing, gets
// no answer at all.
func TestWireRequestRules(t *testing.T) {
	addr := startHTTP(t)
	for _, rule := range requestRules {
		t.Run(rule.name, func(t *testing.T) {
			got := exchange(t, addr, rule.raw)
			if rule.want == 0 {
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
