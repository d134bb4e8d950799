package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// reqBytes turns a readable request head into wire bytes: each "\n" becomes
// CRLF, and the empty line that ends the head is added.
//
//	reqBytes("GET / HTTP/1.1\nHost: x") == "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
func reqBytes(head string) string {
	return strings.ReplaceAll(head, "\n", "\r\n") + "\r\n\r\n"
}

// parseRequest reads one request from raw, as the server reads it from a
// connection.
func parseRequest(raw []byte) (*Request, error) {
	return readRequest(bufio.NewReader(bytes.NewReader(raw)))
}

// statusOf is the status a parse result gets: 200 when the request parsed,
// the error's code when it carries one, and 0 when there is no one to
// answer: no request began (errNoRequest), or the connection broke.
func statusOf(err error) int {
	var se statusError
	switch {
	case err == nil:
		return 200
	case errors.As(err, &se):
		return se.code
	}
	return 0
}

// mustParse parses raw and fails the test if it does not parse.
func mustParse(t *testing.T, raw string) *Request {
	t.Helper()
	req, err := parseRequest([]byte(raw))
	if err != nil {
		t.Fatalf("parseRequest(%q) = %v; want a request", raw, err)
	}
	return req
}

// assertStatus parses raw and checks the status it gets.
func assertStatus(t *testing.T, raw string, want int) {
	t.Helper()
	_, err := parseRequest([]byte(raw))
	if got := statusOf(err); got != want {
		t.Errorf("parseRequest(%.80q) status = %d (%v); want %d", raw, got, err, want)
	}
}

// TestParseRequest holds the seed project's 14 parser tests.
func TestParseRequest(t *testing.T) {
	t.Run("no_panic_on_arbitrary_garbage", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for range 2000 {
			raw := make([]byte, 1+rng.IntN(300))
			for i := range raw {
				raw[i] = byte(rng.UintN(256))
			}
			_, err := parseRequest(raw)
			if statusOf(err) == 200 || statusOf(err) == 0 {
				t.Fatalf("parseRequest(%q) = %v; want an error with a status", raw, err)
			}
		}
	})
	// The seed's name: its parser made a dict of the fields. Here they are
	// a slice, in the order they came, which keeps that order for anyone
	// who reads them and costs one allocation where a map costs several;
	// Header looks a name up.
	t.Run("parses_headers_into_lowercase_dict", func(t *testing.T) {
		req := mustParse(t, reqBytes("GET / HTTP/1.1\nHost: example.com\nContent-Type: text/plain\nX-Custom-Header: Some Value"))
		want := []Field{{"host", "example.com"}, {"content-type", "text/plain"}, {"x-custom-header", "Some Value"}}
		if !slices.Equal(req.Headers, want) {
			t.Errorf("Headers = %v; want %v", req.Headers, want)
		}
		if v, ok := req.Header("content-type"); !ok || v != "text/plain" {
			t.Errorf("Header(content-type) = %q, %v; want text/plain", v, ok)
		}
	})
	t.Run("parses_http_version", func(t *testing.T) {
		if got := mustParse(t, reqBytes("GET / HTTP/1.1\nHost: x")).Version; got != "HTTP/1.1" {
			t.Errorf("Version = %q; want HTTP/1.1", got)
		}
	})
	t.Run("parses_method_from_valid_get_request", func(t *testing.T) {
		if got := mustParse(t, reqBytes("GET /index.html HTTP/1.1\nHost: x")).Method; got != "GET" {
			t.Errorf("Method = %q; want GET", got)
		}
	})
	t.Run("parses_nested_path", func(t *testing.T) {
		if got := mustParse(t, reqBytes("GET /api/v1/users/42 HTTP/1.1\nHost: x")).Path; got != "/api/v1/users/42" {
			t.Errorf("Path = %q; want /api/v1/users/42", got)
		}
	})
	t.Run("parses_path_from_valid_get_request", func(t *testing.T) {
		if got := mustParse(t, reqBytes("GET /index.html HTTP/1.1\nHost: x")).Path; got != "/index.html" {
			t.Errorf("Path = %q; want /index.html", got)
		}
	})
	t.Run("parses_post_request_with_body", func(t *testing.T) {
		req := mustParse(t, reqBytes("POST /submit HTTP/1.1\nHost: x\nContent-Length: 13")+"hello, world!")
		if req.Method != "POST" || string(req.Body) != "hello, world!" {
			t.Errorf("Method, Body = %q, %q; want POST, %q", req.Method, req.Body, "hello, world!")
		}
	})
	t.Run("parses_root_path", func(t *testing.T) {
		if got := mustParse(t, reqBytes("GET / HTTP/1.1\nHost: x")).Path; got != "/" {
			t.Errorf("Path = %q; want /", got)
		}
	})
	// The seed's name: its parser answered empty bytes with 400. Here the
	// parser says that no request began (errNoRequest), and the server
	// closes the connection without an answer, since a client that sent
	// nothing and left is not there to read one.
	t.Run("returns_400_for_empty_bytes", func(t *testing.T) {
		if _, err := parseRequest(nil); !errors.Is(err, errNoRequest) {
			t.Errorf("parseRequest(\"\") = %v; want errNoRequest, which no status answers", err)
		}
	})
	t.Run("returns_400_for_garbage_bytes", func(t *testing.T) {
		assertStatus(t, "\x00\x01\x02\xff\xfegarbage\r\n\r\n", 400)
	})
	t.Run("returns_400_for_lowercase_method", func(t *testing.T) {
		assertStatus(t, reqBytes("get / HTTP/1.1\nHost: x"), 400)
	})
	t.Run("returns_400_for_malformed_request_line", func(t *testing.T) {
		assertStatus(t, reqBytes("GET /"), 400)
	})
	t.Run("returns_400_for_missing_slash_in_path", func(t *testing.T) {
		assertStatus(t, reqBytes("GET index.html HTTP/1.1\nHost: x"), 400)
	})
	t.Run("returns_400_when_header_separator_missing", func(t *testing.T) {
		assertStatus(t, reqBytes("GET / HTTP/1.1\nHost x"), 400)
	})
}

