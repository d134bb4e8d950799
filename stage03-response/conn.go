package main

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"time"
)

// Closing a socket that still holds unread input makes the kernel send a
// reset (RST), which can destroy the response still on its way to the
// client (RFC 9112 §9.6). So after answering, the server half-closes and
// reads and drops what the client still sends, until the client closes,
// lingerMaxBytes have come, or lingerTimeout has passed. Only then does it
// close. The values are those net/http uses against the same danger: it
// waits 500 ms after CloseWrite (rstAvoidanceDelay), and reads at most
// 256 KiB of a body no handler read (maxPostHandlerReadBytes). A client
// that goes on sending past them can still meet a reset.
const (
	lingerTimeout  = 500 * time.Millisecond
	lingerMaxBytes = 256 << 10
)

// conn is one client connection and what serving it needs. Its methods,
// in the order this file gives them, are a request's way through it: serve
// reads the request, answers it, then half-closes the connection and
// drains it; the accept loop, serve in server.go, closes it.
type conn struct {
	rwc net.Conn                 // the connection itself
	br  *bufio.Reader            // reads rwc, in as many reads as it takes
	app func(*Request) *Response // what answers a request that could be read
}

// serveHTTP returns a connection handler for serve that answers the
// request on each connection with app.
func serveHTTP(app func(*Request) *Response) func(net.Conn) {
	return func(rwc net.Conn) {
		c := &conn{rwc: rwc, br: bufio.NewReader(rwc), app: app}
		c.serve()
	}
}

// serve reads one request, answers it, and ends the connection: one request
// per connection, as every response says with "Connection: close" (RFC 9112
// §9.6).
func (c *conn) serve() {
	defer c.closeWriteAndDrain()
	req, err := c.readRequest()
	if err != nil {
		c.refuse(req, err)
		return
	}
	c.respond(req, c.app(req))
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
// error carries, and the error's fixed text. This switch is the one place
// where an error becomes a status. When there is no one to answer, because
// the client sent nothing or the connection broke, it writes nothing. req
// is nil when the head could not be read.
func (c *conn) refuse(req *Request, err error) {
	var se statusError
	switch {
	case errors.Is(err, errNoRequest):
		// The client left before its first byte: nothing to answer.
	case errors.As(err, &se):
		slog.Info("refused", "remote", c.rwc.RemoteAddr(), "err", err)
		c.respond(req, errorResponse(se.code, se.text))
	default:
		slog.Info("reading request failed", "remote", c.rwc.RemoteAddr(), "err", err)
	}
}

// respond writes resp as the answer to req, without its body for HEAD. req
// is nil when the request's head could not be read.
func (c *conn) respond(req *Request, resp *Response) {
	withBody := req == nil || req.Method != "HEAD"
	if err := writeResponse(c.rwc, resp, withBody); err != nil {
		slog.Info("writing response failed", "remote", c.rwc.RemoteAddr(), "err", err)
	}
}

// closeWriteAndDrain half-closes the connection, so the client sees the
// response end, then reads and drops input as lingerTimeout and
// lingerMaxBytes allow. serve, the accept loop, closes it afterwards.
func (c *conn) closeWriteAndDrain() {
	if cw, ok := c.rwc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	c.rwc.SetReadDeadline(time.Now().Add(lingerTimeout))
	io.Copy(io.Discard, io.LimitReader(c.rwc, lingerMaxBytes))
}
