package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Limits on a request's head. Each is enforced where the part it bounds is
// read, and tested at its value (served) and one past (refused). The limits
// on the body are in body.go.
const (
	// maxRequestLineBytes bounds the request line with its line ending, and
	// any empty lines before it. Past it: 414 URI Too Long once a space has
	// come, since the target is what grows; before one, 400: 8 KiB without
	// a space is no request line (RFC 9112 §3 would answer a method merely
	// longer than any it knows with 501). §3 asks a server to take request
	// lines of at least 8000 octets; 8 KiB is that, with room for the method
	// and version.
	maxRequestLineBytes = 8 << 10

	// maxFieldBytes bounds the field lines with their line endings and the
	// empty line after them; the trailer lines of a chunked body get the
	// same allowance. Past it: 431 Request Header Fields Too Large (RFC 6585
	// §5). 16 KiB takes a 6 KB cookie beside a browser's usual fields; the
	// value is otherwise arbitrary (net/http allows 1 MiB; nginx 8 KiB a
	// line, 32 KiB in all).
	maxFieldBytes = 16 << 10
)

// The refusals the parser returns most. They are declared as error values
// so that passing one around does not allocate a new interface value each
// time.
var (
	errIncomplete         error = statusError{400, "incomplete request"}
	errMethodTooLong      error = statusError{400, "request line too long before its first space"}
	errRequestLineTooLong error = statusError{414, "request line too long"}
	errFieldsTooLarge     error = statusError{431, "header fields too large"}
)

// Request is an HTTP/1.1 request as read off the wire (RFC 9112 §2.1).
type Request struct {
	Method  string  // "GET"
	Target  string  // as sent: "/a?b=c", "http://host/a", "*"
	Path    string  // the target's path: "/a"
	Query   string  // the target's query, without its "?": "b=c"
	Version string  // "HTTP/1.1" or "HTTP/1.0"
	Host    string  // the absolute-form target's authority, or Host
	Headers []Field // in the order received; read them with Header
	Body    []byte

	contentLength int64 // from Content-Length; 0 without one
	chunked       bool  // Transfer-Encoding: chunked
}

// readRequest reads one request, head and body, from br.
func readRequest(br *bufio.Reader) (*Request, error) {
	req, err := readRequestHead(br, new(Request))
	if err != nil {
		return nil, err
	}
	if err := req.readBody(br, nil, nil); err != nil {
		return nil, err
	}
	return req, nil
}

// headBuffers recycles the buffers that heads are read into. The Request
// keeps a string copy of its head, so the buffer is free once it is parsed,
// and the next request can be read into it without allocating.
var headBuffers = sync.Pool{New: func() any { return new([]byte) }}

// readRequestHead reads the request line and the header fields into req,
// in place of what it held, and checks that the body's length can be known
// (body.go), but does not read the body. It returns errNoRequest if br
// ends before a first byte, and a headRequestError if a HEAD request's
// head is refused.
func readRequestHead(br *bufio.Reader, req *Request) (*Request, error) {
	first, err := br.Peek(1)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoRequest, err)
	}
	// A request begins with a method, or an empty line. Anything else, such
	// as a TLS handshake sent to a plain-text port, is refused at once,
	// rather than read until a line ends, which it may never do.
	if c := first[0]; c != '\r' && c != '\n' && !isToken(string(first)) {
		return nil, badRequest("not an HTTP request", string(first))
	}
	buf := headBuffers.Get().(*[]byte)
	defer headBuffers.Put(buf)
	head, err := readHead(br, (*buf)[:0])
	*buf = head
	if err != nil {
		return nil, refusedHead(head, err)
	}
	req, err = parseHead(head, req)
	if err != nil {
		return nil, refusedHead(head, err)
	}
	return req, nil
}

// headRequestError is the refusal of a HEAD request whose head could not
// be read. A response to HEAD has no body, a refusal included (RFC 9110
// §9.3.2), so the connection must know the method of a request it could
// not read.
type headRequestError struct{ error }

func (e headRequestError) Unwrap() error { return e.error }

// refusedHead is err, met in reading head, marked as a headRequestError
// when head is a HEAD request's, as far as it was read.
func refusedHead(head []byte, err error) error {
	if bytes.HasPrefix(head, []byte("HEAD ")) {
		return headRequestError{err}
	}
	return err
}

// parseHead parses head, the request line and the field lines that
// readHead read, into req.
func parseHead(head []byte, req *Request) (*Request, error) {
	// Lowering the field names in place, before the one conversion to
	// string below, lets every string of the Request share that one copy.
	lowerFieldNames(head)
	line, fields, _ := strings.Cut(string(head), "\n")
	req, err := parseRequestLine(line, req)
	if err != nil {
		return nil, err
	}
	if err := req.parseFields(fields); err != nil {
		return nil, err
	}
	if err := req.checkHost(); err != nil {
		return nil, err
	}
	if err := req.checkFraming(); err != nil {
		return nil, err // never a Request whose body's end is in doubt
	}
	return req, nil
}

