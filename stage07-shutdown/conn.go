package main

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
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
// waits for the request to begin, reads it, and has a worker answer it;
// serveConn (server.go) then half-closes the connection and drains it, and
// the accept loop closes it.
type conn struct {
	srv      *server
	rwc      net.Conn      // the connection itself
	br       *bufio.Reader // reads rwc, in as many reads as it takes
	deadline time.Time     // when the whole request must have arrived
}

// newConn is the connection rwc, just accepted. Its request must arrive
// within the client timeout from now.
func (s *server) newConn(rwc net.Conn) *conn {
	c := &conn{srv: s, rwc: rwc, br: bufio.NewReader(rwc), deadline: time.Now().Add(s.clientTimeout)}
	rwc.SetReadDeadline(c.deadline)
	return c
}

// serve reads one request and has a worker answer it: one request per
// connection, as every response says with "Connection: close" (RFC 9112
// §9.6). The request is read before a worker is taken, under one deadline
// for all of it, so that a client that is slow to send, or sends nothing,
// holds only this goroutine, never a worker. The server's own paths
// (isInternal) need no worker: they are answered here, at once.
func (c *conn) serve() {
	c.awaitRequest()
	req, h, err := c.readRequest()
	switch {
	case err != nil:
		c.refuse(req, err)
	case c.srv.router.isInternal(req.Path):
		c.answer(req, h) // at once: cheap, and needed most when every worker is busy
	case !c.answerOnWorker(req, h):
		c.refuse(req, errQueueFull)
	}
}

// awaitRequest waits for the first byte of the request. Until it comes, the
// connection is new, and a shutdown may close it after idleGrace; once it
// has come, the client has committed to a request, which is read to its end
// and answered, shutdown or not (shutdown.go).
func (c *conn) awaitRequest() {
	if _, err := c.br.Peek(1); err != nil {
		return // readRequest meets the error again, and answers it
	}
	c.srv.setState(c, stateActive)
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
	h, err := c.srv.router.route(req)
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

// writeContinue sends the interim 100 Continue, within the write timeout.
func (c *conn) writeContinue() error {
	c.rwc.SetWriteDeadline(time.Now().Add(c.srv.writeTimeout))
	return writeContinue(c.rwc)
}

// answerOnWorker has a worker answer req with h, and waits until it has.
// It reports false at once, answering nothing, when the queue is full.
func (c *conn) answerOnWorker(req *Request, h Handler) bool {
	done := make(chan struct{})
	if !c.srv.pool.submit(func() { defer close(done); c.answer(req, h) }) {
		return false
	}
	<-done
	return true
}

// answer runs h for req and writes the response it makes. On a worker, the
// worker writes as well as runs the handler: responses in memory at once
// are then at most one per worker, and a client that reads slowly, or not
// at all, holds one only until the write timeout.
func (c *conn) answer(req *Request, h Handler) {
	c.respond(req, run(h, req))
}

// refuse answers a request that could not be read, that the router
// refused, or that found no room (503), with the status its error carries,
// and the error's fixed text. This switch is the one place where an error
// becomes a status; a handler that refuses (a file not found) answers with
// a status of its own. When there is no one to answer, because the client
// sent nothing or the connection broke, it writes nothing. req is nil when
// the head could not be read.
func (c *conn) refuse(req *Request, err error) {
	var se statusError
	switch {
	case errors.Is(err, errNoRequest):
		// The client left, or stayed silent, before its first byte:
		// nothing to answer.
	case errors.Is(err, os.ErrDeadlineExceeded):
		slog.Info("request timed out", "remote", c.rwc.RemoteAddr(), "err", err)
		c.respond(req, errorResponse(408, "the request took too long to arrive"))
	case errors.As(err, &se):
		if se.code != 503 { // overload is no fault of the client's, and not worth a line each
			slog.Info("refused", "remote", c.rwc.RemoteAddr(), "err", err)
		}
		c.respond(req, c.refusal(req, se))
	default:
		slog.Info("reading request failed", "remote", c.rwc.RemoteAddr(), "err", err)
	}
}

// refusal is the response that refuses req with se: its status, its text,
// and what that status requires besides.
func (c *conn) refusal(req *Request, se statusError) *Response {
	resp := errorResponse(se.code, se.text)
	switch se.code {
	case 405: // lists the methods the path does have (RFC 9110 §15.5.6)
		resp.Headers = append(resp.Headers, Field{"Allow", c.srv.router.allowed(req.Path)})
	case 503: // says when to try again (RFC 9110 §10.2.3, §15.6.4)
		resp.Headers = append(resp.Headers, Field{"Retry-After", "1"})
	}
	return resp
}

// respond counts resp and writes it as the answer to req, without its body
// for HEAD, within the write timeout. req is nil when the request's head
// could not be read. Counting first means that a client that has its
// answer finds it in /metrics.
func (c *conn) respond(req *Request, resp *Response) {
	c.record(req, resp)
	withBody := req == nil || req.Method != "HEAD"
	c.rwc.SetWriteDeadline(time.Now().Add(c.srv.writeTimeout))
	if err := writeResponse(c.rwc, resp, withBody); err != nil {
		slog.Info("writing response failed", "remote", c.rwc.RemoteAddr(), "err", err)
	}
}

// record counts resp in the server's metrics, by path when req's path is
// known, except for the server's own paths (isInternal).
func (c *conn) record(req *Request, resp *Response) {
	path := ""
	if req != nil {
		if c.srv.router.isInternal(req.Path) {
			return
		}
		path = req.Path
	}
	c.srv.metrics.record(path, resp.Status)
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
