package main

// The test helpers of this stage: a server on a free port, and clients
// that talk to it over a real loopback socket, with net/http's parser, an
// independent peer, reading what the server writes.

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startHTTP serves describe, this stage's application, on a free port.
func startHTTP(t *testing.T) string {
	return startServer(t, serveHTTP(describe))
}

// newClient is a net/http client whose kept connections are closed when
// the test ends: the server waits for every connection it accepted before
// it stops, and a client's idle connection would keep it waiting.
func newClient(t testing.TB) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Timeout: ioTimeout, Transport: tr}
}

// sendRaw sends raw on a fresh connection, half-closes it, and returns all
// the server sent back before it closed. An error, a reset among them, fails
// the test: a client must never get a reset in place of its answer.
func sendRaw(t *testing.T, addr, raw string) string {
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

// parseResponse reads the one response in wire with net/http's parser, and
// checks what every response must have: a body of Content-Length bytes and
// nothing after it, a Date, and the Server.
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
	return resp, string(body)
}

// kept is a client's side of one connection that it keeps open: it writes
// requests and reads the responses one at a time.
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
// more sent, while the client has not closed its side.
func (k *kept) ended() bool {
	k.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	rest, err := io.ReadAll(k.br)
	return err == nil && len(rest) == 0
}
