package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Shutdown's timing.
const (
	// drainTimeout bounds the whole shutdown: how long the requests
	// accepted before it may take to finish. Past it, the connections still
	// open are cut and the exit code is 1. 8 s leaves a client that has just
	// connected its full 5 s to send a request, and fits inside the 10 s
	// that `docker stop` waits before it kills.
	drainTimeout = 8 * time.Second

	// idleGrace is how long a connection that has sent nothing gets, once
	// shutdown begins, to start its request. Its client has committed to
	// nothing, so it is closed after this, but a request already on its way
	// through the network still makes it.
	idleGrace = 1 * time.Second

	// backlogWait is how long the listener keeps accepting after the signal:
	// the connections the kernel has already completed are in its backlog,
	// accepted and waiting; Accept takes them at once, and they are served.
	// Then the listener closes, and new connections are refused.
	backlogWait = 100 * time.Millisecond
)

// serveUntilSignal serves srv on ln until SIGINT or SIGTERM, then shuts down
// and returns the exit code: 0 when every request accepted was answered, 1
// when the drain timeout cut some, when a second signal forced the exit, or
// when serving failed.
func serveUntilSignal(ln net.Listener, srv *server, drain time.Duration) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Only now is the server ready for a signal as well as a connection: a
	// script that waits for this line may send either at once.
	slog.Info("listening on " + ln.Addr().String())
	served := make(chan error, 1)
	go func() { served <- serve(ln, srv.serveConn) }()
	select {
	case err := <-served:
		slog.Error("server stopped", "err", err)
		return 1
	case <-ctx.Done():
	}

	second := make(chan os.Signal, 1)
	signal.Notify(second, os.Interrupt, syscall.SIGTERM)
	stop() // the first signal has done its work; the next one goes to second
	return shutDown(ctx, ln, srv, drain, served, second)
}

// shutDown stops srv taking connections, waits for served, which reports
// that serve has returned, and returns the exit code. The drain timeout,
// or a second signal, cuts the connections still open instead.
func shutDown(ctx context.Context, ln net.Listener, srv *server, drain time.Duration, served <-chan error, second <-chan os.Signal) int {
	srv.beginShutdown(ln) // first, so that a script that waits for the line finds it begun
	slog.Info("shutting down", "cause", context.Cause(ctx), "drain_timeout", drain)

	select {
	case err := <-served:
		if err != nil {
			slog.Error("server stopped while draining", "err", err)
			return 1
		}
	case <-time.After(drain):
		slog.Error("drain timeout: cut the connections still open", "cut", srv.cutAll())
		return 1
	case sig := <-second:
		slog.Error("second signal: exiting at once", "signal", sig.String(), "cut", srv.cutAll())
		return 1
	}
	srv.pool.stop()
	slog.Info("every accepted request was answered; exited cleanly")
	return 0
}

// connState is where a connection is, as a shutdown needs to know it.
type connState int

const (
	// stateNew: accepted, and no byte of a request has come yet. The
	// client has committed to nothing, so a shutdown closes the connection
	// once idleGrace has passed.
	stateNew connState = iota

	// stateActive: a request has begun. It is read to its end and
	// answered, shutdown or not, within the drain timeout.
	stateActive
)

// track records c, just admitted, as new. Every connection tracked is
// untracked once served; cutAll closes those still tracked.
func (s *server) track(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns[c] = stateNew
	if s.draining {
		c.rwc.SetReadDeadline(time.Now().Add(idleGrace))
	}
}

// untrack forgets c, once it has been served.
func (s *server) untrack(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

// setState records that c is now in state st. A connection that becomes
// active during a shutdown gets back the deadline of its request, in place
// of the grace period that the shutdown may have set as its first byte came.
func (s *server) setState(c *conn, st connState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns[c] = st
	if s.draining && st == stateActive {
		c.rwc.SetReadDeadline(c.deadline)
	}
}

// beginShutdown stops the server taking connections, and gives the open
// ones that have not sent a byte idleGrace to start. It does not wait.
func (s *server) beginShutdown(ln net.Listener) {
	s.mu.Lock()
	s.draining = true
	for c, st := range s.conns {
		if st == stateNew {
			c.rwc.SetReadDeadline(time.Now().Add(idleGrace))
		}
	}
	s.mu.Unlock()

	// Accept what the backlog holds until the deadline; then serve closes
	// the listener (server.go).
	if l, ok := ln.(interface{ SetDeadline(time.Time) error }); ok {
		l.SetDeadline(time.Now().Add(backlogWait))
	} else {
		ln.Close()
	}
}

// cutAll closes every connection still being served, and returns how many.
func (s *server) cutAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.rwc.Close()
	}
	return len(s.conns)
}
