package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Accept can fail for reasons that pass by themselves: the process has run
// out of file descriptors (EMFILE) until some connections close, or a client
// gave up during the handshake. The accept loop then waits and tries again,
// doubling the wait from acceptRetryMin up to acceptRetryMax, as net/http's
// Server.Serve does. The values are net/http's.
const (
	acceptRetryMin = 5 * time.Millisecond
	acceptRetryMax = 1 * time.Second
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

// serve accepts connections from ln and serves each one in its own goroutine,
// calling handle and then closing the connection. Closing ln stops it: serve
// then returns nil, once every connection it accepted has been served. A
// caller can stop what the handlers use after that, knowing no handler is
// left running. An accept error that is not temporary ends it too.
func serve(ln net.Listener, handle func(net.Conn)) error {
	var conns sync.WaitGroup
	defer conns.Wait()
	var wait time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				// A shutdown has taken what the backlog held: close,
				// so that new connections are refused from now on.
				ln.Close()
				return nil
			}
			if !isTemporary(err) {
				return fmt.Errorf("accept: %w", err)
			}
			wait = min(max(2*wait, acceptRetryMin), acceptRetryMax)
			slog.Warn("accept failed, retrying", "err", err, "wait", wait)
			time.Sleep(wait)
			continue
		}
		wait = 0
		conns.Go(func() {
			defer conn.Close()
			handle(conn)
		})
	}
}

// isTemporary reports whether an accept error may pass if the loop waits.
// net.Error's Temporary method is deprecated because "temporary" means little
// for errors in general; for Accept it marks exactly the errors worth
// retrying (EMFILE, ENFILE, ECONNABORTED), which is why net/http still asks.
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// Limits on connections. Reading a request happens on the connection's own
// goroutine, which costs a few kilobytes while it waits; only a complete
// request takes a worker. These bound what waiting can cost.
const (
	// defaultClientTimeout is how long a whole request may take to arrive,
	// from the moment the connection is accepted: one deadline for the
	// whole request, not one per read, so that a client trickling a byte at
	// a time is cut off too. Past it: 408, or a quiet close if the client
	// sent nothing (RFC 9110 §15.5.9). The seed's CLIENT_TIMEOUT.
	defaultClientTimeout = 5 * time.Second

	// defaultWriteTimeout is how long a response may take to be written, so
	// that a client that never reads cannot hold a worker. Most responses
	// here fit in the socket's buffer at once; the largest is a static file
	// of maxStaticFileBytes, which a client must take at about 1 MB/s.
	defaultWriteTimeout = 5 * time.Second

	// defaultMaxConns bounds the connections being served at once, their
	// closing drain included. Past it, a new connection gets 503 without
	// being read; that refusal still holds its socket and a goroutine while
	// the 503 is delivered, up to lingerTimeout. Each connection costs a
	// goroutine and a 4 KiB read buffer, about 10 KiB in all: 1000 is
	// about 10 MiB, well inside a small container. Arbitrary.
	defaultMaxConns = 1000
)

// readers recycles the 4 KiB read buffers of connections that are done
// with them, so that a busy server does not allocate and clear one per
// connection.
var readers = sync.Pool{New: func() any { return bufio.NewReader(nil) }}

// server answers HTTP requests: it reads each one on its connection's own
// goroutine, hands the work of answering it to a pool of workers, and
// counts every answer in its metrics.
type server struct {
	router        *router
	pool          *pool
	metrics       *metrics
	clientTimeout time.Duration
	writeTimeout  time.Duration
	maxConns      int64
	open          atomic.Int64 // connections being served now
	rejected      atomic.Int64 // 503s since reportRejections last reported
	accepted      atomic.Int64 // connections taken, for the account at exit
	answered      atomic.Int64 // responses written, for the same

	mu       sync.Mutex        // guards what a shutdown needs:
	draining bool              // whether shutdown has begun
	conns    map[net.Conn]bool // connections being served: has the request begun?
}

