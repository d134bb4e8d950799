package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
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
// loops over serveRequest, which waits for a request to begin, reads it,
// and has a worker answer it, until the connection's last answer, or until
// no request comes; serveConn (server.go) then finishes the connection,
// and the accept loop closes it.
type conn struct {
	srv       *server
	rwc       net.Conn      // the connection itself
	br        *bufio.Reader // reads rwc; it may hold the start of the next request
	started   time.Time     // when the request being served began
	deadline  time.Time     // when the whole request being served must have arrived
	served    int           // responses written on the connection
	lastWord  bool          // the client will send nothing after its last request
	idleSince time.Time     // when it last went idle; guarded by srv.mu
}

// readers recycles the 4 KiB read buffers of connections that are done
// with them, so that a busy server does not allocate and clear one per
// connection.
var readers = sync.Pool{New: func() any { return bufio.NewReader(nil) }}

// newConn is the connection rwc, just accepted. Its first request must
// arrive within the client timeout from now.
func (s *server) newConn(rwc net.Conn) *conn {
	now := time.Now()
	br := readers.Get().(*bufio.Reader)
	br.Reset(rwc)
	c := &conn{srv: s, rwc: rwc, br: br, started: now, deadline: now.Add(s.clientTimeout)}
	rwc.SetReadDeadline(c.deadline)
	return c
}

// serve answers requests on the connection, one at a time and in order,
// until an answer ends it (persists, in keepalive.go, says which do), or
// no request comes.
func (c *conn) serve() {
	for c.serveRequest() {
	}
}

// serveRequest waits for a request to begin, reads it, and has a worker
// answer it; it reports whether the connection stays open for another. The
// request is read before a worker is taken, under one deadline for all of
// it, so that a client that is slow to send, or sends nothing, holds only
// this goroutine, never a worker. The server's own paths (isInternal) need
// no worker: they are answered here, at once.
func (c *conn) serveRequest() bool {
	if !c.awaitRequest() {
		return false // no request came: nothing to answer
	}
	req, h, err := c.readRequest()
	switch {
	case err != nil:
		return c.refuse(req, err)
	case c.srv.router.isInternal(req.Path):
		return c.answer(req, h) // at once: cheap, and needed most when every worker is busy
	}
	keep, taken := c.answerOnWorker(req, h)
	if !taken {
		return c.refuse(req, errQueueFull)
	}
	return keep
}

