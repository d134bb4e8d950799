package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
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

// maxRequestsPerConn bounds the requests one connection may carry; the
// last of them says "Connection: close". A client then opens a new
// connection, which a load balancer may send to another server, and no
// connection keeps its state forever. It is nginx's keepalive_requests.
const maxRequestsPerConn = 1000

// readers recycles the 4 KiB read buffers of connections that are done
// with them, so that a busy server does not allocate and clear one per
// connection.
var readers = sync.Pool{New: func() any { return bufio.NewReader(nil) }}

// conn is one client connection and what serving it needs. Its methods,
// in the order this file gives them, are a request's way through it: serve
// loops over serveRequest, which waits for a request to begin, reads it,
// and has a worker answer it, until an answer is the connection's last or
// no request comes; finish then ends the connection, serveConn (server.go)
// releases its place, and the accept loop closes it.
type conn struct {
	srv    *server
	rwc    net.Conn      // the connection itself
	br     *bufio.Reader // reads rwc; it may hold the start of the next request
	served int           // answers written on the connection
	held   int64         // bytes of the body being read or answered, drawn from the server's budget

	ex      exchange  // the request being served, and its answer
	req     Request   // ex.req, read anew for each request: no handler keeps it once it has answered
	handler Handler   // what answers ex, on a worker
	job     func()    // c.answerHandedOver, made once, so that a hand-off allocates nothing
	done    chan bool // the worker's word that it has answered, and whether the answer was written

	// The connection's own goroutine moves it from state to state; the cap
	// (server.go) reads the state from another, and may evict an idle
	// connection. mu guards what they share.
	mu        sync.Mutex
	state     connState
	deadline  time.Time // when the request being read must have arrived whole; closing, when the linger ends
	idleSince time.Time // when it last went idle
	readBy    time.Time // the read deadline set on rwc now (setReadDeadline); zero for none
	writeBy   time.Time // the write deadline set on rwc now (setWriteDeadline)
}

// connState is where a connection is in its life, and says how long its
// next read may wait.
type connState int

const (
	// stateNew: accepted, and no byte of a request has come yet. Its first
	// request must arrive whole within the client timeout of the accept.
	// The client has committed to nothing, so a shutdown closes the
	// connection once idleGrace has passed (shutdown.go).
	stateNew connState = iota

	// stateActive: a request has begun. It must arrive whole within the
	// client timeout of its first byte, and is answered, shutdown or not.
	stateActive

	// stateIdle: kept open after an answer, waiting for the next request,
	// for the idle timeout at most. The cap may evict it. The client has
	// committed to nothing more, so a shutdown treats it as new.
	stateIdle

	// stateEvicted: an idle connection closed to make room under the cap.
	// Its wait ends at once, and it ends without reading another request.
	stateEvicted

	// stateClosing: past its last answer, it reads and drops what the
	// client still sends, until lingerTimeout (closeWriteAndDrain). Neither
	// the cap nor a shutdown changes that wait: a shutdown that stretched
	// it to the client timeout would hold up the exit.
	stateClosing
)

// exchange is one request on a connection and the answer to it: what was
// read, what is answered, and what the two decide for the connection. It
// is decided once, by persists, before the answer is written, so that the
// answer can say it.
type exchange struct {
	req      *Request  // nil when the head could not be read
	resp     *Response // the answer
	unread   bool      // bytes of the request may be left unread: the next byte need not begin a request
	keep     bool      // the connection stays open after the answer
	head     bool      // the request is HEAD, refused or not: its answer has no body (RFC 9110 §9.3.2)
	internal bool      // the request is for one of the server's own paths (isInternal)
	started  time.Time // when the request's first byte came, for the log
}

// newConn is the connection rwc, just accepted. Its first request must
// arrive within the client timeout from now.
func (s *server) newConn(rwc net.Conn) *conn {
	br := readers.Get().(*bufio.Reader)
	c := &conn{srv: s, rwc: rwc, br: br, deadline: time.Now().Add(s.clientTimeout), done: make(chan bool, 1)}
	br.Reset(c) // its reads come through c.Read, which sets their deadline
	c.job = c.answerHandedOver
	c.setState(stateNew)
	return c
}

// serve answers the requests on the connection, one at a time and in the
// order they came, until an answer is the connection's last or no request
// comes, then ends the connection. A client may send its next request
// before it has the answer to the last (pipelining, RFC 9112 §9.3.2): it
// waits in br, and is read when its turn comes.
func (c *conn) serve() {
	for {
		c.ex = exchange{}
		if !c.serveRequest(&c.ex) || !c.ex.keep {
			c.finish(&c.ex)
			return
		}
	}
}

