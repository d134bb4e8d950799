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

// Limits on what a client may send. Each is enforced where the part it
// bounds is read, and tested at its value (served) and one past (rejected).
const (
	// maxRequestLineBytes bounds the request line with its line ending, and
	// any empty lines before it. Past it: 414 URI Too Long, since the target
	// is the part that grows. RFC 9112 §3 asks a server to take at least
	// 8000 octets; 8 KiB is that, with room for the method and version.
	maxRequestLineBytes = 8 << 10

	// maxFieldBytes bounds the field lines with their line endings and the
	// empty line after them; the trailer lines of a chunked body get the
	// same allowance. Past it: 431 Request Header Fields Too Large (RFC 6585
	// §5). 16 KiB takes a 6 KB cookie beside a browser's usual fields; the
	// value is otherwise arbitrary (net/http allows 1 MiB, nginx 8 KiB).
	maxFieldBytes = 16 << 10

	// maxBodyBytes bounds a request body, declared or decoded from chunks.
	// Past it: 413 Content Too Large (RFC 9110 §15.5.14). Arbitrary: no
	// route here reads a body; 1 MiB leaves room for a learner's own.
	maxBodyBytes = 1 << 20

	// maxChunkedBytes bounds a chunked body as it comes on the wire: data,
	// sizes, extensions and line endings. Past it: 413. Twice the body
	// limit is room for any sensible chunking; without it, a client could
	// send a gigabyte of extensions around a few bytes of data
	// (net/http's CVE-2023-39326).
	maxChunkedBytes = 2 * maxBodyBytes

	// maxChunkLineBytes bounds one chunk-size line with its extensions.
	// Past it: 400. A size needs 16 hex digits at most; the rest is room
	// for extensions, which this server ignores.
	maxChunkLineBytes = 1 << 10

	// maxQuote bounds how much of a bad input an error quotes for the log.
	maxQuote = 64
)

// statusError is a request the server cannot serve: the status code that
// says why, and a short fixed text for the response body. The text never
// quotes the client's bytes; an error wrapping it may, for the log.
type statusError struct {
	code int
	text string
}

func (e statusError) Error() string { return strconv.Itoa(e.code) + " " + e.text }

// The errors the parser returns most. They are declared as error values so
// that passing one around does not allocate a new interface value each time.
var (
	errNoRequest          error = statusError{400, "no request"}
	errIncomplete         error = statusError{400, "incomplete request"}
	errRequestLineTooLong error = statusError{414, "request line too long"}
	errFieldsTooLarge     error = statusError{431, "header fields too large"}
	errBodyTooLarge       error = statusError{413, "request body too large"}
	errBadChunk           error = statusError{400, "malformed chunked body"}
)

// reject returns an error answered with code and text, whose log message
// quotes the offending input, cut at maxQuote bytes.
func reject(code int, text, input string) error {
	if len(input) > maxQuote {
		input = input[:maxQuote] + "..."
	}
	return fmt.Errorf("%w: %q", statusError{code, text}, input)
}

// badRequest is reject with 400 Bad Request.
func badRequest(text, input string) error { return reject(400, text, input) }

// Request is an HTTP/1.1 request as read off the wire (RFC 9112 §2.1).
type Request struct {
	Method  string            // "GET"
	Target  string            // as sent: "/a?b=c", "http://host/a", "*"
	Path    string            // the target's path: "/a"
	Query   string            // the target's query, without its "?": "b=c"
	Version string            // "HTTP/1.1" or "HTTP/1.0"
	Host    string            // the absolute-form target's authority, or Host
	Headers map[string]string // names lowercased; repeats joined with ", "
	Body    []byte

	contentLength int64 // from Content-Length; 0 without one
	chunked       bool  // Transfer-Encoding: chunked
}

// readRequest reads one request, head and body, from br.
func readRequest(br *bufio.Reader) (*Request, error) {
	req, err := readRequestHead(br)
	if err != nil {
		return nil, err
	}
	if err := req.readBody(br); err != nil {
		return nil, err
	}
	return req, nil
}

// readRequestHead reads the request line and the header fields, and checks
// that the body's length can be known, but does not read the body.
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
	head, err := readHead(br)
	if err != nil {
		return nil, err
	}
	// Field names are case-insensitive (RFC 9110 §5.1). Lowering them in
	// place, before the one conversion to string below, lets every string of
	// the Request share that single copy.
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
	return req, req.checkFraming()
}

