package main

import (
	"strings"
	"testing"
	"time"
)

// wire is r as the server writes it, with its body.
func wire(r *Response) string {
	return string(r.appendTo(nil, time.Now(), true, "close"))
}

// TestResponse holds the seed project's 5 response tests.
func TestResponse(t *testing.T) {
	t.Run("404_reason_phrase", func(t *testing.T) {
		if got := wire(errorResponse(404, "no route for /x")); !strings.HasPrefix(got, "HTTP/1.1 404 Not Found\r\n") {
			t.Errorf("status line of %q; want HTTP/1.1 404 Not Found", got)
		}
	})
	t.Run("blank_line_before_body", func(t *testing.T) {
		head, body, ok := strings.Cut(wire(textResponse(200, "hello")), "\r\n\r\n")
		if !ok || body != "hello" || strings.Contains(head, "hello") {
			t.Errorf("head %q, body %q; want the body after the first empty line", head, body)
		}
	})
	t.Run("connection_close_header_present", func(t *testing.T) {
		if got := wire(textResponse(200, "x")); !strings.Contains(got, "\r\nConnection: close\r\n") {
			t.Errorf("%q has no Connection: close", got)
		}
	})
	t.Run("content_length_header_matches_body", func(t *testing.T) {
		// Content-Length counts bytes, not characters: "héllo" is 6.
		if got := wire(textResponse(200, "héllo")); !strings.Contains(got, "\r\nContent-Length: 6\r\n") {
			t.Errorf("%q; want Content-Length: 6", got)
		}
	})
	t.Run("status_line_format", func(t *testing.T) {
		line, _, _ := strings.Cut(wire(textResponse(200, "x")), "\r\n")
		if line != "HTTP/1.1 200 OK" {
			t.Errorf("status line = %q; want %q", line, "HTTP/1.1 200 OK")
		}
	})
}

