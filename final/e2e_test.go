package main

// End-to-end tests: the built binary, on a free port, over real sockets,
// with the net/http client and raw bytes as its peers.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestBinaryRoutes(t *testing.T) {
	base := "http://" + startBinary(t).addr
	checkRoutes(t, base)
	checkHead(t, base)
}

// wireRules are the request rules (the root README's table lists them),
// one row each, as the built server answers them with its defaults,
// connections persisting: raw bytes in, status out. Every answer must be a
// whole response net/http can read, with Date and Server. keeps says
// whether the connection stays open after it: every request that could not
// be read to its end (unframeable, refused with its body unread) ends the
// connection, as does HTTP/1.0 that did not ask to keep it. Rows whose
// request is fine use GET on a route that exists.
var wireRules = []struct {
	name   string
	raw    string
	status int
	keeps  bool
	header string // "Name: value" the answer must carry, if any
	body   string // text the body must contain, if any
}{
	{"empty_lines_before_request_line_skipped", "\r\n\r\n" + reqBytes("GET / HTTP/1.1\nHost: x"), 200, true, "", ""},
	{"bare_lf_accepted", "GET / HTTP/1.1\nHost: x\n\n", 200, true, "", ""},
	{"bare_cr_elsewhere", reqBytes("GET / HTTP/1.1\nHost: x\rY"), 400, false, "", ""},
	{"request_line_not_three_parts", reqBytes("GET  / HTTP/1.1\nHost: x"), 400, false, "", ""},
	{"method_not_uppercase", reqBytes("get / HTTP/1.1\nHost: x"), 400, false, "", ""},
	{"target_not_a_form", reqBytes("GET index.html HTTP/1.1\nHost: x"), 400, false, "", ""},
	{"absolute_form_accepted", reqBytes("GET http://example.com/api/hello?x=1 HTTP/1.1\nHost: x"), 200, true, "", `"path": "/api/hello"`},
	{"query_split_off", reqBytes("GET /api/hello?lang=en HTTP/1.1\nHost: x"), 200, true, "", `"path": "/api/hello"`},
	{"http_1_1", reqBytes("GET / HTTP/1.1\nHost: x"), 200, true, "", ""},
	{"http_1_0_needs_no_host", reqBytes("GET / HTTP/1.0"), 200, false, "", ""},
	{"http_1_0_keep_alive", reqBytes("GET / HTTP/1.0\nConnection: keep-alive"), 200, true, "Connection: keep-alive", ""},
	{"http_1_1_close", reqBytes("GET / HTTP/1.1\nHost: x\nConnection: close"), 200, false, "", ""},
	{"http_1_x_served_as_1_1", reqBytes("GET / HTTP/1.7\nHost: x"), 200, true, "", ""},
	{"other_major_version", reqBytes("GET / HTTP/2.0\nHost: x"), 505, false, "", ""},
	{"malformed_version", reqBytes("GET / http/1.1\nHost: x"), 400, false, "", ""},
	{"malformed_version_no_minor", reqBytes("GET / HTTP/1\nHost: x"), 400, false, "", ""},
	{"field_without_colon", reqBytes("GET / HTTP/1.1\nHost: x\nNoColon"), 400, false, "", ""},
	{"field_name_empty", reqBytes("GET / HTTP/1.1\nHost: x\n: v"), 400, false, "", ""},
	{"field_name_not_a_token", reqBytes("GET / HTTP/1.1\nHost: x\nBad@Name: v"), 400, false, "", ""},
	{"whitespace_before_colon", reqBytes("GET / HTTP/1.1\nHost : x"), 400, false, "", ""},
	{"obsolete_line_folding", reqBytes("GET / HTTP/1.1\nHost: x\nX: a\n b"), 400, false, "", ""},
	{"first_field_line_starts_with_space", reqBytes("GET / HTTP/1.1\n Host: x"), 400, false, "", ""},
	{"control_byte_in_value", reqBytes("GET / HTTP/1.1\nHost: x\nX: a\x00b"), 400, false, "", ""},
	{"htab_in_value_allowed", reqBytes("GET / HTTP/1.1\nHost: x\nX: a\tb"), 200, true, "", ""},
	{"field_repeated", reqBytes("GET / HTTP/1.1\nHost: x\nAccept: a\nAccept: b"), 200, true, "", ""},
	{"http_1_1_without_host", reqBytes("GET / HTTP/1.1"), 400, false, "", ""},
	{"two_hosts", reqBytes("GET / HTTP/1.1\nHost: a\nHost: b"), 400, false, "", ""},
	{"invalid_host", reqBytes("GET / HTTP/1.1\nHost: a b"), 400, false, "", ""},
	{"empty_host_origin_form", reqBytes("GET / HTTP/1.1\nHost:"), 400, false, "", ""},
	{"empty_host_asterisk_form", reqBytes("OPTIONS * HTTP/1.1\nHost:"), 200, true, "", ""},
	{"content_length_not_digits", reqBytes("GET / HTTP/1.1\nHost: x\nContent-Length: 5a"), 400, false, "", ""},
	{"content_length_overflowing", reqBytes("GET / HTTP/1.1\nHost: x\nContent-Length: 99999999999999999999"), 400, false, "", ""},
	{"content_length_two_values", reqBytes("GET / HTTP/1.1\nHost: x\nContent-Length: 1\nContent-Length: 2") + "ab", 400, false, "", ""},
	{"content_length_same_value_twice", reqBytes("GET / HTTP/1.1\nHost: x\nContent-Length: 2\nContent-Length: 2") + "ab", 200, true, "", ""},
	{"transfer_encoding_and_content_length", reqBytes("GET / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\nContent-Length: 5") + "0\r\n\r\n", 400, false, "", ""},
	{"transfer_encoding_in_http_1_0", reqBytes("GET / HTTP/1.0\nTransfer-Encoding: chunked") + "0\r\n\r\n", 400, false, "", ""},
	{"chunked_alone_decoded", reqBytes("GET / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked") + "5;e=1\r\nhello\r\n0\r\nT: 1\r\n\r\n", 200, true, "", ""},
	{"chunk_size_not_hex", reqBytes("GET / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked") + "zz\r\nhello\r\n0\r\n\r\n", 400, false, "", ""},
	{"chunk_longer_than_its_size", reqBytes("GET / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked") + "3\r\nhello\r\n0\r\n\r\n", 400, false, "", ""},
	{"chunked_not_last", reqBytes("GET / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked, gzip") + "0\r\n\r\n", 400, false, "", ""},
	{"chunked_twice", reqBytes("GET / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked, chunked") + "0\r\n\r\n", 400, false, "", ""},
	{"other_transfer_coding", reqBytes("GET / HTTP/1.1\nHost: x\nTransfer-Encoding: gzip, chunked") + "0\r\n\r\n", 501, false, "", ""},
	{"request_line_over_8_kib", reqBytes("GET /api/hello?" + strings.Repeat("q", maxRequestLineBytes) + " HTTP/1.1\nHost: x"), 414, false, "", ""},
	{"method_over_8_kib", reqBytes(strings.Repeat("M", 100_000) + " / HTTP/1.1\nHost: x"), 400, false, "", ""},
	{"target_of_8000_octets_served", reqBytes("GET /api/hello?" + strings.Repeat("q", 8000-len("/api/hello?")) + " HTTP/1.1\nHost: x"), 200, true, "", ""},
	{"field_lines_over_16_kib", reqBytes("GET / HTTP/1.1\nHost: x\nX: " + strings.Repeat("f", maxFieldBytes)), 431, false, "", ""},
	{"cookie_of_6_kb_served", reqBytes("GET / HTTP/1.1\nHost: x\nCookie: " + strings.Repeat("c", 6000)), 200, true, "", ""},
	{"body_over_1_mib", reqBytes(fmt.Sprintf("POST /api/echo HTTP/1.1\nHost: x\nContent-Length: %d", maxBodyBytes+1)), 413, false, "", ""},
	{"expect_100_continue_over_limit", reqBytes(fmt.Sprintf("POST /api/echo HTTP/1.1\nHost: x\nContent-Length: %d\nExpect: 100-continue", maxBodyBytes+1)), 413, false, "", ""},
	{"expect_100_continue_in_http_1_0_ignored", reqBytes("POST /api/echo HTTP/1.0\nContent-Length: 2\nExpect: 100-continue") + "ab", 200, false, "", `"body": "ab"`},
	{"other_expectation", reqBytes("GET / HTTP/1.1\nHost: x\nExpect: tea"), 417, true, "", ""},
	{"other_expectation_with_a_body", reqBytes("POST /api/echo HTTP/1.1\nHost: x\nContent-Length: 2\nExpect: tea") + "ab", 417, false, "", ""},
	{"unknown_method", reqBytes("BREW / HTTP/1.1\nHost: x"), 501, true, "", ""},
	{"unknown_path_named", reqBytes("GET /no/such/page HTTP/1.1\nHost: x"), 404, true, "", `"/no/such/page"`},
	{"method_not_on_path", reqBytes("POST /health HTTP/1.1\nHost: x"), 405, true, "Allow: GET, HEAD, OPTIONS", ""},
	{"get_on_echo", reqBytes("GET /api/echo HTTP/1.1\nHost: x"), 405, true, "Allow: POST, OPTIONS", ""},
	{"post_on_echo", reqBytes("POST /api/echo?q HTTP/1.1\nHost: x\nContent-Length: 5") + "hello", 200, true, "", `"body": "hello"`},
	{"options_on_path", reqBytes("OPTIONS /api/hello HTTP/1.1\nHost: x"), 200, true, "Allow: GET, HEAD, OPTIONS", ""},
	{"options_asterisk", reqBytes("OPTIONS * HTTP/1.1\nHost: x"), 200, true, "Allow: GET, HEAD, POST, OPTIONS", ""},
	{"asterisk_with_get", reqBytes("GET * HTTP/1.1\nHost: x"), 400, true, "", ""},
	// The order of checks: parse, method (501), path (404), method on the
	// path (405), body (413). Refused before it is read, a body ends the
	// connection.
	{"order_method_before_path", reqBytes("BREW /nope HTTP/1.1\nHost: x"), 501, true, "", ""},
	{"order_path_before_method", reqBytes("DELETE /nope HTTP/1.1\nHost: x"), 404, true, "", ""},
	{"order_method_on_path_before_body", reqBytes(fmt.Sprintf("POST / HTTP/1.1\nHost: x\nContent-Length: %d", maxBodyBytes+1)), 405, false, "", ""},
	{"order_path_before_body", reqBytes(fmt.Sprintf("GET /nope HTTP/1.1\nHost: x\nContent-Length: %d", maxBodyBytes+1)), 404, false, "", ""},
}

