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

// Limits on a request's body, enforced as it is read, and tested at their
// value (served) and one past (refused), as the head's are in request.go.
const (
	// maxBodyBytes bounds a request body, declared or decoded from chunks.
	// Past it: 413 Content Too Large (RFC 9110 §15.5.14). A body is held in
	// memory whole, so this bounds what one request can make the server
	// hold. Arbitrary: 1 MiB is more than a form or a JSON document needs.
	maxBodyBytes = 1 << 20

	// maxChunkedBytes bounds a chunked body as it comes on the wire: data,
	// sizes, extensions and line endings. Past it: 413. Twice the body
	// limit is room for any sensible chunking; without it, a client could
	// send a gigabyte of extensions around a few bytes of data
	// (net/http's CVE-2023-39326).
	maxChunkedBytes = 2 * maxBodyBytes

	// maxChunkLineBytes bounds one chunk-size line with its extensions and
	// its line ending. Past it: 400. A size needs 16 hex digits at most; the
	// rest is room for extensions, which this server ignores.
	maxChunkLineBytes = 1 << 10
)

var (
	errBodyTooLarge error = statusError{413, "request body too large"}
	errBadChunk     error = statusError{400, "malformed chunked body"}
)

// checkFraming decides how the body is delimited (RFC 9112 §6): by
// Transfer-Encoding: chunked, by Content-Length, or absent. Framing that two
// readers could understand differently is refused, since that difference is
// how requests get smuggled past a proxy.
func (r *Request) checkFraming() error {
	te, hasTE := r.Header("transfer-encoding")
	cl, hasCL := r.Header("content-length")
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
		if err != nil || !every(s, isDigit) || (n >= 0 && m != n) {
			return 0, badRequest("invalid Content-Length", v)
		}
		n = m
	}
	return n, nil
}

// hasBody reports whether the head announced a body: chunks, or a
// Content-Length above zero.
func (r *Request) hasBody() bool {
	return r.chunked || r.contentLength > 0
}

// expectsContinue reports whether the client waits for "100 Continue"
// before it sends its body (RFC 9110 §10.1.1): it sent "Expect:
// 100-continue", and there is a body to send. Any other expectation is
// one this server cannot meet: 417. An HTTP/1.0 client cannot know of
// 100 Continue, so there the expectation MUST be ignored.
func (r *Request) expectsContinue() (bool, error) {
	expect, ok := r.Header("expect")
	switch {
	case !ok:
		return false, nil
	case !strings.EqualFold(expect, "100-continue"):
		return false, reject(417, "unsupported expectation", expect)
	case r.Version == "HTTP/1.0":
		return false, nil
	}
	return r.hasBody(), nil
}

// readBody reads the body the head announced: Content-Length bytes, or
// chunks. A declared length over the limit is refused before a byte of it
// is read. reserve, if not nil, is called before bytes of the body are
// held in memory, with how many: a declared length at once, before the
// body is invited, and a chunk's size as its line arrives; an error from it
// ends the read. A chunked body's buffer grows by doubling as its chunks
// come, so it may take up to twice the bytes reserved. invite, if not nil,
// is called once the head has shown that the body may come, just before
// its first byte is read: a server sends a client that waits for it its
// 100 Continue there.
func (r *Request) readBody(br *bufio.Reader, invite func() error, reserve func(n int64) error) error {
	switch {
	case r.contentLength > maxBodyBytes:
		return errBodyTooLarge
	case !r.hasBody():
		return nil
	}
	var body bytes.Buffer
	if !r.chunked && reserve != nil {
		if err := reserve(r.contentLength); err != nil {
			return err
		}
		// One allocation, of the bytes counted: io.CopyN reads through
		// body.ReadFrom, which wants bytes.MinRead of room before every read,
		// the one that finds the end too, so without those the full buffer
		// would double to read nothing.
		body.Grow(int(r.contentLength) + bytes.MinRead)
	}
	if invite != nil {
		if err := invite(); err != nil {
			return err
		}
	}
	var err error
	if r.chunked {
		err = readChunked(br, &body, reserve)
	} else {
		_, err = io.CopyN(&body, br, r.contentLength)
	}
	if errors.Is(err, io.EOF) {
		err = fmt.Errorf("%w: body: %w", errIncomplete, io.ErrUnexpectedEOF)
	}
	r.Body = body.Bytes()
	return err
}

