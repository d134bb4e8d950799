package main

import (
	"bufio"
	"errors"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestBodies(t *testing.T) {
	tests := []struct{ name, raw, want string }{
		{"content_length", reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: 5") + "hello", "hello"},
		{"bytes_after_body_left_unread", reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: 5") + "helloGET /", "hello"},
		{"chunked", reqBytes("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked") + "5;a=b\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n", "hello world"},
		{"no_body", reqBytes("GET / HTTP/1.1\nHost: x"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustParse(t, tt.raw).Body; string(got) != tt.want {
				t.Errorf("Body = %q; want %q", got, tt.want)
			}
		})
	}
}

// The framing of a chunked body (RFC 9112 §7.1): its chunk-size lines, the
// line ending after each chunk's data, its trailer lines and the empty line
// that ends it. Framing is where a request is smuggled, so it is read to the
// letter: what the grammar allows is decoded, anything else is 400.
func TestChunkedFraming(t *testing.T) {
	const head = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
	tests := []struct {
		name, rule, chunks string
		status             int
		body               string // decoded, when the status is 200
	}{
		// chunk-ext, checked and then ignored.
		{"no_extension", "RFC 9112 §7.1", "5\r\nhello\r\n0\r\n\r\n", 200, "hello"},
		{"name_only", "RFC 9112 §7.1.1", "5;name\r\nhello\r\n0\r\n\r\n", 200, "hello"},
		{"token_value", "RFC 9112 §7.1.1", "5;name=value\r\nhello\r\n0\r\n\r\n", 200, "hello"},
		{"quoted_value", "RFC 9110 §5.6.4", "5;n=\"q v\"\r\nhello\r\n0\r\n\r\n", 200, "hello"},
		{"quoted_pairs", "RFC 9110 §5.6.4", "5;n=\"a\\\"b\\\\c\"\r\nhello\r\n0\r\n\r\n", 200, "hello"},
		{"empty_quoted_value", "RFC 9110 §5.6.4", "5;n=\"\"\r\nhello\r\n0\r\n\r\n", 200, "hello"},
		{"bws_around_semicolon_and_equals", "RFC 9112 §7.1.1", "5 ; n = v\r\nhello\r\n0\r\n\r\n", 200, "hello"},
		{"bws_of_tabs", "RFC 9110 §5.6.3", "5\t;\tn\t=\tv\r\nhello\r\n0\r\n\r\n", 200, "hello"},
		{"several_extensions", "RFC 9112 §7.1.1", "5;a=1;b\r\nhello\r\n0\r\n\r\n", 200, "hello"},
		{"extension_on_last_chunk", "RFC 9112 §7.1", "5\r\nhello\r\n0;end=\"yes\"\r\n\r\n", 200, "hello"},
		{"bare_semicolon", "RFC 9112 §7.1.1", "5;\r\nhello\r\n0\r\n\r\n", 400, ""},
		{"semicolon_then_bws_only", "RFC 9112 §7.1.1", "5; \r\nhello\r\n0\r\n\r\n", 400, ""},
		{"empty_extension_between_two", "RFC 9112 §7.1.1", "5;a;;b\r\nhello\r\n0\r\n\r\n", 400, ""},
		{"name_not_a_token", "RFC 9110 §5.6.2", "5;bad[=x\r\nhello\r\n0\r\n\r\n", 400, ""},
		{"nul_in_extension", "RFC 9110 §5.6.2", "5;\x00ext\r\nhello\r\n0\r\n\r\n", 400, ""},
		{"equals_without_value", "RFC 9112 §7.1.1", "5;n=\r\nhello\r\n0\r\n\r\n", 400, ""},
		{"value_not_a_token", "RFC 9112 §7.1.1", "5;n=a b\r\nhello\r\n0\r\n\r\n", 400, ""},
		{"unterminated_quoted_value", "RFC 9110 §5.6.4", "5;n=\"abc\r\nhello\r\n0\r\n\r\n", 400, ""},
		{"control_byte_in_quoted_value", "RFC 9110 §5.6.4", "5;n=\"a\x01b\"\r\nhello\r\n0\r\n\r\n", 400, ""},
		{"two_names_without_semicolon", "RFC 9112 §7.1.1", "5;a b\r\nhello\r\n0\r\n\r\n", 400, ""},
		{"trailing_whitespace_without_extension", "RFC 9112 §7.1", "5 \r\nhello\r\n0\r\n\r\n", 400, ""},
		{"trailing_whitespace_after_extension", "RFC 9112 §7.1.1", "5;a=1 \r\nhello\r\n0\r\n\r\n", 400, ""},
		{"text_after_size", "RFC 9112 §7.1", "5x\r\nhello\r\n0\r\n\r\n", 400, ""},

		// Line endings: CRLF, never a bare LF, although the head may end
		// its lines with one (RFC 9112 §2.2): a reader that took "\n"
		// alone in a body and one that did not would find different chunks.
		{"bare_lf_after_chunk_size", "RFC 9112 §7.1", "5\nhello\r\n0\r\n\r\n", 400, ""},
		{"bare_lf_after_chunk_data", "RFC 9112 §7.1", "5\r\nhello\n0\r\n\r\n", 400, ""},
		{"bare_lf_after_last_chunk", "RFC 9112 §7.1", "5\r\nhello\r\n0\n\r\n", 400, ""},
		{"bare_lf_after_trailer_field", "RFC 9112 §7.1.2", "5\r\nhello\r\n0\r\nX-T: 1\n\r\n", 400, ""},
		{"bare_lf_as_final_empty_line", "RFC 9112 §7.1", "5\r\nhello\r\n0\r\n\n", 400, ""},
		{"bare_lf_everywhere", "RFC 9112 §7.1", "5\nhello\n0\n\n", 400, ""},
		{"crlf_everywhere_with_trailer", "RFC 9112 §7.1.2", "5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n", 200, "hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := parseRequest([]byte(head + tt.chunks))
			if statusOf(err) != tt.status {
				t.Fatalf("chunks %q: status %d (%v); want %d (%s)", tt.chunks, statusOf(err), err, tt.status, tt.rule)
			}
			if err == nil && string(req.Body) != tt.body {
				t.Errorf("chunks %q: body %q; want %q (%s)", tt.chunks, req.Body, tt.body, tt.rule)
			}
		})
	}
}

// What a head says about the body to come, before any of it is read.
func TestBodySemantics(t *testing.T) {
	tests := []struct {
		name, head   string
		hasBody      bool
		wantContinue bool
		status       int // of expectsContinue's error, or 0
	}{
		{"no_body", "GET / HTTP/1.1\nHost: x", false, false, 0},
		{"content_length_zero", "POST / HTTP/1.1\nHost: x\nContent-Length: 0", false, false, 0},
		{"content_length", "POST / HTTP/1.1\nHost: x\nContent-Length: 5", true, false, 0},
		{"chunked", "POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked", true, false, 0},
		{"expects_continue", "POST / HTTP/1.1\nHost: x\nContent-Length: 5\nExpect: 100-continue", true, true, 0},
		{"expects_continue_any_case", "POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\nExpect: 100-Continue", true, true, 0},
		{"expect_without_body", "GET / HTTP/1.1\nHost: x\nExpect: 100-continue", false, false, 0},
		{"expect_in_http_1_0_ignored", "POST / HTTP/1.0\nContent-Length: 5\nExpect: 100-continue", true, false, 0},
		{"other_expectation", "POST / HTTP/1.1\nHost: x\nContent-Length: 5\nExpect: coffee", true, false, 417},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := readRequestHead(bufio.NewReader(strings.NewReader(reqBytes(tt.head))), new(Request))
			if err != nil {
				t.Fatalf("readRequestHead(%q) = %v", tt.head, err)
			}
			wait, err := req.expectsContinue()
			status := 0
			if err != nil {
				status = statusOf(err)
			}
			if req.hasBody() != tt.hasBody || wait != tt.wantContinue || status != tt.status {
				t.Errorf("hasBody, expectsContinue = %v, %v, %v; want %v, %v, status %d",
					req.hasBody(), wait, err, tt.hasBody, tt.wantContinue, tt.status)
			}
		})
	}
}

