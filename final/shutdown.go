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

	// idleGrace is how long a connection that waits for a request to
	// begin, new or kept idle, gets, once the drain begins, to start one.
	// Its client has committed to nothing, so it is closed after this, but
	// a request already on its way through the network still makes it.
	idleGrace = 1 * time.Second

	// backlogWait is how long the listener keeps accepting after the signal:
	// the connections the kernel has already completed are in its backlog,
	// waiting for Accept, which takes them at once, and they are served.
	// Then the listener closes, and new connections are refused. A
	// connection the kernel completes after that is reset by the kernel:
	// no server can answer it.
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
	return shutDown(ctx, ln, srv, drain, served, second)
}

// shutDown stops srv taking connections, drains the ones it has, waits
// for served, which reports that serve has returned, and returns the exit
// code. The drain timeout, or a second signal, cuts the connections still
// open instead.
//
// The order is the one the kernel sees. First the listener takes what its
// backlog holds, for backlogWait, and closes: from then on, a client that
// connects is refused, which every client and proxy may safely retry.
// Only then do kept connections learn of the shutdown, by
// "Connection: close" on their next answer, or by the close of an idle
// one after idleGrace; told earlier, a client would reconnect into a
// listener about to close, and meet a reset there.
func shutDown(ctx context.Context, ln net.Listener, srv *server, drain time.Duration, served <-chan error, second <-chan os.Signal) int {
	logAlways(slog.LevelInfo, "shutting down", "cause", context.Cause(ctx), "drain_timeout", drain)
	deadline := time.After(drain)
	select {
	case <-time.After(backlogWait):
	case sig := <-second:
		slog.Error("second signal: exiting at once", "signal", sig.String(), "cut", srv.cutAll())
		return 1
	}
	ln.Close()
	srv.beginDrain()

	select {
	case err := <-served:
		if err != nil {
			slog.Error("server stopped while draining", "err", err)
			return 1
		}
	case <-deadline:
		slog.Error("drain timeout: cut the connections still open", "cut", srv.cutAll())
		return 1
	case sig := <-second:
		slog.Error("second signal: exiting at once", "signal", sig.String(), "cut", srv.cutAll())
		return 1
	}
	srv.pool.stop()
	// The account: a connection closed without an answer had sent no
	// request (or broke) before the grace period or the client timeout.
	logAlways(slog.LevelInfo, "every accepted request was answered; exited cleanly",
		"connections", srv.accepted.Load(), "requests_answered", srv.answered.Load(),
		"closed_without_request", srv.silent.Load())
	return 0
}

// beginDrain tells every open connection that a shutdown has begun: one
// that waits for a request to begin, new or idle, gets idleGrace to start
// it, and every answer from now on ends its connection (persists, in
// conn.go). It does not wait.
func (s *server) beginDrain() {
	now := time.Now()
	s.drainBegan.Store(&now)
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.drain()
	}
}

// cutAll closes every connection still being served, and returns how many.
func (s *server) cutAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.cut()
	}
	return len(s.conns)
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