// followUp is sent right after each row's request, on the same connection.
// Where the row keeps the connection, it is answered too; where the row
// ends it, it must not be: above all where the row's framing is in doubt,
// since a second request read out of what may be a body is a smuggled one.
const followUp = "GET /api/hello?follow-up HTTP/1.1\r\nHost: x\r\n\r\n"

// readResponses reads every response in wire with net/http's parser, with
// its body, and fails the test on bytes that are not a response.
func readResponses(t *testing.T, wire string) []*http.Response {
	t.Helper()
	r := bufio.NewReader(strings.NewReader(wire))
	var all []*http.Response
	for {
		if _, err := r.Peek(1); err != nil {
			return all
		}
		resp, err := http.ReadResponse(r, &http.Request{Method: "GET"})
		if err != nil {
			t.Fatalf("net/http cannot read response %d of %q: %v", len(all)+1, wire, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("reading the body of response %d: %v", len(all)+1, err)
		}
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		all = append(all, resp)
	}
}

func TestBinaryRequestRules(t *testing.T) {
	addr := startBinary(t).addr
	for _, rule := range wireRules {
		t.Run(rule.name, func(t *testing.T) {
			answers := readResponses(t, sendRaw(t, addr, rule.raw+followUp))
			if len(answers) == 0 {
				t.Fatal("no answer")
			}
			resp := answers[0]
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != rule.status {
				t.Errorf("status = %d; want %d (body %q)", resp.StatusCode, rule.status, body)
			}
			if name, value, ok := strings.Cut(rule.header, ": "); ok && resp.Header.Get(name) != value {
				t.Errorf("%s = %q; want %q", name, resp.Header.Get(name), value)
			}
			if !strings.Contains(string(body), rule.body) {
				t.Errorf("body = %q; want it to contain %q", body, rule.body)
			}
			if resp.Header.Get("Date") == "" || resp.Header.Get("Server") != serverName {
				t.Errorf("Date %q, Server %q; want both", resp.Header.Get("Date"), resp.Header.Get("Server"))
			}
			switch {
			case rule.keeps && (len(answers) != 2 || resp.Close || answers[1].StatusCode != 200):
				t.Errorf("%d answers, the first closing: %v; want the follow-up answered 200 on the kept connection", len(answers), resp.Close)
			case !rule.keeps && (len(answers) != 1 || !resp.Close):
				t.Errorf("%d answers, the first closing: %v; want one, with Connection: close, then the end", len(answers), resp.Close)
			}
		})
	}
}

// The rows that need a conversation rather than one write.
func TestBinaryConversations(t *testing.T) {
	addr := startBinary(t).addr
	t.Run("closed_before_first_byte_gets_nothing", func(t *testing.T) {
		if got := sendRaw(t, addr, ""); got != "" {
			t.Errorf("answer = %q; want none", got)
		}
	})
	t.Run("head_same_length_no_body", func(t *testing.T) {
		got := sendRaw(t, addr, reqBytes("HEAD /api/hello HTTP/1.1\nHost: x\nConnection: close"))
		resp, body := parseResponse(t, got, "HEAD")
		want, _ := getPath(t, addr, "/api/hello")
		if resp.ContentLength != want.ContentLength || body != "" || !strings.HasSuffix(got, "\r\n\r\n") {
			t.Errorf("HEAD = %q; want GET's Content-Length %d and no body", got, want.ContentLength)
		}
	})
	t.Run("expect_100_continue_before_body", func(t *testing.T) {
		conn := dial(t, addr)
		io.WriteString(conn, reqBytes("POST /api/echo HTTP/1.1\nHost: x\nContent-Length: 2\nExpect: 100-continue\nConnection: close"))
		const interim = "HTTP/1.1 100 Continue\r\n\r\n"
		got := make([]byte, len(interim))
		if _, err := io.ReadFull(conn, got); err != nil || string(got) != interim {
			t.Fatalf("interim = %q, %v; want %q", got, err, interim)
		}
		io.WriteString(conn, "ab")
		if resp, body := parseResponse(t, readAllWithin(t, conn), "POST"); resp.StatusCode != 200 || !strings.Contains(body, `"body": "ab"`) {
			t.Errorf("final answer = %d %q; want 200 with the body", resp.StatusCode, body)
		}
	})
}

func TestBinaryTimeouts(t *testing.T) {
	addr := startBinary(t, "-timeout", "300ms").addr
	t.Run("silent_client_closed_quietly", func(t *testing.T) {
		if got := readAllWithin(t, dial(t, addr)); got != "" {
			t.Errorf("answer = %q; want a close without one", got)
		}
	})
	t.Run("incomplete_request_408", func(t *testing.T) {
		conn := dial(t, addr)
		io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n")
		if resp, _ := parseResponse(t, readAllWithin(t, conn), "GET"); resp.StatusCode != 408 {
			t.Errorf("status = %d; want 408", resp.StatusCode)
		}
	})
	t.Run("trickling_client_408", func(t *testing.T) {
		conn := dial(t, addr)
		stop := make(chan struct{})
		defer close(stop)
		go trickle(conn, stop)
		if resp, _ := parseResponse(t, readAllWithin(t, conn), "GET"); resp.StatusCode != 408 {
			t.Errorf("status = %d; want 408", resp.StatusCode)
		}
	})
}

// Over the connection cap, and with the queue full, the answer is 503 with
// Retry-After; the log reports the 503s as one WARN line a second, not one
// line each.
func TestBinaryOverload(t *testing.T) {
	t.Run("over_connection_cap", func(t *testing.T) {
		p := startBinary(t, "-max-conns", "2", "-timeout", "1m")
		// Two silent connections hold the cap; a third is refused. Which
		// of three connections the server counts first is a race, so a try
		// where a holder lost it is made again.
		var resp *http.Response
		eventually(t, "a third connection refused", func() bool {
			holders := []net.Conn{dial(t, p.addr), dial(t, p.addr)}
			defer func() {
				for _, c := range holders {
					c.Close()
				}
			}()
			resp, _ = getPath(t, p.addr, "/health")
			return resp.StatusCode == 503
		})
		if resp.Header.Get("Retry-After") != "1" {
			t.Errorf("Retry-After = %q; want 1", resp.Header.Get("Retry-After"))
		}
		if line := p.waitForLog(t, "overloaded"); !strings.Contains(line, "level=WARN") || !strings.Contains(line, "count=") {
			t.Errorf("log line %q; want a WARN with the count", line)
		}
	})
	t.Run("queue_full", func(t *testing.T) {
		p := startBinary(t, "-workers", "1", "-queue", "1")
		running, queued := getAsync(p.addr, "/slow?for=3s"), getAsync(p.addr, "/slow?for=3s")
		eventually(t, "one running, one queued", func() bool {
			_, body := getPath(t, p.addr, "/metrics")
			var m metricsBody
			json.Unmarshal([]byte(body), &m)
			return m.WorkerPool["active_workers"] == 1 && m.WorkerPool["queue_depth"] == 1
		})
		resp, _ := getPath(t, p.addr, "/slow?for=1s")
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" {
			t.Errorf("with the queue full = %d, Retry-After %q; want 503 and 1", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if a, b := <-running, <-queued; a != 200 || b != 200 {
			t.Errorf("the accepted requests got %d and %d; want 200", a, b)
		}
	})
}

// /metrics after a known sequence of requests, and /health's fields.
func TestBinaryMetricsAndHealth(t *testing.T) {
	addr := startBinary(t).addr
	for _, raw := range []string{
		reqBytes("GET / HTTP/1.1\nHost: x"),
		reqBytes("GET /api/hello HTTP/1.1\nHost: x"),
		reqBytes("GET /api/hello HTTP/1.1\nHost: x"),
		reqBytes("GET /nope HTTP/1.1\nHost: x"),
		reqBytes("DELETE /api/hello HTTP/1.1\nHost: x"),
		reqBytes("GET / HTTP/2.0\nHost: x"),
		reqBytes("GET /health HTTP/1.1\nHost: x"),
		reqBytes("GET /metrics HTTP/1.1\nHost: x"),
	} {
		sendRaw(t, addr, raw)
	}
	_, raw := getPath(t, addr, "/metrics")
	var m metricsBody
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	wantOrder := `"requests_by_path": {
    "/api/hello": 3,
    "/": 1,
    "/nope": 1
  },`
	if m.Total != 6 || m.ByStatus["200"] != 3 || m.ByStatus["404"] != 1 || m.ByStatus["405"] != 1 || m.ByStatus["505"] != 1 || !strings.Contains(raw, wantOrder) {
		t.Errorf("/metrics = %s\nwant 6 requests: 3×200, 404, 405, 505, and by path\n%s", raw, wantOrder)
	}

	_, body := getPath(t, addr, "/health")
	var h struct {
		Status    string  `json:"status"`
		Uptime    float64 `json:"uptime_seconds"`
		Timestamp string  `json:"timestamp"`
	}
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if when, err := time.Parse(time.RFC3339, h.Timestamp); h.Status != "ok" || h.Uptime <= 0 || err != nil || when.Location() != time.UTC {
		t.Errorf("/health = %s; want ok, a positive uptime, an RFC 3339 UTC timestamp", body)
	}
}

// With -log-format json every line of the log is one JSON object, and each
// request has one, with what an operator needs.
func TestBinaryJSONLogs(t *testing.T) {
	p := startBinary(t, "-log-format", "json")
	getPath(t, p.addr, "/api/hello")
	line := p.waitForLog(t, `"msg":"request"`)
	var entry map[string]any
	if err := json.Unmarshal([]byte(line), &entry); err != nil {
		t.Fatalf("log line %q is not JSON: %v", line, err)
	}
	for _, key := range []string{"time", "level", "method", "path", "status", "bytes", "duration", "remote"} {
		if _, ok := entry[key]; !ok {
			t.Errorf("request log line %s has no %q", line, key)
		}
	}
	if entry["level"] != "INFO" || entry["path"] != "/api/hello" || entry["status"] != 200.0 {
		t.Errorf("request log line = %s; want INFO, /api/hello, 200", line)
	}
}

// With -defer-accept (Linux), requests are served as before, and a client
// that sends nothing is still closed without an answer: the kernel hands
// its connection over after deferAcceptSeconds, then the client timeout
// runs.
func TestBinaryDeferAccept(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("TCP_DEFER_ACCEPT is Linux's")
	}
	addr := startBinary(t, "-defer-accept", "-timeout", "300ms").addr
	checkRoutes(t, "http://"+addr)
	if got := readAllWithin(t, dial(t, addr)); got != "" {
		t.Errorf("silent client got %q; want a close without an answer", got)
	}
}

// loadResult is what happened to the requests of a run under load.
type loadResult struct {
	answered   atomic.Int64 // a whole 200
	refused    atomic.Int64 // the connection was refused: the listener had closed
	reset      atomic.Int64 // the kernel reset a connection nobody had accepted
	unanswered atomic.Int64 // the connection was accepted and closed without an answer
}

// hitOnce connects, sends one request, reads to the end, and counts what
// happened.
func (r *loadResult) hitOnce(addr string) {
	conn, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		r.refused.Add(1)
		return
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(ioTimeout))
	_, werr := io.WriteString(conn, "GET /api/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	got, rerr := io.ReadAll(conn)
	switch {
	case werr == nil && rerr == nil && strings.HasPrefix(string(got), "HTTP/1.1 200 OK\r\n"):
		r.answered.Add(1)
	case len(got) == 0 && (errors.Is(werr, syscall.ECONNRESET) || errors.Is(rerr, syscall.ECONNRESET) || errors.Is(werr, syscall.EPIPE)):
		r.reset.Add(1)
	default:
		r.unanswered.Add(1)
	}
}

// loadAndSignal runs 32 clients that loop connect, request, read against p;
// once warm answers have come, it sends SIGTERM, and the clients go on
// until the server has exited.
func loadAndSignal(t *testing.T, p *process, warm int64) *loadResult {
	var r loadResult
	stop := make(chan struct{})
	var clients sync.WaitGroup
	for range 32 {
		clients.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					r.hitOnce(p.addr)
				}
			}
		})
	}
	eventually(t, "the clients warm", func() bool { return r.answered.Load() >= warm })
	p.signal(t, syscall.SIGTERM)
	code := p.exitCode(t, drainTimeout+ioTimeout)
	close(stop)
	clients.Wait()
	if code != 0 {
		t.Errorf("exit code %d after SIGTERM under load; want 0", code)
	}
	return &r
}