// readHead reads the request line and the field lines after it up to the
// empty line that ends them, and returns them each ended by "\n", whatever
// ending the client used. Empty lines before the request line are skipped
// (RFC 9112 §2.2) but count toward its limit.
func readHead(br *bufio.Reader) ([]byte, error) {
	head := make([]byte, 0, 1024)
	used := 0
	for len(head) == 0 {
		var n int
		var err error
		head, n, err = readLine(br, head, maxRequestLineBytes-used, errRequestLineTooLong)
		if err != nil {
			return nil, err
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
			return nil, err
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
// included, is tooLong; the reader stops there and reads no further.
func readLine(br *bufio.Reader, dst []byte, limit int, tooLong error) ([]byte, int, error) {
	start := len(dst)
	for {
		frag, err := br.ReadSlice('\n')
		if len(dst)-start+len(frag) > limit {
			return dst, 0, tooLong
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
	r.Headers = make(map[string]string, strings.Count(lines, "\n"))
	var repeats map[string][]string // later values of a name, joined at the end
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
		if _, seen := r.Headers[name]; seen {
			if name == "host" {
				return badRequest("more than one Host", line) // §3.2
			}
			if repeats == nil {
				repeats = make(map[string][]string)
			}
			repeats[name] = append(repeats[name], value)
			continue
		}
		r.Headers[name] = value
	}
	for name, values := range repeats {
		r.Headers[name] = joinFieldValues(r.Headers[name], values)
	}
	return nil
}

// joinFieldValues joins the values of a field sent on several lines into
// one, in order, with ", " (RFC 9110 §5.3). An empty value adds only its
// comma, as a value never ends in whitespace. Joining once, when all the
// lines are in, keeps a head of many repeated lines linear: joining line by
// line would copy the growing value again for each.
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

// checkHost applies RFC 9112 §3.2: an HTTP/1.1 request must carry a Host
// field, and no request may carry an invalid one. An absolute-form target
// has already set r.Host, and its authority wins over the field (§3.2.2).
func (r *Request) checkHost() error {
	host, ok := r.Headers["host"]
	switch {
	case !ok && r.Version == "HTTP/1.1":
		return badRequest("missing Host", r.Target)
	case !validHost(host):
		return badRequest("invalid Host", host)
	case r.Host == "":
		r.Host = host
	}
	return nil
}

// validHost reports whether h is host [ ":" port ], where host is an IP
// literal in brackets or a name of unreserved characters, sub-delims and
// percent-escapes (RFC 9110 §7.2, RFC 3986 §3.2.2). An empty h is valid.
func validHost(h string) bool {
	name, port := h, ""
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return false
		}
		name, port = h[1:end], h[end+1:]
		if name == "" || strings.Trim(name, "0123456789abcdefABCDEF:.") != "" {
			return false
		}
	} else if i := strings.IndexByte(h, ':'); i >= 0 {
		name, port = h[:i], h[i:]
	}
	if port != "" && (port[0] != ':' || strings.Trim(port[1:], "0123456789") != "") {
		return false
	}
	for i := 0; i < len(name) && h[0] != '['; i++ {
		c := name[i]
		if c == '%' && i+2 < len(name) && isHex(name[i+1]) && isHex(name[i+2]) {
			i += 2
		} else if !isAlnum(c) && !strings.ContainsRune("-._~!$&'()*+,;=", rune(c)) {
			return false
		}
	}
	return true
}

// checkFraming decides how the body is delimited (RFC 9112 §6): by
// Transfer-Encoding: chunked, by Content-Length, or absent. Framing that two
// readers could understand differently is refused, since that difference is
// how requests get smuggled past a proxy.
func (r *Request) checkFraming() error {
	te, hasTE := r.Headers["transfer-encoding"]
	cl, hasCL := r.Headers["content-length"]
	switch {
	case hasTE && hasCL:
		return badRequest("both Transfer-Encoding and Content-Length", te) // §6.1
	case hasTE && r.Version == "HTTP/1.0":
		return badRequest("Transfer-Encoding in HTTP/1.0", te) // §6.1
	case hasTE:
		return r.parseTransferEncoding(te)
	case hasCL:
		var err error
		r.contentLength, err = parseContentLength(cl)
		return err
	}
	return nil
}

// parseTransferEncoding accepts "chunked" alone. Chunked must be the last
// coding, and only once, or the body's end cannot be found: 400 (§6.3).
// Before it, any other coding is one this server does not decode: 501
// (§6.1).
func (r *Request) parseTransferEncoding(te string) error {
	codings := strings.Split(te, ",")
	for i, c := range codings {
		c = strings.Trim(c, " \t")
		if c == "" || strings.EqualFold(c, "chunked") != (i == len(codings)-1) {
			return badRequest("chunked is not the last transfer coding", te)
		}
	}
	if len(codings) > 1 {
		return reject(501, "transfer coding not implemented", te)
	}
	r.chunked = true
	return nil
}

// parseContentLength reads Content-Length = 1*DIGIT (RFC 9110 §8.6). A list
// of one value repeated, which a repeated field becomes, counts once.
func parseContentLength(v string) (int64, error) {
	var n int64 = -1
	for _, s := range strings.Split(v, ",") {
		s = strings.Trim(s, " \t")
		m, err := strconv.ParseInt(s, 10, 64)
		if err != nil || strings.Trim(s, "0123456789") != "" || (n >= 0 && m != n) {
			return 0, badRequest("invalid Content-Length", v)
		}
		n = m
	}
	return n, nil
}

// readBody reads the body the head announced: Content-Length bytes, or
// chunks. A declared length over the limit is refused before a byte of it is
// read. The body grows as its bytes arrive, so a client must send them to
// make the server hold them.
func (r *Request) readBody(br *bufio.Reader) error {
	switch {
	case r.contentLength > maxBodyBytes:
		return errBodyTooLarge
	case r.contentLength == 0 && !r.chunked:
		return nil
	}
	var body bytes.Buffer
	var err error
	if r.chunked {
		err = readChunked(br, &body)
	} else if r.contentLength > 0 {
		_, err = io.CopyN(&body, br, r.contentLength)
	}
	if errors.Is(err, io.EOF) {
		err = fmt.Errorf("%w: body: %w", errIncomplete, io.ErrUnexpectedEOF)
	}
	r.Body = body.Bytes()
	return err
}

// readChunked decodes a chunked body (RFC 9112 §7.1) into body:
//
//	5;name=value\r\n   chunk size in hex; extensions are ignored
//	hello\r\n          chunk data, then its line ending
//	0\r\n              the last chunk
//	Trailer: x\r\n     trailer fields, read and dropped
//	\r\n
func readChunked(br *bufio.Reader, body *bytes.Buffer) error {
	line := make([]byte, 0, 32)
	for wire := 0; ; {
		var err error
		var n int
		if line, n, err = readLine(br, line[:0], maxChunkLineBytes, errBadChunk); err != nil {
			return err
		}
		if wire += n; wire > maxChunkedBytes {
			return errBodyTooLarge
		}
		digits, _, _ := strings.Cut(string(line), ";")
		digits = strings.TrimRight(digits, " \t")
		size, err := strconv.ParseUint(digits, 16, 63)
		if err != nil || strings.Trim(digits, "0123456789abcdefABCDEF") != "" {
			return badRequest("invalid chunk size", string(line))
		}
		if size == 0 {
			return readTrailers(br)
		}
		if uint64(body.Len())+size > maxBodyBytes {
			return errBodyTooLarge
		}
		if _, err := io.CopyN(body, br, int64(size)); err != nil {
			return err
		}
		// The data must end where its size said: a line ending, nothing else.
		if line, n, err = readLine(br, line[:0], len("\r\n"), errBadChunk); err != nil {
			return err
		}
		wire += int(size) + n
		if len(line) > 0 {
			return errBadChunk
		}
	}
}

// readTrailers reads the trailer fields after the last chunk, up to the
// empty line, and drops them: no route here has a use for them (§7.1.2).
func readTrailers(br *bufio.Reader) error {
	used := 0
	for {
		line, n, err := readLine(br, nil, maxFieldBytes-used, errFieldsTooLarge)
		if err != nil || len(line) == 0 {
			return err
		}
		used += n
	}
}

// isToken reports whether s is a token (RFC 9110 §5.6.2):
//
//	token = 1*tchar
//	tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
//	        "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(s[i])) {
			return false
		}
	}
	return s != ""
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isHex(c byte) bool   { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