// newServer returns a server for rt whose work runs on p and is counted in
// m, with the default limits.
func newServer(rt *router, p *pool, m *metrics) *server {
	return &server{
		router:        rt,
		pool:          p,
		metrics:       m,
		clientTimeout: defaultClientTimeout,
		writeTimeout:  defaultWriteTimeout,
		maxConns:      defaultMaxConns,
		conns:         make(map[net.Conn]bool),
	}
}

// serveConn serves one connection: one request, one response, then the
// end of the connection, as every response says with "Connection: close"
// (RFC 9112 §9.6).
func (s *server) serveConn(conn net.Conn) {
	start := time.Now()
	s.accepted.Add(1)
	if s.open.Add(1) > s.maxConns {
		s.open.Add(-1)
		s.respond(conn, start, nil, unavailable("too many connections"))
		closeWriteAndDrain(conn)
		return
	}
	defer s.open.Add(-1) // runs after the drain: a lingering connection counts
	defer closeWriteAndDrain(conn)
	defer s.forget(conn)

	deadline := start.Add(s.clientTimeout)
	conn.SetReadDeadline(deadline) // respond sets the write deadline
	br := readers.Get().(*bufio.Reader)
	br.Reset(conn)
	defer func() { br.Reset(nil); readers.Put(br) }() // hold no closed conn
	s.awaitRequest(conn, br, deadline)
	req, h, resp := readAndRoute(conn, br, s.router)
	switch {
	case h != nil && isInternal(req.Path):
		resp = run(h, req) // cheap, and needed most when the workers are busy
	case h != nil:
		resp = s.answerOnPool(conn, start, req, h)
	}
	if resp != nil {
		s.respond(conn, start, req, resp)
	}
}

// answerOnPool runs h and writes its answer on a worker, and waits until
// that is done. When no worker can take the job, it returns the 503 that
// answers instead.
func (s *server) answerOnPool(conn net.Conn, start time.Time, req *Request, h Handler) *Response {
	done := make(chan struct{})
	job := func() {
		defer close(done)
		s.respond(conn, start, req, run(h, req))
	}
	if !s.pool.submit(job) {
		return unavailable("every worker is busy")
	}
	<-done
	return nil
}

// unavailable is the answer under overload: 503, and when to try again
// (RFC 9110 §15.6.4, §10.2.3).
func unavailable(text string) *Response {
	resp := errorResponse(503, text)
	resp.Headers = append(resp.Headers, Field{"Retry-After", "1"})
	return resp
}

// readAndRoute reads a request and finds what answers it: a handler, or a
// response that refuses it, or neither when there is no one to answer. The
// router needs only the head, so a request it refuses (404, 405, 501) is
// refused before its body is read, or a 100 Continue invites it.
func readAndRoute(conn net.Conn, br *bufio.Reader, rt *router) (*Request, Handler, *Response) {
	req, err := readRequestHead(br)
	if err != nil {
		return nil, nil, failureResponse(conn, err)
	}
	h, refusal := rt.route(req)
	if refusal != nil {
		return req, nil, refusal
	}
	if err = expectContinue(conn, req); err == nil {
		err = req.readBody(br)
	}
	if err != nil {
		return req, nil, failureResponse(conn, err)
	}
	return req, h, nil
}

// respond counts resp and writes it as the answer to req, without its body
// for HEAD, within the write timeout, then logs it. req is nil when the
// request could not be read; start is when the connection was accepted.
// Counting first means that a client that has its answer finds it in
// /metrics.
func (s *server) respond(conn net.Conn, start time.Time, req *Request, resp *Response) {
	withBody, path := true, ""
	if req != nil {
		withBody, path = req.Method != "HEAD", req.Path
	}
	s.metrics.record(path, resp.Status)
	s.answered.Add(1)
	conn.SetWriteDeadline(time.Now().Add(s.writeTimeout))
	cork(conn) // the response and the FIN after it leave as one segment
	if err := writeResponse(conn, resp, withBody); err != nil {
		slog.Info("writing response failed", "remote", conn.RemoteAddr(), "err", err)
	}
	s.logAnswer(conn, start, req, resp, withBody)
}

