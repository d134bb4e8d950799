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
	rwc    net.Conn      // the connection itself
	br     *bufio.Reader // reads rwc, in as many reads as it takes
	router *router       // finds the handler for a request
}

// serveHTTP returns a connection handler for serve that answers the
// request on each connection through rt.
func serveHTTP(rt *router) func(net.Conn) {
	return func(rwc net.Conn) {
		c := &conn{rwc: rwc, br: bufio.NewReader(rwc), router: rt}
		c.serve()
	}
}

// serve reads one request, answers it, and ends the connection: one request
// per connection, as every response says with "Connection: close" (RFC 9112
// §9.6).
func (c *conn) serve() {
	defer c.closeWriteAndDrain()
	req, h, err := c.readRequest()
	if err != nil {
		c.refuse(req, err)
		return
	}
	c.answer(req, h)
}

// readRequest reads the next request and finds its handler: the head,
// then the route, then the body. The router needs only the head, so a
// request it refuses (501, 404, 405, or 400 for "*") is refused before its
// body is read, or a 100 Continue invites it. req is nil when the head
// could not be read.
func (c *conn) readRequest() (*Request, Handler, error) {
	req, err := readRequestHead(c.br)
	if err != nil {
		return nil, nil, err
	}
	h, err := c.router.route(req)
	if err != nil {
		return req, nil, err
	}
	if err := c.readBody(req); err != nil {
		return req, nil, err
	}
	return req, h, nil
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

// answer runs h for req and writes the response it makes.
func (c *conn) answer(req *Request, h Handler) {
	c.respond(req, run(h, req))
}

// refuse answers a request that could not be read, or that the router
// refused, with the status its error carries, and the error's fixed text.
// This switch is the one place where an error becomes a status; a handler
// that refuses (a file not found) answers with a status of its own. When
// there is no one to answer, because the client sent nothing or the
// connection broke, it writes nothing. req is nil when the head could not
// be read.
func (c *conn) refuse(req *Request, err error) {
	var se statusError
	switch {
	case errors.Is(err, errNoRequest):
		// The client left before its first byte: nothing to answer.
	case errors.As(err, &se):
		slog.Info("refused", "remote", c.rwc.RemoteAddr(), "err", err)
		c.respond(req, c.refusal(req, se))
	default:
		slog.Info("reading request failed", "remote", c.rwc.RemoteAddr(), "err", err)
	}
}

// refusal is the response that refuses req with se: its status, its text,
// and what that status requires besides.
func (c *conn) refusal(req *Request, se statusError) *Response {
	resp := errorResponse(se.code, se.text)
	if se.code == 405 {
		// A 405 lists the methods the path does have (RFC 9110 §15.5.6).
		resp.Headers = append(resp.Headers, Field{"Allow", c.router.allowed(req.Path)})
	}
	return resp
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