// readChunked decodes a chunked body (RFC 9112 §7.1) into body, calling
// reserve, if not nil, with each chunk's size before its data is read:
//
//	5;name=value\r\n   chunk size in hex; extensions checked, then ignored
//	hello\r\n          chunk data, then its line ending
//	0\r\n              the last chunk
//	Trailer: x\r\n     trailer fields, read and dropped
//	\r\n
//
// Every line of it must end in CRLF: the head may end its lines with a
// bare LF (RFC 9112 §2.2), but the body's framing is where a request is
// smuggled past a reader that splits it differently, so it is read to the
// letter of the grammar.
func readChunked(br *bufio.Reader, body *bytes.Buffer, reserve func(n int64) error) error {
	line := make([]byte, 0, 32)
	for wire := 0; ; {
		var err error
		var n int
		if line, n, err = readCRLFLine(br, line, maxChunkLineBytes, errBadChunk); err != nil {
			return err
		}
		if wire += n; wire > maxChunkedBytes {
			return errBodyTooLarge
		}
		// chunk-size = 1*HEXDIG, then the extensions, if any (§7.1).
		end := 0
		for end < len(line) && isHex(line[end]) {
			end++
		}
		size, err := strconv.ParseUint(string(line[:end]), 16, 63)
		if err != nil {
			return badRequest("invalid chunk size", string(line))
		}
		if !validChunkExt(string(line[end:])) {
			return badRequest("invalid chunk extension", string(line))
		}
		if size == 0 {
			return readTrailers(br)
		}
		if uint64(body.Len())+size > maxBodyBytes {
			return errBodyTooLarge
		}
		if reserve != nil {
			if err := reserve(int64(size)); err != nil {
				return err
			}
		}
		if _, err := io.CopyN(body, br, int64(size)); err != nil {
			return err
		}
		// The data must end where its size said: a CRLF, nothing else.
		if line, n, err = readCRLFLine(br, line, len("\r\n"), errBadChunk); err != nil {
			return err
		}
		wire += int(size) + n
		if len(line) > 0 {
			return errBadChunk
		}
	}
}

// readCRLFLine is readLine for the lines of a chunked body: it reads into
// buf from its start, and refuses a line that ends in a bare LF.
func readCRLFLine(br *bufio.Reader, buf []byte, limit int, tooLong error) ([]byte, int, error) {
	line, n, err := readLine(br, buf[:0], limit, tooLong)
	if err == nil && n != len(line)+len("\r\n") {
		return line, n, badRequest("chunked body line not ended by CRLF", string(line))
	}
	return line, n, err
}

// validChunkExt reports whether ext, what follows the size on a chunk-size
// line, is a list of well-formed chunk extensions (RFC 9112 §7.1.1), or
// nothing:
//
//	chunk-ext      = *( BWS ";" BWS chunk-ext-name
//	                    [ BWS "=" BWS chunk-ext-val ] )
//	chunk-ext-name = token
//	chunk-ext-val  = token / quoted-string
//	BWS            = *( SP / HTAB )
//
// This server knows no extension and ignores every one, but it checks them:
// a reader that skipped to the line's end and one that parsed could
// disagree on where the line, and so the chunk, ends.
func validChunkExt(ext string) bool {
	for ext != "" {
		ext = trimBWS(ext)
		if ext == "" || ext[0] != ';' {
			return false // whitespace at the end, or no ";" before a name
		}
		ext = trimBWS(ext[1:])
		n := tokenLen(ext) // chunk-ext-name
		if n == 0 {
			return false
		}
		ext = ext[n:]
		if rest := trimBWS(ext); rest != "" && rest[0] == '=' {
			rest = trimBWS(rest[1:])
			if n = tokenLen(rest); n == 0 {
				n = quotedLen(rest)
			}
			if n == 0 {
				return false // "=" without a value
			}
			ext = rest[n:]
		}
	}
	return true
}

// trimBWS cuts the optional whitespace, BWS, off the front of s (RFC 9110
// §5.6.3).
func trimBWS(s string) string { return strings.TrimLeft(s, " \t") }

// tokenLen returns the length of the token at the front of s (RFC 9110
// §5.6.2), 0 if none is there.
func tokenLen(s string) int {
	for i := range len(s) {
		if !isToken(s[i : i+1]) {
			return i
		}
	}
	return len(s)
}

// quotedLen returns the length of the quoted-string at the front of s, its
// quotes included, 0 if none is there (RFC 9110 §5.6.4):
//
//	quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
//	qdtext        = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
//	quoted-pair   = "\" ( HTAB / SP / VCHAR / obs-text )
func quotedLen(s string) int {
	if s == "" || s[0] != '"' {
		return 0
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return i + 1
		case c == '\\' && i+1 < len(s) && (s[i+1] == '\t' || s[i+1] >= ' ' && s[i+1] != 0x7f):
			i++ // the quoted-pair's second byte
		case c != '\t' && (c < ' ' || c == 0x7f || c == '\\'):
			return 0
		}
	}
	return 0 // no closing quote
}

// readTrailers reads the trailer fields after the last chunk, up to the
// empty line, each line ended by CRLF, and drops them: this server has no
// use for them (§7.1.2).
func readTrailers(br *bufio.Reader) error {
	used := 0
	for {
		line, n, err := readCRLFLine(br, nil, maxFieldBytes-used, errFieldsTooLarge)
		if err != nil || len(line) == 0 {
			return err
		}
		used += n
	}
}
