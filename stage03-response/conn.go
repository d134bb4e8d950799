package main

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"
)

// Closing a socket that still holds unread input makes the kernel send a
// reset (RST), which can destroy the response still on its way to the
// client (RFC 9112 §9.6). So after a connection's last answer, the server
// half-closes and reads and drops what the client still sends, until the
// client closes or lingerTimeout has passed. Only then does it close. It is
// the wait net/http makes against the same danger (rstAvoidanceDelay in
// closeWriteAndWait), and like it, it is bounded by time alone: a cap on
// the bytes read, which a fast client fills in milliseconds, would bring
// the reset back. A client that goes on sending for longer than this can
// still meet a reset; that client was not listening.
const lingerTimeout = 500 * time.Millisecond

// conn is one client connection and what serving it needs. Its methods,
// in the order this file gives them, are a request's way through it: serve
// loops over serveRequest, which reads a request and answers it, until an
// answer is the connection's last; finish then ends the connection, and
// the accept loop, serve in server.go, closes it.
type conn struct {
	rwc net.Conn                 // the connection itself
	br  *bufio.Reader            // reads rwc; it may hold the start of the next request
	app func(*Request) *Response // what answers a request that could be read
}

// exchange is one request on a connection and the answer to it: what was
// read, what is answered, and what the two decide for the connection. It
// is decided once, by persists, before the answer is written, so that the
// answer can say it.
type exchange struct {
	req    *Request  // nil when the head could not be read
	resp   *Response // the answer
	unread bool      // bytes of the request may be left unread: the next byte need not begin a request
	keep   bool      // the connection stays open after the answer
	head   bool      // the request is HEAD, refused or not: its answer has no body (RFC 9110 §9.3.2)
}

// serveHTTP returns a connection handler for serve that answers the
// requests on each connection with app.
func serveHTTP(app func(*Request) *Response) func(net.Conn) {
	return func(rwc net.Conn) {
		c := &conn{rwc: rwc, br: bufio.NewReader(rwc), app: app}
		c.serve()
	}
}

// serve answers the requests on the connection, one at a time and in the
// order they came, until an answer is the connection's last or no request
// comes, then ends the connection. A client may send its next request
// before it has the answer to the last (pipelining, RFC 9112 §9.3.2): it
// waits in br, and is read when its turn comes.
func (c *conn) serve() {
	for {
		ex := &exchange{}
		if !c.serveRequest(ex) || !ex.keep {
			c.finish(ex)
			return
		}
	}
}

// serveRequest reads the next request into ex and answers it, and reports
// whether the answer was written.
func (c *conn) serveRequest(ex *exchange) bool {
	req, err := c.readRequest()
	ex.req = req
	ex.head = req != nil && req.Method == "HEAD"
	if err != nil && !ex.head { // a HEAD request whose head could not be read says so in its error
		var refusedHEAD headRequestError
		ex.head = errors.As(err, &refusedHEAD)
	}
	if err != nil {
		return c.refuse(ex, err)
	}
	ex.resp = c.app(req)
	return c.respond(ex)
}

// readRequest reads the next request: its head, then its body. req is nil
// when the head could not be read.
func (c *conn) readRequest() (*Request, error) {
	req, err := readRequestHead(c.br)
	if err != nil {
		return nil, err
	}
	return req, c.readBody(req)
}

// readBody reads req's body. A client that waits for "100 Continue" before
// it sends the body gets one once the head has shown that the body may
// come (RFC 9110 §10.1.1); a body refused by its declared size is refused
// at once instead, and the client need never send it.
func (c *conn) readBody(req *Request) error {
	wait, err := req.expectsContinue()
	if err != nil {
		return err
	}
	var invite func() error
	if wait {
		invite = c.writeContinue
	}
	return req.readBody(c.br, invite)
}

// writeContinue sends the interim 100 Continue.
func (c *conn) writeContinue() error {
	return writeContinue(c.rwc)
}

