package main

import (
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fixed values every response carries.
const (
	// serverName is the Server field's value (RFC 9110 §10.2.4).
	serverName = "go-raw/1.0"

	// imfFixdate is the layout of the Date field, in GMT (RFC 9110 §5.6.7):
	// "Sun, 06 Nov 1994 08:49:37 GMT".
	imfFixdate = "Mon, 02 Jan 2006 15:04:05 GMT"
)

// Response is what a handler returns. The fields the writer owns
// (Content-Length, Transfer-Encoding, Date, Server, Connection) are not in
// it: the writer adds them, and drops any that a handler puts in Headers,
// so no handler can get them wrong. Two Content-Lengths, or one beside a
// Transfer-Encoding, would make the response's end a guess for the client
// (RFC 9112 §6.3). A 304 has no body and no Content-Length (RFC 9110
// §15.4.5, §8.6).
type Response struct {
	Status      int
	ContentType string  // with a body; "application/octet-stream" if empty
	Headers     []Field // any others, such as Allow or Retry-After
	Body        []byte
}

// statusText holds the reason phrase of every status this server sends
// (RFC 9110 §15, RFC 6585 §5). A client must ignore the phrase, but a person
// reading the wire should not have to look the code up.
var statusText = map[int]string{
	100: "Continue",
	200: "OK",
	304: "Not Modified",
	400: "Bad Request",
	404: "Not Found",
	405: "Method Not Allowed",
	408: "Request Timeout",
	413: "Content Too Large",
	414: "URI Too Long",
	417: "Expectation Failed",
	431: "Request Header Fields Too Large",
	500: "Internal Server Error",
	501: "Not Implemented",
	503: "Service Unavailable",
	505: "HTTP Version Not Supported",
}

// textResponse is a plain-text response.
func textResponse(status int, text string) *Response {
	return &Response{Status: status, ContentType: "text/plain; charset=utf-8", Body: []byte(text)}
}

// jsonResponse is v as JSON, indented by two spaces and ended by a newline,
// so that it reads well in a terminal.
func jsonResponse(status int, v any) *Response {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return errorResponse(500, "cannot encode response")
	}
	return &Response{Status: status, ContentType: "application/json", Body: append(body, '\n')}
}

// errorResponse is a plain-text refusal: "404 Not Found: no route for \"/x\"".
// The text is fixed, or names the client's input only through quote.
func errorResponse(status int, text string) *Response {
	return textResponse(status, strconv.Itoa(status)+" "+statusText[status]+": "+text+"\n")
}

// wireBuffers recycles the buffers responses are written from, so that a
// busy server does not allocate one for every response. A buffer over
// maxPooledBuffer, grown for a large body, is left to the garbage
// collector rather than kept for the small responses that follow.
var wireBuffers = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledBuffer = 64 << 10 // above every answer here but static files; arbitrary

// writeResponse writes r to w in one write. withBody is false for a
// response to HEAD, which has every field of the full response, including
// its Content-Length, and no body (RFC 9110 §9.3.2). connection is the
// Connection field's value: "close" on a connection's last response,
// "keep-alive" to an HTTP/1.0 client that asked for it, or empty, for no
// field, on an HTTP/1.1 connection that stays open (RFC 9112 §9.3).
func writeResponse(w io.Writer, r *Response, withBody bool, connection string) error {
	buf := wireBuffers.Get().(*[]byte)
	*buf = r.appendTo((*buf)[:0], time.Now(), withBody, connection)
	_, err := w.Write(*buf)
	if cap(*buf) <= maxPooledBuffer {
		wireBuffers.Put(buf)
	}
	return err
}

// appendTo appends the response as it goes on the wire (RFC 9112 §4, §6):
//
//	HTTP/1.1 200 OK\r\n                     status line
//	Content-Type: text/plain\r\n            the handler's fields
//	Content-Length: 5\r\n                   the size of the body
//	Date: Wed, 25 Nov 2026 22:00:00 GMT\r\n when it was sent
//	Server: go-raw/1.0\r\n                  who sent it
//	Connection: close\r\n                   the last response on the connection
//	\r\n                                    end of the head
//	hello                                   the body, unless withBody is false
func (r *Response) appendTo(b []byte, now time.Time, withBody bool, connection string) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, ' ')
	b = append(b, statusText[r.Status]...)
	b = append(b, "\r\n"...)
	if contentType := r.ContentType; len(r.Body) > 0 {
		if contentType == "" {
			contentType = "application/octet-stream" // RFC 9110 §8.3
		}
		b = appendField(b, "Content-Type", contentType)
	}
	for _, f := range r.Headers {
		if !writerOwns(f.Name) {
			b = appendField(b, f.Name, f.Value)
		}
	}
	if r.Status != 304 {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(r.Body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "Date: "...)
	b = now.UTC().AppendFormat(b, imfFixdate)
	b = append(b, "\r\nServer: "+serverName+"\r\n"...)
	if connection != "" {
		b = appendField(b, "Connection", connection)
	}
	b = append(b, "\r\n"...)
	if withBody {
		b = append(b, r.Body...)
	}
	return b
}

// writerOwns reports whether the field name is one that appendTo writes
// itself, from what it knows of the response and the connection.
func writerOwns(name string) bool {
	for _, owned := range []string{"Content-Length", "Transfer-Encoding", "Date", "Server", "Connection"} {
		if strings.EqualFold(name, owned) {
			return true
		}
	}
	return false
}

func appendField(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ": "...)
	b = append(b, value...)
	return append(b, "\r\n"...)
}

// writeContinue sends the interim response that tells a client waiting
// with "Expect: 100-continue" to send its body. Being interim, it is a
// status line and an empty line, nothing more (RFC 9110 §15.2).
func writeContinue(w io.Writer) error {
	_, err := io.WriteString(w, "HTTP/1.1 100 Continue\r\n\r\n")
	return err
}
