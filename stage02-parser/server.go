package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
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