// serveRequest waits for a request to begin, reads it into ex, and has a
// worker answer it; it reports whether an answer was written. The request
// is read before a worker is taken, under one deadline for all of it, so
// that a client that is slow to send, or sends nothing, holds only this
// goroutine, never a worker. The server's own paths (isInternal) need no
// worker: they are answered here, at once.
func (c *conn) serveRequest(ex *exchange) bool {
	if !c.awaitRequest() {
		return false // no request came: nothing to answer
	}
	ex.started = time.Now()
	req, h, err := c.readRequest()
	ex.req = req
	ex.head = req != nil && req.Method == "HEAD"
	if err != nil && !ex.head { // a HEAD request whose head could not be read says so in its error
		var refusedHEAD headRequestError
		ex.head = errors.As(err, &refusedHEAD)
	}
	ex.internal = req != nil && c.srv.router.isInternal(req.Path)
	switch {
	case err != nil:
		return c.refuse(ex, err)
	case ex.internal:
		return c.answer(ex, h) // at once: cheap, and needed most when every worker is busy
	}
	written, taken := c.answerOnWorker(ex, h)
	if !taken {
		return c.refuse(ex, errQueueFull)
	}
	return written
}

// awaitRequest waits for the first byte of the next request, and reports
// whether it came. A connection's first request is waited for within the
// client timeout of the accept; a later one within the idle timeout, and
// the client timeout for the whole request runs from its first byte. Empty
// lines before a request start none (RFC 9112 §2.2): they are dropped
// while the connection is idle, so that a stray CRLF after a body does not
// start the clock of a request that never comes. A CR without its LF ends
// no line (§2.2): it starts a request, which the parser refuses, as it
// would on a new connection.
func (c *conn) awaitRequest() bool {
	if c.served == 0 {
		_, err := c.br.Peek(1)
		return err == nil && c.setState(stateActive)
	}
	idle := false
	for {
		if !idle && c.br.Buffered() == 0 { // else a pipelined request, or empty lines, are here already
			c.setState(stateIdle)
			idle = true
		}
		b, err := c.br.Peek(1)
		if err == nil && b[0] == '\r' {
			b, err = c.br.Peek(2)
		}
		if err != nil {
			return false
		}
		if string(b) != "\n" && string(b) != "\r\n" {
			break
		}
		c.br.Discard(len(b))
	}
	return c.setState(stateActive)
}

// setState moves the connection to st, and sets the deadline of its next
// read from st; it reports false, moving nothing, if the cap has evicted
// the connection meanwhile. A request after the first must arrive whole
// within the client timeout of its first byte, which has just come.
func (c *conn) setState(st connState) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == stateEvicted {
		return false
	}
	c.state = st
	switch {
	case st == stateIdle:
		c.idleSince = time.Now()
	case st == stateActive && c.served > 0:
		c.deadline = time.Now().Add(c.srv.clientTimeout)
	}
	return true
}

// Read is br's read from rwc, under the deadline the state gives. Most
// requests arrive whole with their first byte, read while idle: the
// client timeout reaches the socket only for one that needs a second read.
func (c *conn) Read(p []byte) (int, error) {
	c.mu.Lock()
	c.setReadDeadline()
	c.mu.Unlock()
	return c.rwc.Read(p)
}

// setLazily keeps the deadline set on the socket while the one wanted is
// later by less than 1% of its timeout: each setting is a timer update in
// the runtime. nginx keeps its timers alike, within 300 ms either way
// (NGX_TIMER_LAZY_DELAY); here a timeout may end 1% sooner, never later.
func setLazily(set *time.Time, want time.Time, timeout time.Duration, apply func(time.Time) error) {
	if !set.IsZero() && !set.After(want) && want.Sub(*set) < timeout/100 {
		return
	}
	apply(want)
	*set = want
}

// setReadDeadline sets when the connection's next read must end, as its
// state says; c.mu is held. Every read deadline, the linger's included,
// is set here. Once a shutdown has begun, a connection that waits for a
// request to begin, new or idle, waits idleGrace at most (shutdown.go).
func (c *conn) setReadDeadline() {
	var end time.Time
	timeout := c.srv.clientTimeout
	switch c.state {
	case stateNew, stateActive, stateClosing:
		end = c.deadline
	case stateIdle:
		end, timeout = c.idleSince.Add(c.srv.idleTimeout), c.srv.idleTimeout
	case stateEvicted:
		end = time.Unix(1, 0) // long past: the read ends at once
	}
	if began := c.srv.drainBegan.Load(); began != nil && (c.state == stateNew || c.state == stateIdle) {
		from := *began
		if c.idleSince.After(from) { // it went idle after the shutdown began
			from = c.idleSince
		}
		if grace := from.Add(idleGrace); grace.Before(end) {
			end = grace
		}
	}
	setLazily(&c.readBy, end, timeout, c.rwc.SetReadDeadline)
}