// readBody calls its invite once the body is known to be allowed, and
// before it reads a byte of it; a body refused by its declared length, or
// no body at all, is never invited.
func TestReadBodyInvites(t *testing.T) {
	tests := []struct {
		name, raw string
		invited   bool
		status    int
	}{
		{"body_within_limit", reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: 5") + "hello", true, 200},
		{"chunked", reqBytes("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked") + "0\r\n\r\n", true, 200},
		{"declared_over_limit", reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: 9999999"), false, 413},
		{"no_body", reqBytes("GET / HTTP/1.1\nHost: x"), false, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tt.raw))
			req, err := readRequestHead(br, new(Request))
			if err != nil {
				t.Fatal(err)
			}
			body := tt.raw[strings.Index(tt.raw, "\r\n\r\n")+4:]
			invited := false
			err = req.readBody(br, func() error {
				if unread, _ := br.Peek(br.Buffered()); string(unread) != body {
					t.Errorf("invited with %q unread; want the whole body, %q", unread, body)
				}
				invited = true
				return nil
			}, nil)
			if invited != tt.invited || statusOf(err) != tt.status {
				t.Errorf("invited %v, status %d (%v); want %v, %d", invited, statusOf(err), err, tt.invited, tt.status)
			}
		})
	}
	t.Run("invite_error_stops_the_read", func(t *testing.T) {
		raw := reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: 5") + "hello"
		br := bufio.NewReader(strings.NewReader(raw))
		req, _ := readRequestHead(br, new(Request))
		broken := errors.New("write failed")
		if err := req.readBody(br, func() error { return broken }, nil); !errors.Is(err, broken) || req.Body != nil {
			t.Errorf("readBody = %v, body %q; want %v and no body", err, req.Body, broken)
		}
	})
}

