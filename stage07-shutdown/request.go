package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits on a request's head. Each is enforced where the part it bounds is
// read, and tested at its value (served) and one past (refused). The limits
// on the body are in body.go.
const (
	// maxRequestLineBytes bounds the request line with its line ending, and
	// any empty lines before it. Past it: 414 URI Too Long when the target
	// is what grew, or 400 when no space has come yet, since a method that
	// long is no URI. RFC 9112 §3 asks a server to take request lines of at
	// least 8000 octets; 8 KiB is that, with room for the method and version.
	maxRequestLineBytes = 8 << 10

	// maxFieldBytes bounds the field lines with their line endings and the
	// empty line after them; the trailer lines of a chunked body get the
	// same allowance. Past it: 431 Request Header Fields Too Large (RFC 6585
	// §5). 16 KiB takes a 6 KB cookie beside a browser's usual fields; the
	// value is otherwise arbitrary (net/http allows 1 MiB, nginx 8 KiB).
	maxFieldBytes = 16 << 10

	// maxQuote bounds how much of a client's input goes into a log line or
	// an error's text (clip, quote). Arbitrary: enough to recognise it.
	maxQuote = 64
)

// statusError is a request the server refuses: the status code that says
// why, and a short text for the response body. The text is fixed; where it
// names the client's input, it does so through quote. An error wrapping a
// statusError may quote more for the log.
type statusError struct {
	code int
	text string
}

func (e statusError) Error() string { return strconv.Itoa(e.code) + " " + e.text }

// errNoRequest means that no request began: the connection ended, or its
// read deadline passed, before its first byte. It is not a statusError,
// because there is no one to answer: the server closes the connection.
var errNoRequest = errors.New("no request: the connection ended before its first byte")

// The refusals the parser returns most. They are declared as error values
// so that passing one around does not allocate a new interface value each
// time.
var (
	errIncomplete         error = statusError{400, "incomplete request"}
	errMethodTooLong      error = statusError{400, "request line too long before its first space"}
	errRequestLineTooLong error = statusError{414, "request line too long"}
	errFieldsTooLarge     error = statusError{431, "header fields too large"}
)

// clip cuts s to maxQuote bytes, and marks the cut: all of a client's
// input that a log line carries.
func clip(s string) string {
	if len(s) > maxQuote {
		return s[:maxQuote] + "..."
	}
	return s
}

// quote is clip as a Go string literal, "/a\x00b": the only way a client's
// input goes into an error's text.
func quote(s string) string { return strconv.Quote(clip(s)) }

// reject returns an error answered with code and text, whose message, for
// the log, quotes the offending input.
func reject(code int, text, input string) error {
	return fmt.Errorf("%w: %s", statusError{code, text}, quote(input))
}

// badRequest is reject with 400 Bad Request.
func badRequest(text, input string) error { return reject(400, text, input) }

// Field is one header field. The names of a request's fields are
// lowercased as they are read, since field names are case-insensitive
// (RFC 9110 §5.1); a response's are written as given.
type Field struct {
	Name, Value string
}

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

// Header returns the value of the field named name, which must be
// lowercase, and whether the request has that field. A field sent on
// several lines has one value, as joinFieldValues joins them.
func (r *Request) Header(name string) (string, bool) {
	value, found := "", false
	var rest []string
	for _, f := range r.Headers {
		switch {
		case f.Name != name:
		case !found:
			value, found = f.Value, true
		default:
			rest = append(rest, f.Value)
		}
	}
	if rest != nil {
		value = joinFieldValues(value, rest)
	}
	return value, found
}

// joinFieldValues joins the values of a field sent on several lines into
// one, in order, with ", " (RFC 9110 §5.3). An empty value adds only its
// comma, as a value never ends in whitespace. Joining once, when all the
// values are known, keeps many repeated lines linear: joining line by line
// would copy the growing value again for each.
func joinFieldValues(first string, rest []string) string {
	var b strings.Builder
	b.WriteString(first)
	for _, v := range rest {
		b.WriteByte(',')
		if v != "" {
			b.WriteByte(' ')
			b.WriteString(v)
		}
	}
	return b.String()
}

// readRequest reads one request, head and body, from br.
func readRequest(br *bufio.Reader) (*Request, error) {
	req, err := readRequestHead(br)
	if err != nil {
		return nil, err
	}
	if err := req.readBody(br, nil); err != nil {
		return nil, err
	}
	return req, nil
}