// 32 clients loop connect, request, read; SIGTERM
// comes in the middle. Every connection this server accepted is answered;
// the only failures are connections refused or reset after the listener
// closed, which no server can answer. net/http's Server.Shutdown is run
// through the same test, and its figures logged beside these.
func TestShutdownUnderLoad(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("sends Unix signals")
	}
	const warm = 3000
	server := startBinary(t, "-log-level", "warn")
	ours := loadAndSignal(t, server, warm)
	theirs := loadAndSignal(t, startNetHTTPProcess(t, false), warm)
	report := func(name string, r *loadResult) {
		t.Logf("%-8s answered %5d, refused %4d, reset by the kernel %3d, accepted and left unanswered %2d",
			name, r.answered.Load(), r.refused.Load(), r.reset.Load(), r.unanswered.Load())
	}
	report("go-raw", ours)
	report("net/http", theirs)
	if n := ours.unanswered.Load(); n != 0 {
		t.Errorf("%d connections were accepted and closed without an answer; want none", n)
	}
	// A client cannot tell a reset from the kernel, for a connection the
	// server never accepted, from one the server accepted and closed
	// unread. The server's own account can: every client here sends its
	// request at once, so every connection it accepted must be answered.
	exit := server.waitForLog(t, "exited cleanly")
	if m := closedWithoutRequest.FindStringSubmatch(exit); m == nil || m[1] != "0" {
		t.Errorf("exit line %q; want closed_without_request=0", exit)
	}
}

// closedWithoutRequest finds the count in the server's exit line.
var closedWithoutRequest = regexp.MustCompile(`closed_without_request=(\d+)`)

// With -keepalive=false the server answers as the stages do, byte for byte
// but for the date: Connection: close on every response, and a pipelined
// second request never read.
func TestBinaryOneRequestPerConnection(t *testing.T) {
	addr := startBinary(t, "-keepalive=false").addr
	got := sendRaw(t, addr, reqBytes("GET /api/hello HTTP/1.1\nHost: x")+reqBytes("GET / HTTP/1.1\nHost: x"))
	const want = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 130\r\n" +
		"Date: (now)\r\nServer: go-raw/1.0\r\nConnection: close\r\n\r\n" +
		"{\n  \"message\": \"Hello from the scratch-built HTTP server!\",\n  \"method\": \"GET\",\n" +
		"  \"path\": \"/api/hello\",\n  \"server\": \"go-raw/1.0\"\n}\n"
	if got := dateField.ReplaceAllString(got, "Date: (now)"); got != want {
		t.Errorf("answer =\n%q\nwant\n%q", got, want)
	}
}

// dateField finds the Date field of a response.
var dateField = regexp.MustCompile(`Date: [^\r]*`)
