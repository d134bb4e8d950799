package main

import (
	"net"
	"syscall"
	"testing"
)

// acceptedListener hands each connection it accepts to the test as well.
type acceptedListener struct {
	net.Listener
	accepted chan net.Conn
}

func (l acceptedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted <- c
	}
	return c, err
}

// A response on a kept connection leaves uncorked. A corked one would wait
// for the FIN that closing sends, and on a kept connection none comes: the
// kernel would hold the response for 200 ms before it gave up waiting.
func TestKeptResponseNotCorked(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 1)
	srv := newAppServer(defaultWorkers, defaultQueueSize, settings{})
	t.Cleanup(srv.pool.stop)
	done := make(chan error, 1)
	go func() { done <- serve(acceptedListener{ln, accepted}, srv.serveConn) }()
	t.Cleanup(func() { ln.Close(); <-done })

	k := dialKept(t, ln.Addr().String())
	server := (<-accepted).(*net.TCPConn)
	for i := range 3 {
		k.send(reqBytes("GET /api/hello HTTP/1.1\nHost: x"))
		if resp, _ := k.next("GET"); resp.StatusCode != 200 || resp.Close {
			t.Fatalf("response %d = %d, close %v; want 200 on a kept connection", i, resp.StatusCode, resp.Close)
		}
		if corked := tcpCork(t, server); corked {
			t.Errorf("after response %d, the server's socket is corked; want it uncorked", i)
		}
	}
	k.conn.Close()
}

// tcpCork reads TCP_CORK on conn.
func tcpCork(t *testing.T, conn *net.TCPConn) bool {
	raw, err := conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var serr error
	raw.Control(func(fd uintptr) { v, serr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK) })
	if serr != nil {
		t.Fatal(serr)
	}
	return v != 0
}