// awaitRequest waits for the first byte of the next request, and reports
// whether it came. Until it comes, the connection is new, before its first
// request, or idle, after an answer: a shutdown may close it after
// idleGrace (shutdown.go), and an idle one is closed after the idle
// timeout, or to make room under the cap (admit). Once it has come, the
// client has committed to a request, which is read to its end, within the
// client timeout, and answered, shutdown or not. For a connection's first
// request the timeout runs from the accept (newConn), for a later one
// from its first byte: the wait before it is the idle timeout's.
func (c *conn) awaitRequest() bool {
	next := c.served > 0
	if next && c.br.Buffered() == 0 { // else a pipelined request is here already
		c.rwc.SetReadDeadline(time.Now().Add(c.srv.idleTimeout))
		c.srv.setState(c, stateIdle) // after the deadline: a shutdown's grace wins
	}
	if _, err := c.br.Peek(1); err != nil {
		return false
	}
	if next {
		c.started = time.Now()
		c.deadline = c.started.Add(c.srv.clientTimeout)
		c.rwc.SetReadDeadline(c.deadline)
		c.srv.metrics.conns.reused.Add(1)
	}
	return c.srv.setState(c, stateActive)
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

// answerOnWorker has a worker answer req with h, and waits until it has;
// keep is what the answer decided for the connection. It reports taken
// false at once, answering nothing, when the queue is full.
func (c *conn) answerOnWorker(req *Request, h Handler) (keep, taken bool) {
	done := make(chan struct{})
	if !c.srv.pool.submit(func() { defer close(done); keep = c.answer(req, h) }) {
		return false, false
	}
	<-done
	return keep, true
}

// answer runs h for req and writes the response it makes, and reports
// whether the connection stays open. On a worker, the worker writes as
// well as runs the handler: responses in memory at once are then at most
// one per worker, and a client that reads slowly, or not at all, holds one
// only until the write timeout.
func (c *conn) answer(req *Request, h Handler) bool {
	return c.respond(req, run(h, req), true)
}

// refuse answers a request that could not be read, that the router
// refused, or that found no room (503), with the status its error carries,
// and the error's fixed text, and reports whether the connection stays
// open. This switch is the one place where an error becomes a status; a
// handler that refuses (a file not found) answers with a status of its
// own. When there is no one to answer, because the client sent nothing or
// the connection broke, it writes nothing. req is nil when the head could
// not be read.
func (c *conn) refuse(req *Request, err error) bool {
	var se statusError
	switch {
	case errors.Is(err, errNoRequest):
		return false // the client left, or stayed silent, before its first byte
	case errors.Is(err, os.ErrDeadlineExceeded):
		slog.Info("request timed out", "remote", c.rwc.RemoteAddr(), "err", err)
		return c.respond(req, errorResponse(408, "the request took too long to arrive"), false)
	case errors.As(err, &se):
		if se.code != 503 { // overload is no fault of the client's, and not worth a line each
			slog.Info("refused", "remote", c.rwc.RemoteAddr(), "err", err)
		}
		// Refused before its body was read, a request with a body leaves
		// it where the next request would be read: it ends the connection.
		return c.respond(req, c.refusal(req, se), req != nil && !req.hasBody())
	default:
		slog.Info("reading request failed", "remote", c.rwc.RemoteAddr(), "err", err)
		return false
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
// for HEAD, within the write timeout, then logs it; it reports whether the
// connection stays open. intact says whether the request was read to its
// end, so that the next byte begins the next request. req is nil when the
// request's head could not be read. Counting first means that a client
// that has its answer finds it in /metrics.
func (c *conn) respond(req *Request, resp *Response, intact bool) bool {
	keep := c.persists(req, resp, intact)
	c.lastWord = !keep && intact && req != nil && !req.keepAlive()
	c.record(req, resp)
	withBody := req == nil || req.Method != "HEAD"
	c.rwc.SetWriteDeadline(time.Now().Add(c.srv.writeTimeout))
	if !keep {
		c.cork() // the last response and the FIN after it leave as one segment
	}
	err := writeResponse(c.rwc, resp, withBody, connectionField(req, keep))
	c.served++
	c.logAnswer(req, resp, withBody)
	if err != nil {
		slog.Info("writing response failed", "remote", c.rwc.RemoteAddr(), "err", err)
		return false
	}
	c.srv.answered.Add(1)
	return keep
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

// logAnswer logs one INFO line for each answer, except a 503. Under
// overload those are counted instead, and reportRejections reports the
// count once a second, so that a flood of clients cannot flood the log.
func (c *conn) logAnswer(req *Request, resp *Response, withBody bool) {
	if resp.Status == 503 {
		c.srv.rejected.Add(1)
		return
	}
	ctx := context.Background()
	if !slog.Default().Enabled(ctx, slog.LevelInfo) {
		return // spare the work below when nobody reads it
	}
	method, path, bytes := "", "", 0
	if req != nil {
		method, path = clip(req.Method), clip(req.Path)
	}
	if withBody {
		bytes = len(resp.Body)
	}
	slog.LogAttrs(ctx, slog.LevelInfo, "request",
		slog.String("method", method), slog.String("path", path), slog.Int("status", resp.Status),
		slog.Int("bytes", bytes), slog.Duration("duration", time.Since(c.started)),
		slog.String("remote", c.rwc.RemoteAddr().String()))
}

// finish ends the connection after its last answer; the accept loop,
// serve in server.go, then closes it. A client that has said it will send
// nothing more, with "Connection: close" (RFC 9112 §9.6: it MUST NOT send
// another request), or as HTTP/1.0 without keep-alive (§9.3), and whose
// request was read to its end with nothing after it, has left no input to
// meet a reset: the connection closes at once. Any other may still be
// sending, and gets closeWriteAndDrain.
func (c *conn) finish() {
	if c.lastWord && c.br.Buffered() == 0 {
		return
	}
	c.closeWriteAndDrain()
}

// closeWriteAndDrain half-closes the connection, so the client sees the
// response end, then reads and drops input as lingerTimeout and
// lingerMaxBytes allow.
func (c *conn) closeWriteAndDrain() {
	if cw, ok := c.rwc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	c.rwc.SetReadDeadline(time.Now().Add(lingerTimeout))
	io.Copy(io.Discard, io.LimitReader(c.rwc, lingerMaxBytes))
}

// free gives the connection's read buffer back for another, once nothing
// will read it, and drops the buffer's hold on the connection, which the
// accept loop closes next.
func (c *conn) free() {
	c.br.Reset(nil)
	readers.Put(c.br)
}