// reserve is told of the body's bytes before they are held: a declared
// length at once, before the body is invited, so that a body refused for
// want of room is never asked for; a chunked body chunk by chunk, as each
// size arrives. Its error ends the read, and no body is kept.
func TestReadBodyReserves(t *testing.T) {
	tests := []struct {
		name, raw string
		want      []int64 // what reserve is asked for, in order
		invited   bool    // whether invite came before the first reserve
	}{
		{"declared", reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: 5") + "hello", []int64{5}, false},
		{"chunked", reqBytes("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked") + "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", []int64{3, 2}, true},
		{"no_body", reqBytes("GET / HTTP/1.1\nHost: x"), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tt.raw))
			req, err := readRequestHead(br, new(Request))
			if err != nil {
				t.Fatal(err)
			}
			var asked []int64
			invited, invitedFirst := false, false
			err = req.readBody(br, func() error { invited = true; return nil }, func(n int64) error {
				if len(asked) == 0 {
					invitedFirst = invited
				}
				asked = append(asked, n)
				return nil
			})
			if err != nil || !slices.Equal(asked, tt.want) || invitedFirst != tt.invited {
				t.Errorf("readBody = %v, reserved %v, invited first %v; want nil, %v, %v", err, asked, invitedFirst, tt.want, tt.invited)
			}
		})
	}
	t.Run("refusal_ends_the_read_uninvited", func(t *testing.T) {
		raw := reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: 5") + "hello"
		br := bufio.NewReader(strings.NewReader(raw))
		req, _ := readRequestHead(br, new(Request))
		full := errors.New("no room")
		invited := false
		err := req.readBody(br, func() error { invited = true; return nil }, func(int64) error { return full })
		if !errors.Is(err, full) || invited || req.Body != nil {
			t.Errorf("readBody = %v, invited %v, body %q; want %v, not invited, no body", err, invited, req.Body, full)
		}
	})
}

// A declared body is held in a buffer of about its length, which is what the
// budget counts: not in one that doubled to find the body's end.
func TestDeclaredBodyHeldInItsLength(t *testing.T) {
	for _, n := range []int{1000, 4096, maxBodyBytes} {
		raw := reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: "+strconv.Itoa(n)) + strings.Repeat("a", n)
		br := bufio.NewReader(strings.NewReader(raw))
		req, err := readRequestHead(br, new(Request))
		if err != nil {
			t.Fatal(err)
		}
		if err := req.readBody(br, nil, func(int64) error { return nil }); err != nil || cap(req.Body) >= 2*n {
			t.Errorf("a body of %d bytes: %v, held in %d; want it in less than twice that", n, err, cap(req.Body))
		}
	}
}

// A kept connection reads each request into the same Request, which lives
// as long as the connection: once a body's answer is written, the
// connection holds the body no more, and 8 idle connections that each sent
// 1 MiB hold no 8 MiB between them.
func TestIdleConnectionsHoldNoBody(t *testing.T) {
	addr := startServing(t, newAppServer(defaultWorkers, defaultQueueSize, settings{}))
	heap := func() uint64 {
		runtime.GC() // twice: a sync.Pool keeps what it holds through one
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	body := strings.Repeat("a", maxBodyBytes)
	before := heap()
	for range 8 {
		k := dialKept(t, addr)
		k.send(reqBytes("POST /api/echo HTTP/1.1\nHost: x\nContent-Length: "+strconv.Itoa(len(body))) + body)
		if resp, _ := k.next("POST"); resp.StatusCode != 200 {
			t.Fatalf("POST /api/echo = %d; want 200", resp.StatusCode)
		}
	}
	if after := heap(); after > before+4<<20 {
		t.Errorf("with 8 idle connections, each past a body of 1 MiB, the heap grew by %d MiB; want no body held", (after-before)>>20)
	}
}
