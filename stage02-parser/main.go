// Stage 2: the server reads each connection as one HTTP request and answers
// with a plain-text description of what the parser saw.
//
//	go run .
//	curl -i localhost:8080/some/path?x=1
//	printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' | nc localhost 8080
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
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
	if err := serve(ln, describe); err != nil {
		slog.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

// reasons holds the reason phrases of the statuses the parser returns.
// Stage 3 replaces this, and the hand-written reply below, with response.go.
var reasons = map[int]string{
	200: "OK", 400: "Bad Request", 413: "Content Too Large", 414: "URI Too Long",
	431: "Request Header Fields Too Large", 501: "Not Implemented", 505: "HTTP Version Not Supported",
}

// describe reads one request and answers with what the parser made of it,
// or with the status of the error that stopped it.
func describe(conn net.Conn) {
	req, err := readRequest(bufio.NewReader(conn))
	status, body := 200, ""
	var se statusError
	switch {
	case err == nil:
		body = describeRequest(req)
	case errors.Is(err, errNoRequest):
		return // the client left before sending a byte: nothing to answer
	case errors.As(err, &se):
		slog.Info("bad request", "remote", conn.RemoteAddr(), "err", err)
		status, body = se.code, se.text+"\n"
	default:
		slog.Info("reading request failed", "remote", conn.RemoteAddr(), "err", err)
		return
	}
	fmt.Fprintf(conn, "HTTP/1.1 %d %s\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n"+
		"Content-Length: %d\r\n"+
		"Connection: close\r\n"+
		"\r\n%s", status, reasons[status], len(body), body)
}

// describeRequest lists the parts of req, one per line.
func describeRequest(req *Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "method:  %s\ntarget:  %s\npath:    %s\nquery:   %s\nversion: %s\nhost:    %s\n",
		req.Method, req.Target, req.Path, req.Query, req.Version, req.Host)
	fmt.Fprintf(&b, "headers: %d\n", len(req.Headers))
	for _, f := range req.Headers {
		fmt.Fprintf(&b, "  %s: %s\n", f.Name, f.Value)
	}
	fmt.Fprintf(&b, "body:    %d bytes\n", len(req.Body))
	return b.String()
}
