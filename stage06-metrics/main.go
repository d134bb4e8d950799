// Stage 6: the server counts what it answers, and shows it: /health for a
// liveness probe, /metrics for the counts and the pool.
//
//	go run .
//	curl localhost:8080/health
//	curl localhost:8080/metrics
package main

import (
	"embed"
	"encoding/base64"
	"flag"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"
	"unicode/utf8"
)

// www holds the static files, built into the binary.
//
//go:embed www
var www embed.FS

// staticPrefix is where the files of www are served: /static/index.html.
const staticPrefix = "/static/"

func main() {
	port := flag.Int("port", 8080, "TCP port to listen on (0 picks a free one)")
	workers := flag.Int("workers", defaultWorkers, "requests answered at once")
	queue := flag.Int("queue", defaultQueueSize, "complete requests that may wait for a worker")
	maxConns := flag.Int("max-conns", defaultMaxConns, "connections open at once; more get 503")
	timeout := flag.Duration("timeout", defaultClientTimeout, "time a whole request may take to arrive")
	idleTimeout := flag.Duration("idle-timeout", defaultIdleTimeout, "time a kept connection may wait for its next request")
	flag.Parse()

	p, m := newPool(*workers, *queue), newMetrics()
	srv := newServer(routes(embeddedFiles()), p, m,
		settings{clientTimeout: *timeout, idleTimeout: *idleTimeout, maxConns: *maxConns})
	stopReporting := srv.reportRejections(time.Second)

	ln, err := net.Listen("tcp", ":"+strconv.Itoa(*port))
	if err != nil {
		slog.Error("cannot listen", "err", err)
		os.Exit(1)
	}
	slog.Info("listening on " + ln.Addr().String())
	err = serve(ln, srv.serveConn)
	stopReporting()
	if err != nil {
		slog.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

// embeddedFiles returns the files of www, without the "www/" before
// their names.
func embeddedFiles() fs.FS {
	files, err := fs.Sub(www, "www")
	if err != nil {
		panic(err) // cannot happen: "www" is a valid name, and embedded
	}
	return files
}

// routes is the server's table of routes; files are the static files.
// newServer adds the server's own, /health and /metrics.
func routes(files fs.FS) *router {
	rt := newRouter()
	rt.handle("GET", "/", home)
	rt.handle("GET", "/api/hello", hello)
	rt.handle("POST", "/api/echo", echo)
	rt.handle("GET", "/about", staticFile(files, "index.html"))
	rt.handle("GET", staticPrefix+"*", staticFiles(files, staticPrefix))
	return rt
}

// homePage is the text of /.
const homePage = `Welcome to the HTTP/1.1 server built from scratch in Go!

Routes:
  GET /               this page
  GET /api/hello      a JSON greeting
  POST /api/echo      what the server read of your request, as JSON
  GET /about          an HTML page
  GET /static/<name>  the files of www/

Observability:
  GET /health         liveness: status and uptime
  GET /metrics        requests by status and path, and the worker pool
`

// home answers / with the list of routes.
func home(*Request) *Response {
	return textResponse(200, homePage)
}

// hello answers /api/hello with a JSON greeting that echoes the request.
func hello(req *Request) *Response {
	return jsonResponse(200, struct {
		Message string `json:"message"`
		Method  string `json:"method"`
		Path    string `json:"path"`
		Server  string `json:"server"`
	}{"Hello from the scratch-built HTTP server!", req.Method, req.Path, serverName})
}

// echo answers POST /api/echo with what the server read of the request:
// the body as the client framed it, with Content-Length or in chunks, once
// the server has decoded it. A body that is not valid UTF-8 cannot be a
// JSON string as it is, so it comes back in base64, and body_encoding
// says which.
func echo(req *Request) *Response {
	contentType, _ := req.Header("content-type")
	body, encoding := string(req.Body), "utf-8"
	if !utf8.Valid(req.Body) {
		body, encoding = base64.StdEncoding.EncodeToString(req.Body), "base64"
	}
	return jsonResponse(200, struct {
		Method       string `json:"method"`
		Path         string `json:"path"`
		Query        string `json:"query"`
		ContentType  string `json:"content_type"`
		BodyLength   int    `json:"body_length"`
		BodyEncoding string `json:"body_encoding"`
		Body         string `json:"body"`
	}{req.Method, req.Path, req.Query, contentType, len(req.Body), encoding, body})
}
