// The final server: an HTTP/1.1 server built from raw TCP, configured by
// flags or the environment, with a health probe of its own for containers.
//
//	go run .                   # serves on :8080
//	go run . -h                # every setting, its variable and default
//	go run . -healthcheck      # probe a running server: exit 0 if healthy
package main

import (
	"cmp"
	"context"
	"embed"
	"encoding/base64"
	"errors"
	"flag"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
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
	cfg, err := parseConfig(os.Args[1:], os.Getenv, os.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		slog.Error(err.Error())
		os.Exit(2)
	}
	slog.SetDefault(newLogger(cfg, os.Stderr))
	if cfg.healthcheck {
		os.Exit(runHealthcheck(cfg))
	}
	os.Exit(runServer(cfg))
}

// newLogger logs at cfg's level, as text or, for a container's collector,
// as JSON, one object a line.
func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.logLevel}
	if cfg.logJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// runHealthcheck probes the server cfg describes and returns the exit code.
func runHealthcheck(cfg config) int {
	if err := healthcheck(cfg); err != nil {
		slog.Error("healthcheck failed", "err", err)
		return 1
	}
	slog.Info("healthcheck passed: /health answered 200")
	return 0
}

// runServer serves until a signal and returns the exit code.
func runServer(cfg config) int {
	files, err := staticFS(cfg.wwwDir)
	if err != nil {
		slog.Error("cannot serve the static files", "dir", cfg.wwwDir, "err", err)
		return 1
	}
	srv := newServer(routes(files), newPool(cfg.workers, cfg.queue), newMetrics(), cfg.serverSettings())
	if cfg.slow {
		srv.router.handle("GET", "/slow", slow)
	}

	// TCP keepalive probes find dead peers on connections idle for long. An
	// idle connection here is closed after the idle timeout anyway, so the
	// probes would only cost four setsockopt calls per connection: off.
	lc := net.ListenConfig{KeepAlive: -1, Control: listenControl(cfg.deferAccept)}
	ln, err := lc.Listen(context.Background(), "tcp", net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port)))
	if err != nil {
		slog.Error("cannot listen", "err", err)
		return 1
	}
	slog.Info("configuration", "workers", cfg.workers, "queue", cfg.queue, "max_conns", cfg.maxConns, "body_budget", cfg.bodyBudget,
		"client_timeout", cfg.clientTimeout, "keepalive", cfg.keepAlive, "idle_timeout", cfg.idleTimeout, "drain_timeout", cfg.drainTimeout,
		"www", cmp.Or(cfg.wwwDir, "(embedded)"), "log_level", cfg.logLevel, "defer_accept", cfg.deferAccept,
		"slow_route", cfg.slow)
	if w := cfg.warning(openFilesLimit()); w != "" {
		slog.Warn(w)
	}
	stopReporting := srv.reportRejections(time.Second)
	defer stopReporting()
	return serveUntilSignal(ln, srv, cfg.drainTimeout)
}

// staticFS is the directory dir, or the embedded www when dir is empty. An
// os.Root refuses every path that leaves dir, a symbolic link included,
// where os.DirFS would follow the link.
func staticFS(dir string) (fs.FS, error) {
	if dir == "" {
		return embeddedFiles(), nil
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return root.FS(), nil
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
  GET /metrics        requests by status and path, the worker pool, the connections
`

// home answers / with the list of routes.
func home(*Request) *Response {
	return textResponse(200, homePage)
}

// hello answers /api/hello with a JSON greeting that echoes the request.
// Its route sends it only GET /api/hello (HEAD runs as GET), so the answer
// never changes: it is encoded once, not for every request.
func hello(req *Request) *Response {
	if req.Method == "GET" && req.Path == "/api/hello" {
		return helloAnswer
	}
	return greeting(req)
}

var helloAnswer = greeting(&Request{Method: "GET", Path: "/api/hello"})

// greeting is hello's answer to req.
func greeting(req *Request) *Response {
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

// maxSlow bounds the wait /slow takes, so that it cannot hold a worker for
// long.
const maxSlow = 30 * time.Second

// slow answers after the duration its query names, /slow?for=2s: a request
// that is still in flight when a shutdown begins. Only -slow adds it.
func slow(req *Request) *Response {
	d, err := time.ParseDuration(strings.TrimPrefix(req.Query, "for="))
	if err != nil || d < 0 || d > maxSlow {
		return errorResponse(400, "want /slow?for=DURATION, at most "+maxSlow.String())
	}
	time.Sleep(d)
	return textResponse(200, "answered after "+d.String()+"\n")
}
