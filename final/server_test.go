package main

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// copyBack is the handler these tests serve: it writes back what it reads,
// so a test can see that a connection was served.
func copyBack(conn net.Conn) { io.Copy(conn, conn) }

// ioTimeout bounds every wait on the network in these tests, so a broken
// server fails a test instead of hanging it. It is generous on purpose: the
// tests assert what happens, never how fast.
const ioTimeout = 10 * time.Second

// startServer serves handle on a free loopback port and returns the address.
// The server is stopped, and must have stopped cleanly, when the test ends.
func startServer(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- serve(ln, handle) }()
	t.Cleanup(func() {
		ln.Close()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v after Close; want nil", err)
		}
	})
	return ln.Addr().String()
}

func dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(ioTimeout))
	return conn
}

// assertEcho sends msg and expects the same bytes back.
func assertEcho(t *testing.T, conn net.Conn, msg string) {
	t.Helper()
	if _, err := io.WriteString(conn, msg); err != nil {
		t.Fatalf("write %q: %v", msg, err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(conn, got); err != nil {
		t.Fatalf("echo of %q: %v", msg, err)
	}
	if string(got) != msg {
		t.Errorf("echo = %q; want %q", got, msg)
	}
}

// A server that handled one connection at a time would still be busy with
// the first client, which has sent nothing, and never answer the second.
func TestServeHandlesClientsConcurrently(t *testing.T) {
	addr := startServer(t, copyBack)
	first := dial(t, addr)
	second := dial(t, addr)

	assertEcho(t, second, "from the second client\n")
	assertEcho(t, first, "from the first client\n")
}

func TestCloseStopsServeAndFreesThePort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- serve(ln, copyBack) }()

	client := dial(t, addr)
	assertEcho(t, client, "before close\n")
	client.Close()
	ln.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve = %v; want nil after Close", err)
		}
	case <-time.After(ioTimeout):
		t.Fatal("serve did not return after Close")
	}

	again, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening again on %s: %v", addr, err)
	}
	again.Close()
}

// Closing the listener stops accepting, but serve returns only once the
// connections it accepted have been served: then nothing they use is freed
// under them.
func TestServeReturnsAfterItsConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	var finished atomic.Bool
	done := make(chan error, 1)
	go func() {
		done <- serve(ln, func(net.Conn) {
			close(entered)
			<-release
			finished.Store(true)
		})
	}()
	dial(t, ln.Addr().String())
	<-entered
	ln.Close()
	select {
	case <-done:
		t.Fatal("serve returned while a connection was still being served")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil || !finished.Load() {
		t.Errorf("serve = %v with the handler finished %v; want nil after the handler", err, finished.Load())
	}
}

// temporaryError is an accept error that passes, like EMFILE.
type temporaryError struct{}

func (temporaryError) Error() string   { return "too many open files" }
func (temporaryError) Temporary() bool { return true }
func (temporaryError) Timeout() bool   { return false }

// failingListener returns its errors from Accept, one per call, before
// accepting for real.
type failingListener struct {
	net.Listener
	mu   sync.Mutex
	errs []error
}

func (l *failingListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) > 0 {
		err := l.errs[0]
		l.errs = l.errs[1:]
		return nil, err
	}
	return l.Listener.Accept()
}

func TestServeRetriesTemporaryAcceptErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	flaky := &failingListener{Listener: ln, errs: []error{temporaryError{}, temporaryError{}, temporaryError{}}}
	done := make(chan error, 1)
	go func() { done <- serve(flaky, copyBack) }()
	t.Cleanup(func() {
		ln.Close()
		if err := <-done; err != nil {
			t.Errorf("serve = %v; want nil", err)
		}
	})

	assertEcho(t, dial(t, ln.Addr().String()), "still serving\n")
}

func TestServeReturnsPermanentAcceptErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	broken := errors.New("listener broken")
	err = serve(&failingListener{Listener: ln, errs: []error{broken}}, copyBack)
	if !errors.Is(err, broken) {
		t.Errorf("serve = %v; want an error wrapping %v", err, broken)
	}
}

func TestIsTemporary(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"out_of_file_descriptors", &net.OpError{Op: "accept", Err: os.NewSyscallError("accept", syscall.EMFILE)}, true},
		{"listener_closed", net.ErrClosed, false},
		{"plain_error", errors.New("boom"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isTemporary(tt.err); got != tt.want {
				t.Errorf("isTemporary(%v) = %v; want %v", tt.err, got, tt.want)
			}
		})
	}
}
