package main

import (
	"bufio"
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
	// script that waits for this line may send either at once. The line is
	// written whatever the log level: with -port 0 it is how anyone learns
	// the port.
	logAlways(slog.LevelInfo, "listening on "+ln.Addr().String())
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
	logAlways(slog.LevelInfo, "shutting down", "cause", context.Cause(ctx), "drain_timeout", drain)
	srv.beginShutdown(ln)

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
	// The account: a connection closed without an answer had sent no
	// request (or broke) before the grace period or the client timeout.
	accepted, answered := srv.accepted.Load(), srv.answered.Load()
	logAlways(slog.LevelInfo, "every accepted request was answered; exited cleanly",
		"connections", accepted, "answered", answered, "closed_without_request", accepted-answered)
	return 0
}

// logAlways logs msg and args at level even when the configured level is
// above it: the lines that say where the server is and how it ended. A
// Logger checks the level before it calls its Handler; calling the Handler
// directly skips that check.
func logAlways(level slog.Level, msg string, args ...any) {
	r := slog.NewRecord(time.Now(), level, msg, 0)
	r.Add(args...)
	slog.Default().Handler().Handle(context.Background(), r)
}

// beginShutdown stops the server taking connections, and gives the open
// ones that have not sent a byte idleGrace to start. It does not wait.
func (s *server) beginShutdown(ln net.Listener) {
	s.mu.Lock()
	s.draining = true
	for conn, started := range s.conns {
		if !started {
			conn.SetReadDeadline(time.Now().Add(idleGrace))
		}
	}
	s.mu.Unlock()

	// Accept what the backlog holds until the deadline; then serve closes
	// the listener (see serve).
	if l, ok := ln.(interface{ SetDeadline(time.Time) error }); ok {
		l.SetDeadline(time.Now().Add(backlogWait))
	} else {
		ln.Close()
	}
}

// awaitRequest waits for the first byte of the request on conn. Until it
// comes, the connection is idle, and a shutdown may close it after
// idleGrace. Once it has come, the client has committed to a request: it is
// read to its end, within deadline, and answered, shutdown or not.
func (s *server) awaitRequest(conn net.Conn, br *bufio.Reader, deadline time.Time) {
	s.mu.Lock()
	s.conns[conn] = false
	if s.draining {
		conn.SetReadDeadline(time.Now().Add(idleGrace))
	}
	s.mu.Unlock()
	if _, err := br.Peek(1); err != nil {
		return // readRequestHead meets the error again, and reports it
	}
	s.mu.Lock()
	s.conns[conn] = true
	graced := s.draining // a shutdown may have cut the wait short as the byte came
	s.mu.Unlock()
	if graced {
		conn.SetReadDeadline(deadline) // undo it: the request has begun
	}
}

// forget stops tracking conn, once it has been served.
func (s *server) forget(conn net.Conn) {
	s.mu.Lock()
	delete(s.conns, conn)
	s.mu.Unlock()
}

// cutAll closes every connection still being served, and returns how many.
func (s *server) cutAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for conn := range s.conns {
		conn.Close()
	}
	return len(s.conns)
}
