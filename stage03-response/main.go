// Stage 3: the server answers each request with a real HTTP response: a
// plain-text description of what the parser saw.
//
//	go run .
//	curl -i localhost:8080/some/path?x=1
//	printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' | nc localhost 8080
package main

import (
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
	if err := serve(ln, serveHTTP(describe)); err != nil {
		slog.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

// describe answers every request with what the parser made of it.
func describe(req *Request) *Response {
	return textResponse(200, describeRequest(req))
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