// readRequestHead reads the request line and the header fields, and checks
// that the body's length can be known (body.go), but does not read the
// body. It returns errNoRequest if br ends before a first byte.
func readRequestHead(br *bufio.Reader) (*Request, error) {
	first, err := br.Peek(1)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoRequest, err)
	}
	// A request begins with a method, or an empty line. Anything else, such
	// as a TLS handshake sent to a plain-text port, is refused at once,
	// rather than read until a line ends or the client timeout passes.
	if c := first[0]; c != '\r' && c != '\n' && !isToken(string(first)) {
		return nil, badRequest("not an HTTP request", string(first))
	}
	head, err := readHead(br, make([]byte, 0, 1024))
	if err != nil {
		return nil, err
	}
	// Lowering the field names in place, before the one conversion to
	// string below, lets every string of the Request share that one copy.
	lowerFieldNames(head)
	line, fields, _ := strings.Cut(string(head), "\n")
	req, err := parseRequestLine(line)
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
			err = errMethodTooLong // RFC 9112 §3: no URI has begun
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

// lowerFieldNames lowercases, in place, the name of every field line of a
// head read by readHead: the bytes before the first colon of each line but
// the first.
func lowerFieldNames(head []byte) {
	inName := false
	for i, c := range head {
		switch {
		case c == '\n':
			inName = true
		case c == ':':
			inName = false
		case inName && 'A' <= c && c <= 'Z':
			head[i] = c + 'a' - 'A'
		}
	}
}

// parseRequestLine splits "GET /a?b HTTP/1.1" into its method, target and
// version, separated by exactly one space each (RFC 9112 §3).
func parseRequestLine(line string) (*Request, error) {
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
	req := &Request{Method: method, Target: target}
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

// parseFields reads "name: value" lines (RFC 9112 §5) into r.Headers.
func (r *Request) parseFields(lines string) error {
	r.Headers = make([]Field, 0, strings.Count(lines, "\n"))
	seenHost := false
	for lines != "" {
		var line string
		line, lines, _ = strings.Cut(lines, "\n")
		name, value, ok := strings.Cut(line, ":")
		switch {
		case line[0] == ' ' || line[0] == '\t':
			// Obsolete line folding, or whitespace before the first
			// field, which could hide a field from one reader but not
			// another (RFC 9112 §5.2, §2.2).
			return badRequest("field line starts with whitespace", line)
		case !ok:
			return badRequest("field line without a colon", line)
		case strings.TrimRight(name, " \t") != name:
			return badRequest("whitespace before colon", line) // §5.1: MUST be 400
		case !isToken(name):
			return badRequest("invalid field name", line)
		}
		// Optional whitespace around the value is not part of it (§5.1).
		value = strings.Trim(value, " \t")
		if strings.ContainsFunc(value, func(c rune) bool { return c < ' ' && c != '\t' || c == 0x7f }) {
			return badRequest("control character in field value", line) // RFC 9110 §5.5
		}
		if name == "host" && seenHost {
			return badRequest("more than one Host", line) // §3.2
		}
		seenHost = seenHost || name == "host"
		r.Headers = append(r.Headers, Field{name, value})
	}
	return nil
}

// checkHost applies RFC 9112 §3.2: an HTTP/1.1 request must carry a Host
// field, and no request may carry an invalid one. An absolute-form target
// has already set r.Host, and its authority wins over the field (§3.2.2).
// An empty Host is invalid on an origin-form request, whose target URI
// would be "http:///path", with no host at all (RFC 9110 §4.2.1: a
// recipient MUST reject it); "OPTIONS *" may have one (§3.3).
func (r *Request) checkHost() error {
	host, ok := r.Header("host")
	switch {
	case !ok && r.Version == "HTTP/1.1":
		return badRequest("missing Host", r.Target)
	case !validHost(host):
		return badRequest("invalid Host", host)
	case ok && host == "" && r.Host == "" && r.Path != "*":
		return badRequest("empty Host", r.Target)
	case r.Host == "":
		r.Host = host
	}
	return nil
}

// validHost reports whether h is host [ ":" port ], where host is an IP
// literal in brackets or a name of unreserved characters, sub-delims and
// percent-escapes (RFC 9110 §7.2, RFC 3986 §3.2.2). An empty h is valid
// here; checkHost decides where it may be.
func validHost(h string) bool {
	name, port := h, ""
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return false
		}
		name, port = h[1:end], h[end+1:]
		if name == "" || !every(name, func(c byte) bool { return c == ':' || c == '.' || isHex(c) }) {
			return false
		}
	} else if i := strings.IndexByte(h, ':'); i >= 0 {
		name, port = h[:i], h[i:]
	}
	if port != "" && (port[0] != ':' || !every(port[1:], isDigit)) { // port = *DIGIT
		return false
	}
	for i := 0; i < len(name) && h[0] != '['; i++ {
		c := name[i]
		if c == '%' && i+2 < len(name) && isHex(name[i+1]) && isHex(name[i+2]) {
			i += 2
		} else if !isAlnum(c) && strings.IndexByte("-._~!$&'()*+,;=", c) < 0 {
			return false
		}
	}
	return true
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