// refuse answers a request that could not be read with the status its
// error carries, and the error's fixed text, and reports whether it did.
// This switch is the one place where an error becomes a status. When there
// is no one to answer, because the client sent nothing or the connection
// broke, it writes nothing. Bytes of a refused request are left unread
// unless it has no body to leave; ex.req is nil when the head could not be
// read.
func (c *conn) refuse(ex *exchange, err error) bool {
	var se statusError
	switch {
	case errors.Is(err, errNoRequest):
		return false // the client left before its first byte: nothing to answer
	case errors.As(err, &se):
		slog.Info("refused", "remote", c.rwc.RemoteAddr(), "err", err)
		ex.resp = errorResponse(se.code, se.text)
		ex.unread = ex.req == nil || ex.req.hasBody()
		return c.respond(ex)
	default:
		slog.Info("reading request failed", "remote", c.rwc.RemoteAddr(), "err", err)
		return false
	}
}

// respond decides whether the connection stays open after ex, and writes
// ex's answer, without its body for HEAD, saying so; it reports whether the
// answer was written.
func (c *conn) respond(ex *exchange) bool {
	ex.keep = c.persists(ex)
	withBody := !ex.head
	err := writeResponse(c.rwc, ex.resp, withBody, connectionField(ex.req, ex.keep))
	if err != nil {
		slog.Info("writing response failed", "remote", c.rwc.RemoteAddr(), "err", err)
		return false
	}
	return true
}

// persists decides whether the connection stays open after ex's answer
// (RFC 9112 §9.3). HTTP/1.1 keeps a connection for the next request unless
// either side says "Connection: close": a new TCP connection costs a
// handshake and a teardown, where a kept one costs the server a waiting
// goroutine. It does not stay when:
//   - bytes of the request may be left unread (it could not be framed, or
//     was refused before its body was read): where the next request would
//     begin is unknown, and reading on would let the bytes of a body pass
//     for a request, which is how requests are smuggled (RFC 9112 §11.2);
//   - the client asked to close, or is HTTP/1.0 and did not ask to keep it.
func (c *conn) persists(ex *exchange) bool {
	return !ex.unread && ex.req.keepAlive()
}

// keepAlive reports whether the client asks that the connection stay open
// after this request: an HTTP/1.1 request does unless it says
// "Connection: close"; an HTTP/1.0 request does only if it says
// "Connection: keep-alive" (RFC 9112 §9.3).
func (r *Request) keepAlive() bool {
	options, _ := r.Header("connection")
	if hasToken(options, "close") {
		return false
	}
	return r.Version == "HTTP/1.1" || hasToken(options, "keep-alive")
}

// hasToken reports whether the comma-separated list of tokens v holds
// token, in any case: "Keep-Alive, Upgrade" holds "keep-alive" (RFC 9110
// §5.6.1, §7.6.1).
func hasToken(v, token string) bool {
	for t := range strings.SplitSeq(v, ",") {
		if strings.EqualFold(strings.Trim(t, " \t"), token) {
			return true
		}
	}
	return false
}

// connectionField is the Connection field a response carries: "close" on
// the connection's last, "keep-alive" to an HTTP/1.0 client whose
// connection stays, and none on an HTTP/1.1 one, which stays by default.
func connectionField(req *Request, keep bool) string {
	switch {
	case !keep:
		return "close"
	case req.Version == "HTTP/1.0":
		return "keep-alive"
	}
	return ""
}

// finish ends the connection after ex, its last exchange. A client that
// has said it will send nothing more, with "Connection: close" (RFC 9112
// §9.6: it MUST NOT send another request) or as HTTP/1.0 without
// keep-alive, and whose request was read to its end with nothing after it,
// has left no input to meet a reset: the connection closes at once. Any
// other may still be sending, and gets closeWriteAndDrain.
func (c *conn) finish(ex *exchange) {
	lastWord := ex.req != nil && !ex.unread && !ex.req.keepAlive()
	if lastWord && c.br.Buffered() == 0 {
		return
	}
	c.closeWriteAndDrain()
}

// closeWriteAndDrain half-closes the connection, so the client sees the
// response end, then reads and drops input until the client closes or
// lingerTimeout has passed. serve, the accept loop, closes it afterwards.
func (c *conn) closeWriteAndDrain() {
	if cw, ok := c.rwc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	c.rwc.SetReadDeadline(time.Now().Add(lingerTimeout))
	io.Copy(io.Discard, c.rwc)
}
