//go:build !linux

package main

import (
	"errors"
	"syscall"
)

// Outside Linux, the TCP options of socket_linux.go are not there: the
// server works the same, at a little more cost per connection.

// listenControl refuses -defer-accept, which needs Linux.
func listenControl(deferAccept bool) func(network, address string, c syscall.RawConn) error {
	if !deferAccept {
		return nil
	}
	return func(string, string, syscall.RawConn) error {
		return errors.New("-defer-accept needs Linux's TCP_DEFER_ACCEPT")
	}
}

// cork does nothing: the last response and the FIN leave as two segments.
func (c *conn) cork() {}

// openFilesLimit is 0, not known: the limit is not read here, and so no
// warning is given about it.
func openFilesLimit() uint64 { return 0 }
