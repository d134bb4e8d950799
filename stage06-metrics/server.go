package main

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net"
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
// for errors in general; for Accept it marks the errors worth retrying
// (EMFILE, ENFILE, ECONNABORTED, ECONNRESET, EINTR), which is why net/http
// still asks.
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// Limits on connections. Reading a request happens on the connection's own
// goroutine, which costs a few kilobytes while it waits; only a complete
// request takes a worker. These bound what waiting can cost.
const (
	// defaultClientTimeout is how long a whole request may take to arrive:
	// a connection's first request from the moment it is accepted, a later
	// one from its first byte. One deadline for the whole request, not one
	// per read, so that a client trickling a byte at a time is cut off too.
	// Past it: 408, or a quiet close if the client sent nothing (RFC 9110
	// §15.5.9). The seed's CLIENT_TIMEOUT.
	defaultClientTimeout = 5 * time.Second

	// defaultWriteTimeout is how long each write to a client may take: a
	// response, or a 100 Continue. A worker writes the response it made, so
	// this is how long a client that never reads can hold one. Most
	// responses here fit in the socket's buffer at once; the largest is a
	// static file of maxStaticFileBytes, which a client must take at about
	// 1 MB/s.
	defaultWriteTimeout = 5 * time.Second

	// defaultIdleTimeout is how long a kept connection may wait for its
	// next request before the server closes it, quietly. nginx waits 75 s
	// (keepalive_timeout); net/http, unless told, as long as the client
	// likes. It is longer than the 60 s after which common load balancers
	// (AWS's, by default) drop an idle connection, so that the balancer
	// closes it first and never sends a request as this server closes. An
	// idle connection costs only its goroutine and buffer (defaultMaxConns),
	// and makes room for a new one when the cap is full (admit).
	defaultIdleTimeout = 75 * time.Second

	// defaultMaxConns bounds the connections being served at once, idle
	// kept ones and their closing drain included. Past it, a new
	// connection gets 503 without being read, unless an idle one can be
	// closed to make room; that refusal still holds its socket and a
	// goroutine while the 503 is delivered, up to lingerTimeout. Each
	// connection costs a goroutine and a 4 KiB read buffer, about 10 KiB in
	// all: 1000 is about 10 MiB, well inside a small container. Arbitrary.
	defaultMaxConns = 1000

	// defaultBodyBudget bounds the bytes of request bodies held in memory
	// at once, by every connection together: a body is read whole before
	// a worker is taken, so without it each of defaultMaxConns connections
	// could hold a body of maxBodyBytes, about 1 GiB in all. A body that does
	// not fit gets 503 with Retry-After before it is read, or, chunked,
	// when a chunk does not fit, and its connection ends. 32 MiB is 32
	// bodies of the largest size, three for each of the default workers.
	// Measured: with 900 clients each sending a body of 1,000 KiB at once,
	// twice, the server peaked at about 200 MiB with it, and above 340 MiB
	// with 64 MiB, since a handler's answer built from a body (an echo) is
	// garbage of several times its size, and the collector lets the heap
	// grow to twice what it keeps (the README has the run).
	defaultBodyBudget = 32 << 20
)

// The refusals of a server that has no room: 503, with Retry-After.
var (
	errTooManyConns error = statusError{503, "too many connections"}
	errQueueFull    error = statusError{503, "every worker is busy and the queue is full"}
	errBodyBudget   error = statusError{503, "too many request bodies in memory at once"}
)

// settings are a server's limits. A zero field means the default named
// beside it.
type settings struct {
	clientTimeout time.Duration // defaultClientTimeout
	writeTimeout  time.Duration // defaultWriteTimeout
	idleTimeout   time.Duration // defaultIdleTimeout
	maxConns      int           // defaultMaxConns
	bodyBudget    int64         // defaultBodyBudget
}