// setWriteDeadline gives the next write the write timeout from now.
func (c *conn) setWriteDeadline() {
	setLazily(&c.writeBy, time.Now().Add(c.srv.writeTimeout), c.srv.writeTimeout, c.rwc.SetWriteDeadline)
}

// drain applies a shutdown that has just begun to the connection: if it
// waits for a request to begin, new or idle, its wait is cut to idleGrace.
func (c *conn) drain() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setReadDeadline()
}

// cut closes the connection at once, whatever it is doing: for a shutdown
// that cannot wait any longer.
func (c *conn) cut() {
	c.rwc.Close()
}

// idle reports whether the connection waits idle for a next request, and
// since when.
func (c *conn) idle() (since time.Time, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.idleSince, c.state == stateIdle
}

// evict ends the connection's wait for a next request, to make room under
// the cap, and reports whether it did: only an idle connection is evicted.
func (c *conn) evict() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateIdle {
		return false
	}
	c.state = stateEvicted
	c.setReadDeadline()
	return true
}

// readRequest reads the next request and finds its handler: the head,
// then the route, then the body. The router needs only the head, so a
// request it refuses (501, 404, 405, or 400 for "*") is refused before its
// body is read, or a 100 Continue invites it. req is nil when the head
// could not be read.
func (c *conn) readRequest() (*Request, Handler, error) {
	req, err := readRequestHead(c.br, &c.req)
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

// readBody reads req's body, its bytes drawn from the server's budget for
// bodies in memory (reserve). A client that waits for "100 Continue" before
// it sends the body gets one once the head has shown that the body may
// come (RFC 9110 §10.1.1); a body refused by its declared size, or for
// want of room in the budget, is refused at once instead, and the client
// need never send it.
func (c *conn) readBody(req *Request) error {
	wait, err := req.expectsContinue()
	if err != nil {
		return err
	}
	var invite func() error
	if wait {
		invite = c.writeContinue
	}
	return req.readBody(c.br, invite, c.reserve)
}

// reserve draws n bytes for the body being read from the server's budget,
// or refuses with errBodyBudget when they do not fit. They go back once
// the answer is written (releaseBody).
func (c *conn) reserve(n int64) error {
	if !c.srv.bodies.take(n) {
		return errBodyBudget
	}
	c.held += n
	return nil
}

// releaseBody gives the bytes the connection has drawn back to the budget.
func (c *conn) releaseBody() {
	c.srv.bodies.give(c.held)
	c.held, c.req.Body = 0, nil // and the body: c.req lives on while the connection is idle
}

// writeContinue sends the interim 100 Continue, within the write timeout.
func (c *conn) writeContinue() error {
	c.setWriteDeadline()
	return writeContinue(c.rwc)
}

// answerOnWorker has a worker answer ex with h, and waits until it has;
// written says whether the answer was written. It reports taken false at
// once, answering nothing, when the queue is full. ex is c.ex, where the
// worker's job finds it, so that the hand-off allocates nothing.
func (c *conn) answerOnWorker(ex *exchange, h Handler) (written, taken bool) {
	c.handler = h
	if !c.srv.pool.submit(c.job) {
		return false, false
	}
	return <-c.done, true
}

// answerHandedOver is the job a worker runs: the answer to c.ex.
func (c *conn) answerHandedOver() {
	c.done <- c.answer(&c.ex, c.handler)
}

// answer runs h for ex's request and writes the response it makes, and
// reports whether it was written. On a worker, the worker writes as well
// as runs the handler: responses in memory at once are then at most one
// per worker, and a client that reads slowly, or not at all, holds one
// only until the write timeout.
func (c *conn) answer(ex *exchange, h Handler) bool {
	ex.resp = run(h, ex.req)
	return c.respond(ex)
}

// refuse answers a request that could not be read, that the router
// refused, or that found no room (503), with the status its error carries,
// and the error's fixed text, and reports whether it did. This switch is the one place where an error
// becomes a status; a handler that refuses (a file not found) answers with
// a status of its own. When there
// is no one to answer, because the client sent nothing or the connection
// broke, it writes nothing. Bytes of a refused request are left unread
// unless it has no body to leave; ex.req is nil when the head could not be
// read.
func (c *conn) refuse(ex *exchange, err error) bool {
	var se statusError
	switch {
	case errors.Is(err, errNoRequest):
		return false // the client left before its first byte: nothing to answer
	case errors.Is(err, os.ErrDeadlineExceeded):
		slog.Info("request timed out", "remote", c.rwc.RemoteAddr(), "err", err)
		ex.resp = errorResponse(408, "the request took too long to arrive")
		ex.unread = true
		return c.respond(ex)
	case errors.As(err, &se):
		if se.code != 503 { // overload is no fault of the client's, and not worth a line each
			slog.Info("refused", "remote", c.rwc.RemoteAddr(), "err", err)
		}
		ex.resp = c.refusal(ex.req, se)
		ex.unread = ex.req == nil || ex.req.hasBody()
		return c.respond(ex)
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

// respond decides whether the connection stays open after ex, counts ex's
// answer, and writes it, without its body for HEAD, saying so, within the
// write timeout, then logs it; it reports whether the answer was written.
// Counting first means that a client that has its answer finds it in
// /metrics.
func (c *conn) respond(ex *exchange) bool {
	ex.keep = c.persists(ex)
	c.record(ex)
	withBody := !ex.head
	c.setWriteDeadline()
	if !ex.keep {
		c.cork() // the last response and the FIN after it leave as one segment
	}
	err := writeResponse(c.rwc, ex.resp, withBody, connectionField(ex.req, ex.keep))
	c.served++
	c.releaseBody()
	c.logAnswer(ex, withBody)
	if err != nil {
		slog.Info("writing response failed", "remote", c.rwc.RemoteAddr(), "err", err)
		return false
	}
	c.srv.answered.Add(1)
	return true
}

// record counts ex's answer in the server's metrics, by path when the
// request's path is known, except for the server's own paths.
func (c *conn) record(ex *exchange) {
	if ex.internal {
		return
	}
	path := ""
	if ex.req != nil {
		path = ex.req.Path
	}
	c.srv.metrics.record(path, ex.resp.Status, c.served > 0)
}

// logAnswer logs one INFO line for each answer, except a 503. Under
// overload those are counted instead, and reportRejections (server.go)
// reports the count once a second, so that a flood of clients cannot flood
// the log.
func (c *conn) logAnswer(ex *exchange, withBody bool) {
	if ex.resp.Status == 503 {
		c.srv.rejected.Add(1)
		return
	}
	ctx := context.Background()
	if !slog.Default().Enabled(ctx, slog.LevelInfo) {
		return // spare the work below when nobody reads it
	}
	method, path, bytes := "", "", 0
	if ex.req != nil {
		method, path = clip(ex.req.Method), clip(ex.req.Path)
	}
	if withBody {
		bytes = len(ex.resp.Body)
	}
	slog.LogAttrs(ctx, slog.LevelInfo, "request",
		slog.String("method", method), slog.String("path", path), slog.Int("status", ex.resp.Status),
		slog.Int("bytes", bytes), slog.Duration("duration", time.Since(ex.started)),
		slog.String("remote", c.rwc.RemoteAddr().String()))
}

// persists decides whether the connection stays open after ex's answer
// (RFC 9112 §9.3). HTTP/1.1 keeps a connection for the next request unless
// either side says "Connection: close": a new TCP connection costs a
// handshake and a teardown, where a kept one costs the server a waiting
// goroutine. It does not stay when the server answers one request per
// connection (-keepalive=false), or when:
//   - bytes of the request may be left unread (it could not be framed, or
//     was refused before its body was read): where the next request would
//     begin is unknown, and reading on would let the bytes of a body pass
//     for a request, which is how requests are smuggled (RFC 9112 §11.2);
//   - the client asked to close, or is HTTP/1.0 and did not ask to keep it;
//   - the server is overloaded (503), and sheds the connection too;
//   - the connection has carried maxRequestsPerConn requests;
//   - the server is shutting down.
func (c *conn) persists(ex *exchange) bool {
	return c.srv.keepAlive && !ex.unread && ex.req.keepAlive() && ex.resp.Status != 503 && c.served+1 < maxRequestsPerConn &&
		c.srv.drainBegan.Load() == nil
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
// It is the connection's last read, and its deadline replaces any other;
// the connection is closing before the client can see the end.
func (c *conn) closeWriteAndDrain() {
	c.mu.Lock()
	c.state, c.deadline = stateClosing, time.Now().Add(lingerTimeout)
	c.setReadDeadline()
	c.mu.Unlock()
	if cw, ok := c.rwc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	io.Copy(io.Discard, c.rwc)
}

// free gives the connection's read buffer back for another, once nothing
// will read it, and drops the buffer's hold on the connection, which the
// accept loop closes next.
func (c *conn) free() {
	c.br.Reset(nil)
	readers.Put(c.br)
}
