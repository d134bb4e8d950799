// Stage 1: a TCP server that echoes back whatever a client sends.
//
//	go run .            # listens on :8080
//	go run . -port 0    # any free port; the log says which
//	nc localhost 8080   # type a line, get it back
package main

import (
	"flag"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
)

func main() {
	port := flag.Int("port", 8080, "TCP port to listen on (0 picks a free one)")
	flag.Parse()

	ln, err := net.Listen("tcp", ":"+strconv.Itoa(*port))
	if err != nil {
		slog.Error("cannot listen", "err", err)
		os.Exit(1)
	}
	slog.Info("listening on " + ln.Addr().String())
	if err := serve(ln, echo); err != nil {
		slog.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

// echo writes back every byte the client sends, until the client closes its
// side of the connection.
func echo(conn net.Conn) {
	if _, err := io.Copy(conn, conn); err != nil {
		slog.Debug("echo ended", "remote", conn.RemoteAddr(), "err", err)
	}
}