// server answers HTTP requests: it reads each one on its connection's own
// goroutine, hands the work of answering it to a pool of workers, and
// counts every answer in its metrics.
type server struct {
	router        *router
	pool          *pool
	metrics       *metrics
	clientTimeout time.Duration
	writeTimeout  time.Duration
	idleTimeout   time.Duration
	maxConns      int
	bodies        budget       // the bytes of request bodies held in memory
	accepted      atomic.Int64 // connections accepted, for /metrics
	rejected      atomic.Int64 // 503s since reportRejections last reported

	mu    sync.Mutex         // guards conns
	conns map[*conn]struct{} // the connections being served: their number is what the cap counts
}

// newServer returns a server that answers through rt, on the workers of p,
// counts its answers in m, and keeps to the limits set gives. It adds its
// own paths to rt: /health, and /metrics, which reports on m, p and the
// server's connections.
func newServer(rt *router, p *pool, m *metrics, set settings) *server {
	s := &server{
		router:        rt,
		pool:          p,
		metrics:       m,
		clientTimeout: cmp.Or(set.clientTimeout, defaultClientTimeout),
		writeTimeout:  cmp.Or(set.writeTimeout, defaultWriteTimeout),
		idleTimeout:   cmp.Or(set.idleTimeout, defaultIdleTimeout),
		maxConns:      cmp.Or(set.maxConns, defaultMaxConns),
		bodies:        budget{limit: cmp.Or(set.bodyBudget, defaultBodyBudget)},
		conns:         make(map[*conn]struct{}),
	}
	rt.handleInternal("GET", "/health", m.health)
	rt.handleInternal("GET", "/metrics", m.report(p, s.connStats))
	return s
}

// serveConn is serve's handler: it serves one connection, if the cap has
// room for it, and refuses it with 503 if not, without reading it.
func (s *server) serveConn(rwc net.Conn) {
	c := s.newConn(rwc)
	if !s.admit(c) {
		c.refuse(&exchange{}, errTooManyConns)
		c.closeWriteAndDrain()
		return
	}
	defer s.release(c)    // after serve has ended it: a connection counts until its drain ends
	defer c.releaseBody() // what a connection that broke mid-request still holds
	c.serve()
}

// admit counts c against the cap, and reports whether it has room. When
// the cap is full and some connections wait idle for a next request, the
// one idle longest is evicted to make room, as nginx does: a client with a
// request to send comes before one that may never send another. It counts
// until it has closed, so the cap can be passed by the connections on
// their way out. Every connection admitted is released once it is done.
func (s *server) admit(c *conn) bool {
	s.accepted.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.conns) >= s.maxConns && !s.evictLongestIdle() {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

// evictLongestIdle evicts the connection that has waited idle longest, and
// reports whether there was one; s.mu is held.
func (s *server) evictLongestIdle() bool {
	var oldest *conn
	var oldestSince time.Time
	for c := range s.conns {
		if since, idle := c.idle(); idle && (oldest == nil || since.Before(oldestSince)) {
			oldest, oldestSince = c, since
		}
	}
	return oldest != nil && oldest.evict()
}

// openConns is the number of connections being served, which the cap
// counts.
func (s *server) openConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// connStats is what /metrics shows of the server's connections: how many
// it has accepted, how many are open now, how many of those wait idle, and
// the bytes of request bodies they hold, against the budget.
func (s *server) connStats() connStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	idle := 0
	for c := range s.conns {
		if _, ok := c.idle(); ok {
			idle++
		}
	}
	return connStats{Accepted: s.accepted.Load(), Open: len(s.conns), Idle: idle,
		BodyBytes: s.bodies.used.Load(), BodyBudget: s.bodies.limit}
}

// release gives back the place of a connection that admit took.
func (s *server) release(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
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

// budget is a number of bytes that many goroutines draw on and give back,
// within a limit.
type budget struct {
	limit int64
	used  atomic.Int64
}

// take draws n bytes and reports true, or reports false, drawing nothing,
// when they do not fit. It never counts bytes it will not keep: a count
// over the limit, even for a moment, could refuse another's body that fits.
func (b *budget) take(n int64) bool {
	for {
		used := b.used.Load()
		if used+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// give returns n bytes that take drew.
func (b *budget) give(n int64) {
	b.used.Add(-n)
}