// requestRules are the request rules about bytes (the root README's table
// lists them all): raw bytes in, status out, one rule per row. 200 means the
// request parsed and would be served; 0 that no request began, so there is
// no one to answer.
var requestRules = []struct {
	name string
	raw  string
	want int
}{
	// Line endings (RFC 9112 §2.2).
	{"empty_lines_before_request_line", "\r\n\r\n" + reqBytes("GET / HTTP/1.1\nHost: x"), 200},
	{"bare_lf_line_endings", "GET / HTTP/1.1\nHost: x\n\n", 200},
	{"bare_cr_in_request_line", reqBytes("GET /\r HTTP/1.1\nHost: x"), 400},
	{"bare_cr_in_field_value", reqBytes("GET / HTTP/1.1\nHost: x\nX: a\rb"), 400},
	{"cr_as_only_line_ending", "GET / HTTP/1.1\rHost: x\r\r", 400},
	{"head_cut_short", "GET / HTTP/1.1\r\nHost: x\r\n", 400},
	{"empty_input", "", 0},
	{"tls_handshake", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400},

	// The request line (RFC 9112 §3).
	{"two_spaces_after_method", reqBytes("GET  / HTTP/1.1\nHost: x"), 400},
	{"missing_version", reqBytes("GET /\nHost: x"), 400},
	{"extra_word", reqBytes("GET / HTTP/1.1 extra\nHost: x"), 400},
	{"trailing_space", reqBytes("GET / HTTP/1.1 \nHost: x"), 400},
	{"tab_as_separator", reqBytes("GET\t/ HTTP/1.1\nHost: x"), 400},

	// The method: an uppercase token (seed test; RFC 9110 §9.1).
	{"lowercase_method", reqBytes("get / HTTP/1.1\nHost: x"), 400},
	{"mixed_case_method", reqBytes("Get / HTTP/1.1\nHost: x"), 400},
	{"method_not_a_token", reqBytes("G(T / HTTP/1.1\nHost: x"), 400},
	{"unknown_method_parses", reqBytes("BREW / HTTP/1.1\nHost: x"), 200}, // 501 is the router's

	// The target's forms (RFC 9112 §3.2).
	{"origin_form", reqBytes("GET /a/b?c=d HTTP/1.1\nHost: x"), 200},
	{"absolute_form", reqBytes("GET http://example.com/a?b HTTP/1.1\nHost: x"), 200},
	{"absolute_form_https_no_path", reqBytes("GET https://example.com HTTP/1.1\nHost: x"), 200},
	{"absolute_form_other_scheme", reqBytes("GET ftp://example.com/a HTTP/1.1\nHost: x"), 400},
	{"absolute_form_empty_authority", reqBytes("GET http:///a HTTP/1.1\nHost: x"), 400},
	{"absolute_form_userinfo", reqBytes("GET http://u@example.com/ HTTP/1.1\nHost: x"), 400},
	{"asterisk_form", reqBytes("OPTIONS * HTTP/1.1\nHost: x"), 200},
	{"relative_target", reqBytes("GET index.html HTTP/1.1\nHost: x"), 400},
	{"authority_form", reqBytes("CONNECT example.com:443 HTTP/1.1\nHost: x"), 400},
	{"control_byte_in_target", reqBytes("GET /a\x01b HTTP/1.1\nHost: x"), 400},
	{"non_ascii_in_target", reqBytes("GET /caf\xc3\xa9 HTTP/1.1\nHost: x"), 400},
	{"fragment_in_target", reqBytes("GET /a#b HTTP/1.1\nHost: x"), 400},

	// The version (RFC 9112 §2.3, RFC 9110 §2.5, §15.6.6).
	{"http_1_1", reqBytes("GET / HTTP/1.1\nHost: x"), 200},
	{"http_1_0_without_host", reqBytes("GET / HTTP/1.0"), 200},
	{"http_1_9_served_as_1_1", reqBytes("GET / HTTP/1.9\nHost: x"), 200},
	{"http_2_0", reqBytes("GET / HTTP/2.0\nHost: x"), 505},
	{"http_0_9", reqBytes("GET / HTTP/0.9\nHost: x"), 505},
	{"lowercase_http", reqBytes("GET / http/1.1\nHost: x"), 400},
	{"version_without_minor", reqBytes("GET / HTTP/1\nHost: x"), 400},
	{"two_digit_minor", reqBytes("GET / HTTP/1.10\nHost: x"), 400},

	// Field lines (RFC 9112 §5, RFC 9110 §5).
	{"field_without_colon", reqBytes("GET / HTTP/1.1\nHost: x\nNoColon"), 400},
	{"empty_field_name", reqBytes("GET / HTTP/1.1\nHost: x\n: value"), 400},
	{"field_name_not_a_token", reqBytes("GET / HTTP/1.1\nHost: x\nBad@Name: v"), 400},
	{"space_before_colon", reqBytes("GET / HTTP/1.1\nHost : x"), 400},
	{"tab_before_colon", reqBytes("GET / HTTP/1.1\nHost\t: x"), 400},
	{"obsolete_line_folding", reqBytes("GET / HTTP/1.1\nHost: x\nX-Long: a\n b"), 400},
	{"first_field_starts_with_space", reqBytes("GET / HTTP/1.1\n Host: x"), 400},
	{"nul_in_value", reqBytes("GET / HTTP/1.1\nHost: x\nX: a\x00b"), 400},
	{"control_byte_in_value", reqBytes("GET / HTTP/1.1\nHost: x\nX: a\x1bb"), 400},
	{"del_in_value", reqBytes("GET / HTTP/1.1\nHost: x\nX: a\x7fb"), 400},
	{"htab_in_value", reqBytes("GET / HTTP/1.1\nHost: x\nX: a\tb"), 200},
	{"obs_text_in_value", reqBytes("GET / HTTP/1.1\nHost: x\nX: caf\xc3\xa9"), 200},
	{"empty_value", reqBytes("GET / HTTP/1.1\nHost: x\nX-Empty:"), 200},
	{"repeated_field", reqBytes("GET / HTTP/1.1\nHost: x\nAccept: a\nAccept: b"), 200},

	// Host (RFC 9112 §3.2).
	{"http_1_1_without_host", reqBytes("GET / HTTP/1.1"), 400},
	{"two_hosts", reqBytes("GET / HTTP/1.1\nHost: a\nHost: b"), 400},
	{"two_hosts_http_1_0", reqBytes("GET / HTTP/1.0\nHost: a\nHost: a"), 400},
	{"empty_host", reqBytes("GET / HTTP/1.1\nHost:"), 400}, // RFC 9110 §4.2.1
	{"empty_host_http_1_0", reqBytes("GET / HTTP/1.0\nHost:"), 400},
	{"empty_host_asterisk_form", reqBytes("OPTIONS * HTTP/1.1\nHost:"), 200},
	{"empty_host_absolute_form", reqBytes("GET http://example.com/ HTTP/1.1\nHost:"), 200},
	{"host_with_port", reqBytes("GET / HTTP/1.1\nHost: example.com:8080"), 200},
	{"host_ipv6_literal", reqBytes("GET / HTTP/1.1\nHost: [::1]:8080"), 200},
	{"host_with_whitespace", reqBytes("GET / HTTP/1.1\nHost: exa mple.com"), 400},
	{"host_bad_port", reqBytes("GET / HTTP/1.1\nHost: example.com:80a"), 400},
	{"host_unclosed_literal", reqBytes("GET / HTTP/1.1\nHost: [::1"), 400},
	{"host_with_userinfo", reqBytes("GET / HTTP/1.1\nHost: user@example.com"), 400},
	{"host_with_slash", reqBytes("GET / HTTP/1.1\nHost: example.com/a"), 400},

	// Content-Length (RFC 9112 §6.3, RFC 9110 §8.6).
	{"content_length", reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: 5") + "hello", 200},
	{"content_length_zero", reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: 0"), 200},
	{"content_length_not_digits", reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: abc"), 400},
	{"content_length_negative", reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: -1"), 400},
	{"content_length_plus_sign", reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: +5") + "hello", 400},
	{"content_length_empty", reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length:"), 400},
	{"content_length_overflow", reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: 99999999999999999999"), 400},
	{"content_length_two_values", reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: 5\nContent-Length: 6") + "hello!", 400},
	{"content_length_list_of_two", reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: 5, 6") + "hello!", 400},
	{"content_length_repeated_same", reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: 5\nContent-Length: 5") + "hello", 200},
	{"content_length_list_same", reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: 5, 5") + "hello", 200},
	{"body_cut_short", reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: 10") + "hello", 400},

	// Transfer-Encoding (RFC 9112 §6.1, §6.3, §7.1).
	{"chunked", reqBytes("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked") + "5\r\nhello\r\n0\r\n\r\n", 200},
	{"chunked_mixed_case", reqBytes("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: Chunked") + "0\r\n\r\n", 200},
	{"chunked_extensions_and_trailers", reqBytes("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked") + "5;a=b\r\nhello\r\n6 ; c\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n", 200},
	{"chunked_bare_lf", reqBytes("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked") + "5\nhello\n0\n\n", 400},
	{"transfer_encoding_and_content_length", reqBytes("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\nContent-Length: 5") + "0\r\n\r\n", 400},
	{"transfer_encoding_http_1_0", reqBytes("POST / HTTP/1.0\nTransfer-Encoding: chunked") + "0\r\n\r\n", 400},
	{"chunked_twice", reqBytes("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked, chunked") + "0\r\n\r\n", 400},
	{"chunked_twice_in_two_fields", reqBytes("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\nTransfer-Encoding: chunked") + "0\r\n\r\n", 400},
	{"chunked_not_last", reqBytes("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked, gzip") + "0\r\n\r\n", 400},
	{"coding_without_chunked", reqBytes("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: gzip"), 400},
	{"empty_transfer_coding", reqBytes("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: ,chunked") + "0\r\n\r\n", 400},
	{"gzip_then_chunked", reqBytes("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: gzip, chunked") + "0\r\n\r\n", 501},
	{"chunk_size_not_hex", reqBytes("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked") + "zz\r\nhello\r\n0\r\n\r\n", 400},
	{"chunk_size_with_0x", reqBytes("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked") + "0x5\r\nhello\r\n0\r\n\r\n", 400},
	{"chunk_size_negative", reqBytes("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked") + "-5\r\nhello\r\n0\r\n\r\n", 400},
	{"chunk_longer_than_size", reqBytes("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked") + "3\r\nhello\r\n0\r\n\r\n", 400},
	{"chunked_body_cut_short", reqBytes("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked") + "5\r\nhel", 400},
	{"chunked_without_last_chunk", reqBytes("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked") + "5\r\nhello\r\n", 400},
}

func TestRequestRules(t *testing.T) {
	for _, tt := range requestRules {
		t.Run(tt.name, func(t *testing.T) {
			assertStatus(t, tt.raw, tt.want)
		})
	}
}

// TestParsedParts checks what a request that parses holds.
func TestParsedParts(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want Request
	}{
		{"origin_form_with_query", reqBytes("GET /search?q=go&lang=en HTTP/1.1\nHost: example.com"),
			Request{Method: "GET", Target: "/search?q=go&lang=en", Path: "/search", Query: "q=go&lang=en", Version: "HTTP/1.1", Host: "example.com"}},
		{"absolute_form_host_wins", reqBytes("GET http://example.com:8080/a?b HTTP/1.1\nHost: other"),
			Request{Method: "GET", Target: "http://example.com:8080/a?b", Path: "/a", Query: "b", Version: "HTTP/1.1", Host: "example.com:8080"}},
		{"absolute_form_without_path", reqBytes("GET http://example.com?x HTTP/1.1\nHost: example.com"),
			Request{Method: "GET", Target: "http://example.com?x", Path: "/", Query: "x", Version: "HTTP/1.1", Host: "example.com"}},
		{"asterisk", reqBytes("OPTIONS * HTTP/1.1\nHost: x"),
			Request{Method: "OPTIONS", Target: "*", Path: "*", Version: "HTTP/1.1", Host: "x"}},
		{"http_1_0_without_host", reqBytes("GET / HTTP/1.0"),
			Request{Method: "GET", Target: "/", Path: "/", Version: "HTTP/1.0"}},
		{"later_minor_version", reqBytes("GET / HTTP/1.7\nHost: x"),
			Request{Method: "GET", Target: "/", Path: "/", Version: "HTTP/1.1", Host: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustParse(t, tt.raw)
			got.Headers = nil
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("parseRequest(%q) =\n%+v\nwant\n%+v", tt.raw, *got, tt.want)
			}
		})
	}
}

// Each limit is tested at its value, which is served, and one byte past it,
// which is not. The sizes come from the constants, so the documented limit
// is the enforced one.
func TestLimits(t *testing.T) {
	// requestLine returns a request line of exactly n bytes with its CRLF.
	requestLine := func(n int) string {
		return "GET /" + strings.Repeat("a", n-len("GET / HTTP/1.1\r\n")) + " HTTP/1.1\r\n"
	}
	// fields returns field lines of exactly n bytes with the empty line.
	fields := func(n int) string {
		const host = "Host: x\r\n"
		filler := n - len(host) - len("X: \r\n") - len("\r\n")
		return host + "X: " + strings.Repeat("f", filler) + "\r\n\r\n"
	}
	// chunkedOnWire returns a chunked body that takes exactly n bytes on the
	// wire, sizes and extensions included: chunks of one byte, padded out
	// with an extension, then the last chunk.
	chunkedOnWire := func(n int) string {
		var b strings.Builder
		for left := n - len("0\r\n"); left > 0; {
			wire := min(left, maxChunkLineBytes+len("x\r\n"))
			if rest := left - wire; rest > 0 && rest < len("1;\r\nx\r\n") {
				wire -= len("1;\r\nx\r\n") // leave room for one more chunk
			}
			b.WriteString("1;" + strings.Repeat("e", wire-len("1;\r\nx\r\n")) + "\r\nx\r\n")
			left -= wire
		}
		return b.String() + "0\r\n\r\n"
	}
	// chunkedBody returns a chunked body whose chunks hold n bytes in all.
	chunkedBody := func(n int) string {
		return fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", n, strings.Repeat("b", n))
	}
	post := "POST / HTTP/1.1\r\nHost: x\r\n"
	tests := []struct {
		name string
		raw  string
		want int
	}{
		{"request_line_at_limit", requestLine(maxRequestLineBytes) + "Host: x\r\n\r\n", 200},
		{"request_line_over_limit", requestLine(maxRequestLineBytes+1) + "Host: x\r\n\r\n", 414},
		{"method_at_limit", strings.Repeat("M", maxRequestLineBytes-len(" / HTTP/1.1\r\n")) + " / HTTP/1.1\r\nHost: x\r\n\r\n", 200},
		{"method_over_limit", strings.Repeat("M", maxRequestLineBytes+1) + " / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"method_of_100_kb", strings.Repeat("M", 100_000) + " / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"target_of_8000_octets", "GET /" + strings.Repeat("a", 7999) + " HTTP/1.1\r\nHost: x\r\n\r\n", 200},
		{"empty_lines_count_toward_request_line", "\r\n" + requestLine(maxRequestLineBytes-1) + "Host: x\r\n\r\n", 414},
		{"fields_at_limit", "GET / HTTP/1.1\r\n" + fields(maxFieldBytes), 200},
		{"fields_over_limit", "GET / HTTP/1.1\r\n" + fields(maxFieldBytes+1), 431},
		{"cookie_of_6_kb", reqBytes("GET / HTTP/1.1\nHost: x\nCookie: " + strings.Repeat("c", 6000)), 200},
		{"body_at_limit", post + fmt.Sprintf("Content-Length: %d\r\n\r\n", maxBodyBytes) + strings.Repeat("b", maxBodyBytes), 200},
		{"body_over_limit", post + fmt.Sprintf("Content-Length: %d\r\n\r\n", maxBodyBytes+1) + strings.Repeat("b", maxBodyBytes+1), 413},
		{"body_over_limit_declared_only", post + fmt.Sprintf("Content-Length: %d\r\n\r\n", maxBodyBytes+1), 413},
		{"chunked_at_limit", post + "Transfer-Encoding: chunked\r\n\r\n" + chunkedBody(maxBodyBytes), 200},
		{"chunked_over_limit", post + "Transfer-Encoding: chunked\r\n\r\n" + chunkedBody(maxBodyBytes+1), 413},
		{"chunked_wire_at_limit", post + "Transfer-Encoding: chunked\r\n\r\n" + chunkedOnWire(maxChunkedBytes), 200},
		{"chunked_wire_over_limit", post + "Transfer-Encoding: chunked\r\n\r\n" + chunkedOnWire(maxChunkedBytes+1), 413},
		{"chunk_line_at_limit", post + "Transfer-Encoding: chunked\r\n\r\n0;" + strings.Repeat("e", maxChunkLineBytes-len("0;\r\n")) + "\r\n\r\n", 200},
		{"chunk_line_over_limit", post + "Transfer-Encoding: chunked\r\n\r\n0;" + strings.Repeat("e", maxChunkLineBytes+1-len("0;\r\n")) + "\r\n\r\n", 400},
		{"trailers_at_limit", post + "Transfer-Encoding: chunked\r\n\r\n0\r\n" + fields(maxFieldBytes), 200},
		{"trailers_over_limit", post + "Transfer-Encoding: chunked\r\n\r\n0\r\n" + fields(maxFieldBytes+1), 431},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertStatus(t, tt.raw, tt.want)
		})
	}
}

// The parser must not care how the bytes are split across reads: a
// connection may deliver a request one byte at a time.
func TestSplitReads(t *testing.T) {
	readers := map[string]func(io.Reader) io.Reader{
		"one_byte":   iotest.OneByteReader,
		"half":       iotest.HalfReader,
		"data_err":   iotest.DataErrReader,
		"whole_read": func(r io.Reader) io.Reader { return r },
	}
	for _, rule := range requestRules {
		for _, name := range slices.Sorted(maps.Keys(readers)) {
			t.Run(rule.name+"/"+name, func(t *testing.T) {
				want, wantErr := parseRequest([]byte(rule.raw))
				got, err := readRequest(bufio.NewReader(readers[name](strings.NewReader(rule.raw))))
				if statusOf(err) != statusOf(wantErr) || !reflect.DeepEqual(got, want) {
					t.Errorf("split read = %+v, %v; want %+v, %v", got, err, want, wantErr)
				}
			})
		}
	}
}

// A first byte that cannot begin a request is refused at once: the parser
// does not wait for a line end that a TLS handshake, say, will never send.
func TestRefusesNonHTTPAtOnce(t *testing.T) {
	client, server := io.Pipe()
	defer server.Close()
	go server.Write([]byte{0x16, 0x03, 0x01}) // a TLS ClientHello begins so
	done := make(chan error, 1)
	go func() {
		_, err := readRequest(bufio.NewReader(client))
		done <- err
	}()
	select {
	case err := <-done:
		if statusOf(err) != 400 {
			t.Errorf("readRequest = %v; want 400", err)
		}
	case <-time.After(ioTimeout):
		t.Fatal("the parser is still waiting for more of a TLS handshake")
	}
}

// A read that fails part-way is an error, never a partial request.
func TestReadErrors(t *testing.T) {
	errBroken := errors.New("connection broken")
	tests := []struct{ name, before string }{
		{"before_first_byte", ""},
		{"in_request_line", "GET /ind"},
		{"in_fields", "GET / HTTP/1.1\r\nHost: x\r\nAcc"},
		{"in_body", reqBytes("POST / HTTP/1.1\nHost: x\nContent-Length: 10") + "hel"},
		{"in_chunks", reqBytes("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked") + "5\r\nhel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := io.MultiReader(strings.NewReader(tt.before), iotest.ErrReader(errBroken))
			req, err := readRequest(bufio.NewReader(r))
			if req != nil || !errors.Is(err, errBroken) {
				t.Errorf("readRequest = %v, %v; want nil and an error wrapping %q", req, err, errBroken)
			}
		})
	}
}

// wire writes r back out as a request that must parse to the same Request:
// a serialiser for the fuzz test's round trip.
func (r *Request) wire() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s %s\r\n", r.Method, r.Target, r.Version)
	for _, f := range r.Headers {
		fmt.Fprintf(&b, "%s: %s\r\n", f.Name, f.Value)
	}
	b.WriteString("\r\n")
	if !r.chunked {
		b.Write(r.Body)
		return b.Bytes()
	}
	if len(r.Body) > 0 {
		fmt.Fprintf(&b, "%x\r\n%s\r\n", len(r.Body), r.Body)
	}
	b.WriteString("0\r\n\r\n")
	return b.Bytes()
}

// FuzzParseRequest checks that no input panics the parser, that every error
// carries a status, and that whatever parses survives a round trip.
func FuzzParseRequest(f *testing.F) {
	for _, rule := range requestRules {
		f.Add([]byte(rule.raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := parseRequest(raw)
		if errors.Is(err, errNoRequest) && len(raw) == 0 {
			return // nothing came: nothing to answer
		}
		if err != nil {
			if statusOf(err) == 0 {
				t.Fatalf("parseRequest(%q) = %v; want an error with a status", raw, err)
			}
			return
		}
		again, err := parseRequest(req.wire())
		if err != nil {
			t.Fatalf("re-parsing %q (from %q): %v", req.wire(), raw, err)
		}
		if !reflect.DeepEqual(again, req) {
			t.Fatalf("round trip of %q:\n got %+v\nwant %+v", raw, again, req)
		}
	})
}

// browserGET is a typical request from a browser: about 500 bytes of fields.
var browserGET = reqBytes(`GET /api/hello?lang=en HTTP/1.1
Host: localhost:8080
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8
Accept-Language: en-US,en;q=0.5
Accept-Encoding: gzip, deflate, br, zstd
Connection: keep-alive
Cookie: session=4f2a9c1e7b3d8a6f5e0c2b1a9d8e7f6a; theme=dark
Upgrade-Insecure-Requests: 1
Sec-Fetch-Dest: document
Sec-Fetch-Mode: navigate
Sec-Fetch-Site: none
Sec-Fetch-User: ?1
Priority: u=0, i`)

func BenchmarkReadRequest(b *testing.B) {
	raw := strings.NewReader(browserGET)
	br := bufio.NewReader(raw)
	b.SetBytes(int64(len(browserGET)))
	b.ReportAllocs()
	for b.Loop() {
		raw.Reset(browserGET)
		br.Reset(raw)
		if _, err := readRequest(br); err != nil {
			b.Fatal(err)
		}
	}
}

// A head of the same field on many short lines: the joining stays linear.
func BenchmarkReadRepeatedFields(b *testing.B) {
	raw := "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X: a\r\n", (maxFieldBytes-100)/len("X: a\r\n")) + "\r\n"
	r := strings.NewReader(raw)
	br := bufio.NewReader(r)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(raw)
		br.Reset(r)
		if _, err := readRequest(br); err != nil {
			b.Fatal(err)
		}
	}
}

// A HEAD request whose head is refused is known as HEAD all the same, so
// that its refusal can leave out the body (RFC 9110 §9.3.2); a refused GET
// is not.
func TestRefusedHeadKnowsHEAD(t *testing.T) {
	tests := []struct {
		name, raw string
		head      bool
	}{
		{"two_hosts", reqBytes("HEAD / HTTP/1.1\nHost: a\nHost: a"), true},
		{"no_colon", reqBytes("HEAD / HTTP/1.1\nHost: a\nnocolon"), true},
		{"target_too_long", "HEAD /" + strings.Repeat("a", maxRequestLineBytes) + " HTTP/1.1\r\n\r\n", true},
		{"fields_too_large", reqBytes("HEAD / HTTP/1.1\nHost: a\nX: " + strings.Repeat("a", maxFieldBytes)), true},
		{"unknown_coding", reqBytes("HEAD / HTTP/1.1\nHost: a\nTransfer-Encoding: gzip"), true},
		{"version", reqBytes("HEAD / HTTP/2.0\nHost: a"), true},
		{"get_two_hosts", reqBytes("GET / HTTP/1.1\nHost: a\nHost: a"), false},
		{"head_lowercase_is_no_head", reqBytes("head / HTTP/1.1\nHost: a"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readRequestHead(bufio.NewReader(strings.NewReader(tt.raw)), new(Request))
			if err == nil {
				t.Fatalf("readRequestHead(%.40q) = nil error; want a refusal", tt.raw)
			}
			var h headRequestError
			if got := errors.As(err, &h); got != tt.head {
				t.Errorf("readRequestHead(%.40q) = %v: a HEAD request's? %v; want %v", tt.raw, err, got, tt.head)
			}
			if statusOf(err) < 400 {
				t.Errorf("readRequestHead(%.40q) = %v; want an error with a status", tt.raw, err)
			}
		})
	}
}