// readHead reads the request line and the field lines after it up to the
// empty line that ends them, and appends them to head, each ended by "\n"
// whatever ending the client used. Empty lines before the request line are
// skipped (RFC 9112 §2.2) but count toward its limit.
func readHead(br *bufio.Reader, head []byte) ([]byte, error) {
	used := 0
	for len(head) == 0 {
		var n int
		var err error
		head, n, err = readLine(br, head, maxRequestLineBytes-used, errRequestLineTooLong)
		if err == errRequestLineTooLong && bytes.IndexByte(head, ' ') < 0 {
			err = errMethodTooLong // no target has begun: not a URI too long
		}
		if err != nil {
			return head, err
		}
		used += n
	}
	used = 0
	for {
		head = append(head, '\n')
		end := len(head)
		var n int
		var err error
		head, n, err = readLine(br, head, maxFieldBytes-used, errFieldsTooLarge)
		if err != nil {
			return head, err
		}
		if len(head) == end {
			return head, nil
		}
		used += n
	}
}

// readLine appends the next line from br to dst without its line ending,
// and returns dst and the bytes the line took on the wire. A line is ended
// by CRLF or by a bare LF, which RFC 9112 §2.2 lets a server accept (`nc`
// sends it); a CR anywhere else is 400. A line over limit bytes, ending
// included, is tooLong: the reader stops there and reads no further, and
// dst holds what came of the line, so that a caller can look at it.
func readLine(br *bufio.Reader, dst []byte, limit int, tooLong error) ([]byte, int, error) {
	start := len(dst)
	for {
		frag, err := br.ReadSlice('\n')
		if len(dst)-start+len(frag) > limit {
			return append(dst, frag[:limit-(len(dst)-start)]...), 0, tooLong
		}
		dst = append(dst, frag...)
		if err == nil {
			break
		}
		if errors.Is(err, io.EOF) {
			return dst, 0, fmt.Errorf("%w: %w", errIncomplete, io.ErrUnexpectedEOF)
		}
		if err != bufio.ErrBufferFull {
			return dst, 0, fmt.Errorf("reading request: %w", err)
		}
	}
	n := len(dst) - start
	dst = bytes.TrimSuffix(dst[:len(dst)-1], []byte("\r"))
	if bytes.IndexByte(dst[start:], '\r') >= 0 {
		return dst, 0, badRequest("bare CR in line", string(dst[start:]))
	}
	return dst, n, nil
}

// parseRequestLine splits "GET /a?b HTTP/1.1" into its method, target and
// version, separated by exactly one space each (RFC 9112 §3).
func parseRequestLine(line string, req *Request) (*Request, error) {
	method, rest, ok1 := strings.Cut(line, " ")
	target, version, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || method == "" || target == "" || strings.Contains(version, " ") {
		return nil, badRequest("malformed request line", line)
	}
	// Methods are case-sensitive tokens (RFC 9110 §9.1). Every registered
	// one is uppercase, so a lowercase "get" is a client's mistake: 400.
	if !isToken(method) || strings.ToUpper(method) != method {
		return nil, badRequest("method is not an uppercase token", method)
	}
	*req = Request{Method: method, Target: target, Headers: req.Headers[:0]} // the array of its fields kept, to fill again
	var err error
	if req.Version, err = parseVersion(version); err != nil {
		return nil, err
	}
	return req, req.parseTarget()
}

// parseVersion checks HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112
// §2.3) and returns the version the request is served as. A later minor
// version of HTTP/1 is served as HTTP/1.1 (RFC 9110 §2.5); another major
// version is 505.
func parseVersion(v string) (string, error) {
	if len(v) != len("HTTP/1.1") || v[:5] != "HTTP/" || !isDigit(v[5]) || v[6] != '.' || !isDigit(v[7]) {
		return "", badRequest("malformed HTTP version", v)
	}
	switch {
	case v[5] != '1':
		return "", reject(505, "HTTP version not supported", v)
	case v[7] == '0':
		return "HTTP/1.0", nil
	default:
		return "HTTP/1.1", nil
	}
}

// parseTarget splits the request-target into path and query. A server
// takes three of its four forms (RFC 9112 §3.2): origin-form "/a?b",
// absolute-form "http://host/a?b", whose authority becomes the request's
// host (§3.2.2), and asterisk-form "*". The fourth, authority-form, is for
// CONNECT through a proxy, which this server is not.
func (r *Request) parseTarget() error {
	t := r.Target
	if strings.ContainsFunc(t, func(c rune) bool { return c <= ' ' || c >= 0x7f || c == '#' }) {
		return badRequest("invalid character in target", t)
	}
	if t == "*" {
		r.Path = t
		return nil
	}
	if t[0] != '/' {
		scheme, rest, ok := strings.Cut(t, "://")
		if !ok || !(strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https")) {
			return badRequest("target is not a path, an absolute URI or *", t)
		}
		end := strings.IndexAny(rest, "/?")
		if end < 0 {
			end = len(rest)
		}
		if r.Host = rest[:end]; r.Host == "" || !validHost(r.Host) {
			return badRequest("invalid authority in target", t)
		}
		if t = rest[end:]; t == "" || t[0] == '?' {
			t = "/" + t
		}
	}
	r.Path, r.Query, _ = strings.Cut(t, "?")
	return nil
}

// isToken reports whether s is a token (RFC 9110 §5.6.2):
//
//	token = 1*tchar
//	tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
//	        "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
func isToken(s string) bool {
	return s != "" && every(s, func(c byte) bool { return isAlnum(c) || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 })
}

// every reports whether ok holds for every byte of s.
func every(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isHex(c byte) bool   { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
