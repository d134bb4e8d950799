package main

import (
	"cmp"
	"net"
	"syscall"
)

// Two Linux TCP options that make a connection cheaper for the server
// (tcp(7)), and the limit on open files that bounds the connections.
// socket_other.go stands in for them elsewhere. The README's
// section on performance has what each saves and what it costs.

// deferAcceptSeconds is how long the kernel keeps a connection that has
// sent nothing before it hands it to Accept anyway, with -defer-accept.
// Short, so that the server's own client timeout stays what bounds a silent
// client; the saving comes from requests whose bytes follow the handshake
// at once.
const deferAcceptSeconds = 1

// listenControl returns the net.ListenConfig.Control that sets
// TCP_DEFER_ACCEPT on the listening socket when deferAccept is true: the
// kernel then hands a connection to Accept only once its first bytes have
// arrived, which saves the server a wait in the poller per connection.
func listenControl(deferAccept bool) func(network, address string, c syscall.RawConn) error {
	if !deferAccept {
		return nil
	}
	return func(_, _ string, c syscall.RawConn) error {
		var err error
		cerr := c.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_DEFER_ACCEPT, deferAcceptSeconds)
		})
		return cmp.Or(cerr, err)
	}
}

// cork sets TCP_CORK on the connection: a partial segment is held back
// until the connection is shut down or closed (or 200 ms pass), so that
// the last segment of its last response and the FIN after it, sent by
// CloseWrite or Close, leave as one segment rather than two. One packet
// fewer per connection costs both ends less. Only a connection's last
// response is corked: a kept one would wait the 200 ms for a FIN that
// does not come.
func (c *conn) cork() {
	tcp, ok := c.rwc.(*net.TCPConn)
	if !ok {
		return
	}
	if raw, err := tcp.SyscallConn(); err == nil {
		raw.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK, 1)
		})
	}
}

// openFilesLimit is the most files the process may have open: its soft
// RLIMIT_NOFILE, 0 if it cannot be read. Go raises the soft limit to the
// hard one as the program starts (package syscall), so this is the
// `ulimit -Hn` the server was started under. config.go warns when
// -max-conns passes it.
func openFilesLimit() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	return lim.Cur
}