func TestResponseHead(t *testing.T) {
	now := time.Date(1994, time.November, 6, 8, 49, 37, 0, time.UTC)
	tests := []struct {
		name string
		resp *Response
		want string
	}{
		{"text", textResponse(200, "hello"),
			"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n" +
				"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: go-raw/1.0\r\nConnection: close\r\n\r\nhello"},
		{"no_body_no_content_type", &Response{Status: 200, Headers: []Field{{"Allow", "GET, HEAD"}}},
			"HTTP/1.1 200 OK\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\n" +
				"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: go-raw/1.0\r\nConnection: close\r\n\r\n"},
		{"body_without_content_type", &Response{Status: 200, Body: []byte{1}},
			"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1\r\n" +
				"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: go-raw/1.0\r\nConnection: close\r\n\r\n\x01"},
		{"error", errorResponse(503, "busy"),
			"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 30\r\n" +
				"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: go-raw/1.0\r\nConnection: close\r\n\r\n503 Service Unavailable: busy\n"},
		{"json_indented_with_newline", jsonResponse(200, map[string]string{"b": "2", "a": "1"}),
			"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 27\r\n" +
				"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: go-raw/1.0\r\nConnection: close\r\n\r\n{\n  \"a\": \"1\",\n  \"b\": \"2\"\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(tt.resp.appendTo(nil, now, true, "close")); got != tt.want {
				t.Errorf("appendTo =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// The Date field is an IMF-fixdate in GMT, whatever the server's time zone
// (RFC 9110 §5.6.7): the RFC's own example.
func TestResponseDate(t *testing.T) {
	est := time.FixedZone("EST", -5*3600)
	now := time.Date(1994, time.November, 6, 3, 49, 37, 0, est)
	if got := string(textResponse(200, "x").appendTo(nil, now, true, "close")); !strings.Contains(got, "\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n") {
		t.Errorf("%q; want Date: Sun, 06 Nov 1994 08:49:37 GMT", got)
	}
}

// A response to HEAD is the whole head of the GET response, Content-Length
// included, and no body (RFC 9110 §9.3.2, §8.6).
func TestResponseWithoutBody(t *testing.T) {
	resp := textResponse(200, "hello")
	now := time.Now()
	full, head := string(resp.appendTo(nil, now, true, "close")), string(resp.appendTo(nil, now, false, "close"))
	if full != head+"hello" || !strings.Contains(head, "\r\nContent-Length: 5\r\n") || !strings.HasSuffix(head, "\r\n\r\n") {
		t.Errorf("without body = %q; want %q less its body, with Content-Length: 5", head, full)
	}
}

func TestReasonPhrases(t *testing.T) {
	want := map[int]string{
		100: "Continue", 200: "OK", 400: "Bad Request", 404: "Not Found",
		405: "Method Not Allowed", 408: "Request Timeout", 413: "Content Too Large",
		414: "URI Too Long", 417: "Expectation Failed", 431: "Request Header Fields Too Large",
		500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
		505: "HTTP Version Not Supported",
	}
	for code, phrase := range want {
		if got := statusText[code]; got != phrase {
			t.Errorf("statusText[%d] = %q; want %q", code, got, phrase)
		}
	}
	if len(statusText) != len(want) {
		t.Errorf("statusText has %d entries; want the %d the server uses", len(statusText), len(want))
	}
}

func TestWriteContinue(t *testing.T) {
	var b strings.Builder
	if err := writeContinue(&b); err != nil || b.String() != "HTTP/1.1 100 Continue\r\n\r\n" {
		t.Errorf("writeContinue wrote %q, %v; want a status line and an empty line", b.String(), err)
	}
}

// discard counts what is written to it, like a socket that never blocks.
type discard struct{ n int }

func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

func BenchmarkWriteResponse(b *testing.B) {
	hello := map[string]string{
		"message": "Hello from the scratch-built HTTP server!",
		"method":  "GET",
		"path":    "/api/hello",
		"server":  serverName,
	}
	b.Run("serialise", func(b *testing.B) {
		resp := jsonResponse(200, hello)
		var w discard
		b.ReportAllocs()
		for b.Loop() {
			if err := writeResponse(&w, resp, true, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode_and_serialise", func(b *testing.B) {
		var w discard
		b.ReportAllocs()
		for b.Loop() {
			if err := writeResponse(&w, jsonResponse(200, hello), true, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The Connection field says what becomes of the connection (RFC 9112 §9.3):
// close on its last response, keep-alive to an HTTP/1.0 client that asked
// to keep it, and nothing at all on HTTP/1.1, which persists by default.
func TestResponseConnection(t *testing.T) {
	now := time.Date(1994, time.November, 6, 8, 49, 37, 0, time.UTC)
	const head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n" +
		"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: go-raw/1.0\r\n"
	for connection, want := range map[string]string{
		"close":      head + "Connection: close\r\n\r\nhi",
		"keep-alive": head + "Connection: keep-alive\r\n\r\nhi",
		"":           head + "\r\nhi",
	} {
		if got := string(textResponse(200, "hi").appendTo(nil, now, true, connection)); got != want {
			t.Errorf("appendTo(%q) =\n%q\nwant\n%q", connection, got, want)
		}
	}
}

// The writer owns the fields that frame the response and name its sender:
// a handler's own Content-Length, Transfer-Encoding, Date, Server or
// Connection never reaches the wire, in any case of its name, so a client
// never sees two lengths, or a length beside a coding (RFC 9112 §6.3).
func TestWriterOwnsFramingFields(t *testing.T) {
	resp := textResponse(200, "hello")
	resp.Headers = []Field{{"Content-Length", "99"}, {"transfer-encoding", "chunked"}, {"Connection", "keep-alive"},
		{"DATE", "yesterday"}, {"Server", "other"}, {"X-Kept", "yes"}}
	got := wire(resp)
	for _, want := range []string{"\r\nContent-Length: 5\r\n", "\r\nX-Kept: yes\r\n", "\r\nConnection: close\r\n", "\r\nServer: " + serverName + "\r\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
	for _, unwanted := range []string{"99", "chunked", "keep-alive", "yesterday", "other"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("%q has the handler's %q", got, unwanted)
		}
	}
}
