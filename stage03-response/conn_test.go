package main

// The wire: requests as raw bytes over a real loopback socket, and the
// answers read back with net/http's parser, an independent peer; the
// connection kept open for request after request, and what ends it.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"
)

// Every row of the request rules gets its status on the wire, in a response
// net/http can read; a row of status 0, a connection that sent nothing, gets
// no answer at all.
func TestWireRequestRules(t *testing.T) {
	addr := startHTTP(t)
	for _, rule := range requestRules {
		t.Run(rule.name, func(t *testing.T) {
			got := sendRaw(t, addr, rule.raw)
			if rule.want == 0 {
				if got != "" {
					t.Errorf("answer to a silent client = %q; want none", got)
				}
				return
			}
			if resp, _ := parseResponse(t, got, "GET"); resp.StatusCode != rule.want {
				t.Errorf("status = %d; want %d", resp.StatusCode, rule.want)
			}
		})
	}
}

func TestNetHTTPClientAcceptsResponses(t *testing.T) {
	addr := startHTTP(t)
	client := newClient(t)
	// If the server failed to send 100 Continue, the client would wait this
	// long before sending the body anyway: longer than its Timeout.
	client.Transport.(*http.Transport).ExpectContinueTimeout = time.Minute
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
			if err != nil || resp.StatusCode != 200 || resp.Close || !strings.Contains(string(body), tt.want) {
				t.Errorf("%s = %d, close %v, body %q, %v; want 200, kept, a body with %q",
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
		conn.(*net.TCPConn).CloseWrite()
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
			got := sendRaw(t, addr, tt.raw)
			if strings.HasPrefix(got, continueLine) {
				t.Errorf("got a 100 Continue; want only the final response")
			}
			if resp, _ := parseResponse(t, got, "POST"); resp.StatusCode != tt.want {
				t.Errorf("status = %d; want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

// A response to HEAD has the head of the response to GET and no body, a
// refusal included, even one of a head that could not be read (RFC 9110
// §9.3.2).
func TestHeadHasNoBody(t *testing.T) {
	addr := startHTTP(t)
	tests := []struct {
		name, raw string
		status    int
	}{
		{"answered", reqBytes("HEAD / HTTP/1.1\nHost: x"), 200},
		{"two_hosts", reqBytes("HEAD / HTTP/1.1\nHost: x\nHost: x"), 400},
		{"target_too_long", "HEAD /" + strings.Repeat("a", maxRequestLineBytes) + " HTTP/1.1\r\n\r\n", 414},
		{"fields_too_large", reqBytes("HEAD / HTTP/1.1\nHost: x\nX: " + strings.Repeat("a", maxFieldBytes)), 431},
		{"unknown_coding", reqBytes("HEAD / HTTP/1.1\nHost: x\nTransfer-Encoding: gzip, chunked"), 501},
		{"version", reqBytes("HEAD / HTTP/2.0\nHost: x"), 505},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sendRaw(t, addr, tt.raw)
			// parseResponse fails the test if anything follows the head.
			resp, _ := parseResponse(t, got, "HEAD")
			if resp.StatusCode != tt.status || resp.ContentLength <= 0 || !strings.HasSuffix(got, "\r\n\r\n") {
				t.Errorf("HEAD answer %q; want %d, a Content-Length and nothing after the head", got, tt.status)
			}
		})
	}
}

// A client still sending a body the server has refused must be able to
// finish sending and then see the connection end cleanly: the server reads
// and drops the rest instead of closing on it, which would make the kernel
// answer the late bytes with a reset (RFC 9112 §9.6). A client that gets a
// reset mid-upload, as curl does, reports the reset, not the answer.
//
// The server lingers for lingerTimeout: a try that a loaded machine made
// outlast it shows nothing, and is made again, up to three times.
func TestNoResetWhileClientStillSends(t *testing.T) {
	addr := startHTTP(t)
	for try := 1; ; try++ {
		start := time.Now()
		err := sendPastRefusal(t, addr)
		if err == nil {
			return
		}
		if time.Since(start) < lingerTimeout || try == 3 {
			t.Fatal(err)
		}
	}
}

// sendPastRefusal sends a body too large for the server, and the rest of
// it after the 413; it reports what went wrong, if anything did.
func sendPastRefusal(t *testing.T, addr string) error {
	conn := dial(t, addr)
	io.WriteString(conn, reqBytes(fmt.Sprintf("POST / HTTP/1.1\nHost: x\nContent-Length: %d", 4*maxBodyBytes)))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 413 {
		return fmt.Errorf("status = %d; want 413", resp.StatusCode)
	}
	chunk := strings.Repeat("x", 4<<10)
	for i := range 32 {
		if _, err := io.WriteString(conn, chunk); err != nil {
			return fmt.Errorf("write %d of the body after the answer: %w", i, err)
		}
	}
	conn.(*net.TCPConn).CloseWrite()
	if rest, err := io.ReadAll(br); err != nil || len(rest) > 0 {
		return fmt.Errorf("after the answer: %q, %v; want a clean end", rest, err)
	}
	return nil
}

// net/http's client reuses one connection for request after request, as
// every client that people use does. The client keeps a connection only if
// its own goroutine that wrote the request reports within 50 ms of the
// answer, which a loaded machine can miss; so the test counts the
// connections the client kept, and each must serve the next request.
func TestClientReusesOneConnection(t *testing.T) {
	addr := startHTTP(t)
	client := newClient(t)
	reused, kept, lastKept := 0, 0, false
	trace := &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			if info.Reused {
				reused++
			}
		},
		// Called before the body's EOF reaches the reader, so before the
		// next request.
		PutIdleConn: func(err error) { lastKept = err == nil },
	}
	ctx := httptrace.WithClientTrace(context.Background(), trace)
	for i := range 100 {
		if lastKept {
			kept++
		}
		lastKept = false
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/n", nil)
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
	if reused != kept || kept < 50 {
		t.Errorf("%d of 100 requests reused a connection, where the client had kept one for %d; want all of them, and most of the 99 after the first", reused, kept)
	}
}

// Pipelined requests, sent together, are answered in order, one at a time
// (RFC 9112 §9.3.2).
func TestPipelinedRequestsAnsweredInOrder(t *testing.T) {
	k := dialKept(t, startHTTP(t))
	k.send(reqBytes("GET /first HTTP/1.1\nHost: x") +
		reqBytes("POST /second HTTP/1.1\nHost: x\nContent-Length: 3") + "two" +
		reqBytes("HEAD /third HTTP/1.1\nHost: x"))
	if resp, body := k.next("GET"); resp.StatusCode != 200 || !strings.Contains(body, "path:    /first\n") {
		t.Errorf("first = %d %q; want the answer to /first", resp.StatusCode, body)
	}
	if resp, body := k.next("POST"); resp.StatusCode != 200 || !strings.Contains(body, "path:    /second\n") || !strings.Contains(body, "body:    3 bytes") {
		t.Errorf("second = %d %q; want the answer to /second and its 3 bytes", resp.StatusCode, body)
	}
	if resp, body := k.next("HEAD"); resp.StatusCode != 200 || body != "" || resp.ContentLength <= 0 {
		t.Errorf("third = %d %q, length %d; want HEAD's 200 with no body", resp.StatusCode, body, resp.ContentLength)
	}
	k.send(reqBytes("GET /fourth HTTP/1.1\nHost: x"))
	if resp, body := k.next("GET"); resp.StatusCode != 200 || !strings.Contains(body, "/fourth") {
		t.Errorf("a request after the pipeline = %d %q; want the answer to /fourth", resp.StatusCode, body)
	}
}

// A request that cannot be framed, or is refused with its body unread, in a
// pipeline is answered, and ends the connection: what follows it is never
// read as a request, since where it begins is unknown.
func TestFramingDoubtEndsTheConnection(t *testing.T) {
	addr := startHTTP(t)
	tests := []struct {
		name, doubt string
		status      int
	}{
		{"space_before_colon", reqBytes("GET / HTTP/1.1\nHost : x"), 400},
		{"two_lengths", reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: 1\nContent-Length: 2") + "ab", 400},
		{"length_and_chunked", reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: 3\nTransfer-Encoding: chunked") + "0\r\n\r\n", 400},
		{"body_too_large", reqBytes(fmt.Sprintf("POST / HTTP/1.1\nHost: x\nContent-Length: %d", maxBodyBytes+1)), 413},
		{"unknown_coding", reqBytes("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: gzip, chunked") + "0\r\n\r\n", 501},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := dialKept(t, addr)
			k.send(reqBytes("GET /first HTTP/1.1\nHost: x") + tt.doubt + reqBytes("GET /smuggled HTTP/1.1\nHost: x"))
			if resp, _ := k.next("GET"); resp.StatusCode != 200 || resp.Close {
				t.Errorf("first = %d, close %v; want 200, kept", resp.StatusCode, resp.Close)
			}
			if resp, _ := k.next("POST"); resp.StatusCode != tt.status || !resp.Close {
				t.Errorf("second = %d, close %v; want %d and Connection: close", resp.StatusCode, resp.Close, tt.status)
			}
			if !k.ended() {
				t.Error("the connection went on after the refusal; want its end")
			}
		})
	}
}

// What ends a connection after its answer, and what that answer says in
// its Connection field (RFC 9112 §9.3, §9.6).
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
		{"refused_without_body", "GET / HTTP/1.1\nHost: x\nExpect: coffee", true, ""},
		{"refused_with_body_unread", "POST / HTTP/1.1\nHost: x\nExpect: coffee\nContent-Length: 5", false, "close"},
	}
	addr := startHTTP(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := dialKept(t, addr)
			k.send(reqBytes(tt.request))
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
			if !tt.keeps {
				if !k.ended() {
					t.Error("the connection stayed open after the answer, or sent more; want its end")
				}
				return
			}
			k.send(reqBytes("GET /again HTTP/1.1\nHost: x"))
			if resp, body := k.next("GET"); resp.StatusCode != 200 || !strings.Contains(body, "/again") {
				t.Errorf("the next request on the connection = %d %q; want it answered", resp.StatusCode, body)
			}
		})
	}
}

// A client that sends a large body the server refuses without reading it
// gets the refusal, every time, not a reset: after the answer the server
// reads and drops what still comes, for lingerTimeout, however many bytes
// that is. Go's client writes the whole body before it reads, as many do.
// A try that a loaded machine made outlast the linger shows nothing.
func TestRefusalReachesAClientStillSending(t *testing.T) {
	addr := startHTTP(t)
	client := newClient(t)
	body := bytes.Repeat([]byte("x"), 2<<20)
	for i := range 40 {
		start := time.Now()
		resp, err := client.Post("http://"+addr+"/upload", "application/octet-stream", bytes.NewReader(body))
		if err != nil && time.Since(start) >= lingerTimeout {
			continue
		}
		if err != nil {
			t.Fatalf("try %d: %v; want the 413", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 413 {
			t.Fatalf("try %d: status %d; want 413", i, resp.StatusCode)
		}
	}
}