// logAnswer logs one INFO line for each answer, except a 503. Under
// overload those are counted instead, and reportRejections reports the
// count once a second, so that a flood of clients cannot flood the log.
func (s *server) logAnswer(conn net.Conn, start time.Time, req *Request, resp *Response, withBody bool) {
	if resp.Status == 503 {
		s.rejected.Add(1)
		return
	}
	ctx := context.Background()
	if !slog.Default().Enabled(ctx, slog.LevelInfo) {
		return // spare the work below when nobody reads it
	}
	method, path, bytes := "", "", 0
	if req != nil {
		method, path = req.Method, req.Path
	}
	if withBody {
		bytes = len(resp.Body)
	}
	slog.LogAttrs(ctx, slog.LevelInfo, "request",
		slog.String("method", method), slog.String("path", path), slog.Int("status", resp.Status),
		slog.Int("bytes", bytes), slog.Duration("duration", time.Since(start)),
		slog.String("remote", conn.RemoteAddr().String()))
}

// reportRejections writes one WARN line for each interval in which the
// server answered 503, with how many, until the function it returns is
// called; that logs what is left, so that no count is lost at exit.
func (s *server) reportRejections(interval time.Duration) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				s.logRejections(interval)
				return
			case <-tick.C:
				s.logRejections(interval)
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// logRejections writes the WARN line for the 503s counted since the last.
func (s *server) logRejections(interval time.Duration) {
	if n := s.rejected.Swap(0); n > 0 {
		slog.Warn("overloaded: answered 503 Service Unavailable", "count", n, "interval", interval,
			"hint", "/metrics shows the pool; raise -workers, -queue or -max-conns if the machine has room")
	}
}

// expectContinue answers an Expect field before the body is read (RFC 9110
// §10.1.1). A client that sends "Expect: 100-continue" waits for a 100
// before it sends its body, so that a body the server would refuse is never
// sent: that refusal, such as a 413 for a declared length over the limit,
// goes out at once instead.
func expectContinue(w io.Writer, req *Request) error {
	expect, ok := req.Header("expect")
	switch {
	case !ok:
		return nil
	case !strings.EqualFold(expect, "100-continue"):
		return reject(417, "unsupported expectation", expect)
	case req.Version == "HTTP/1.0":
		return nil // an HTTP/1.0 client cannot wait for a 100: MUST ignore
	case req.contentLength > maxBodyBytes:
		return errBodyTooLarge
	case req.contentLength == 0 && !req.chunked:
		return nil // no body to ask for
	}
	return writeContinue(w)
}

// failureResponse turns a failed read into its answer. This switch is the one
// place where a failure becomes a status; nil means there is no one to answer.
func failureResponse(conn net.Conn, err error) *Response {
	var se statusError
	switch {
	case errors.Is(err, errNoRequest):
		return nil // the client left, or stayed silent, before its first byte
	case errors.Is(err, os.ErrDeadlineExceeded):
		slog.Info("request timed out", "remote", conn.RemoteAddr(), "err", err)
		return errorResponse(408, "the request took too long to arrive")
	case errors.As(err, &se):
		slog.Info("bad request", "remote", conn.RemoteAddr(), "err", err)
		return errorResponse(se.code, se.text)
	default:
		slog.Info("reading request failed", "remote", conn.RemoteAddr(), "err", err)
		return nil // the connection broke: no one is listening
	}
}

// closeWriteAndDrain half-closes conn, so the client sees the response end,
// then reads and drops input as lingerTimeout and lingerMaxBytes allow. The
// caller closes conn afterwards.
func closeWriteAndDrain(conn net.Conn) {
	if c, ok := conn.(interface{ CloseWrite() error }); ok {
		c.CloseWrite()
	}
	conn.SetReadDeadline(time.Now().Add(lingerTimeout))
	io.Copy(io.Discard, io.LimitReader(conn, lingerMaxBytes))
}
