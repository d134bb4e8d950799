package main

// The test helpers of this stage: a server on a free port, and clients
// that talk to it over a real loopback socket, with net/http's parser, an
// independent peer, reading what the server writes.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// newAppServer is this stage's server: its routes, a pool of the given
// size, its metrics, and the limits of set.
func newAppServer(workers, queueSize int, set settings) *server {
	return newServer(routes(embeddedFiles()), newPool(workers, queueSize), newMetrics(), set)
}

// startApp serves this stage's routes on a free port and returns the URL.
func startApp(t *testing.T) string {
	return "http://" + startServing(t, newAppServer(defaultWorkers, defaultQueueSize, settings{}))
}

// startRouter serves rt on a free port, with a pool of the default size
// and the default limits.
func startRouter(t *testing.T, rt *router) string {
	return startServing(t, newServer(rt, newPool(defaultWorkers, defaultQueueSize), newMetrics(), settings{}))
}

// startServing serves srv on a free port. When the test ends, it stops as a
// server should: the listener, then the connections, then the pool.
// The connections that net/http's default client keeps are closed first:
// the server waits for every connection it accepted before it stops.
func startServing(t testing.TB, srv *server) string {
	t.Helper()
	t.Cleanup(srv.pool.stop) // cleanups run last first: this one runs last
	addr := startServer(t, srv.serveConn)
	t.Cleanup(http.DefaultTransport.(*http.Transport).CloseIdleConnections)
	return addr
}

// timeoutServer has a client timeout of 300 ms: a test of it must see its
// 408 or close within 5 s, a bound with room for a loaded machine.
func timeoutServer(t *testing.T) string {
	return startServing(t, newAppServer(2, 10, settings{clientTimeout: 300 * time.Millisecond}))
}

const timeoutBound = 5 * time.Second

// startHTTP serves describe on every path and method, on a free port.
func startHTTP(t *testing.T) string {
	rt := newRouter()
	for _, method := range knownMethods {
		rt.handle(method, "/*", describe)
	}
	return startRouter(t, rt)
}

// describe answers with what the server read, so that a wire test can see it.
func describe(req *Request) *Response {
	var b strings.Builder
	fmt.Fprintf(&b, "method:  %s\ntarget:  %s\npath:    %s\nquery:   %s\nversion: %s\nhost:    %s\n",
		req.Method, req.Target, req.Path, req.Query, req.Version, req.Host)
	fmt.Fprintf(&b, "headers: %d\n", len(req.Headers))
	for _, f := range req.Headers {
		fmt.Fprintf(&b, "  %s: %s\n", f.Name, f.Value)
	}
	fmt.Fprintf(&b, "body:    %d bytes\n", len(req.Body))
	return textResponse(200, b.String())
}

// newClient is a net/http client whose kept connections are closed when
// the test ends: the server waits for every connection it accepted before
// it stops, and a client's idle connection would keep it waiting.
func newClient(t testing.TB) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Timeout: ioTimeout, Transport: tr}
}

// sendRaw sends raw on a fresh connection, half-closes it, and returns all
// the server sent back before it closed. An error, a reset among them, fails
// the test: a client must never get a reset in place of its answer.
func sendRaw(t *testing.T, addr, raw string) string {
	t.Helper()
	conn := dial(t, addr)
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatalf("writing %.60q: %v", raw, err)
	}
	conn.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("reading the answer to %.60q: %v (after %q)", raw, err, got)
	}
	return string(got)
}

// parseResponse reads the one response in wire with net/http's parser, and
// checks what every response must have: a body of Content-Length bytes and
// nothing after it, a Date, and the Server.
func parseResponse(t *testing.T, wire, method string) (*http.Response, string) {
	t.Helper()
	r := bufio.NewReader(strings.NewReader(wire))
	resp, err := http.ReadResponse(r, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("net/http cannot read %q: %v", wire, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the body of %q: %v", wire, err)
	}
	if rest, _ := io.ReadAll(r); len(rest) > 0 {
		t.Errorf("bytes after the response: %q", rest)
	}
	if _, err := http.ParseTime(resp.Header.Get("Date")); err != nil {
		t.Errorf("Date %q: %v", resp.Header.Get("Date"), err)
	}
	if got := resp.Header.Get("Server"); got != serverName {
		t.Errorf("Server = %q; want %q", got, serverName)
	}
	return resp, string(body)
}

// getStatus sends GET path on its own connection and returns the status,
// or 0 if the request failed. It reports to no test, so any goroutine may
// call it: t.Fatal belongs to the test's own goroutine.
func getStatus(addr, path string) int {
	client := http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + addr + path)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// getPath sends GET path on a fresh connection, as its only request, and
// returns the response.
func getPath(t *testing.T, addr, path string) (*http.Response, string) {
	t.Helper()
	return parseResponse(t, sendRaw(t, addr, reqBytes("GET "+path+" HTTP/1.1\nHost: x\nConnection: close")), "GET")
}

// kept is a client's side of one connection that it keeps open: it writes
// requests and reads the responses one at a time.
type kept struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func dialKept(t *testing.T, addr string) *kept {
	conn := dial(t, addr)
	return &kept{t, conn, bufio.NewReader(conn)}
}

// send writes raw, one or more requests.
func (k *kept) send(raw string) {
	k.t.Helper()
	if _, err := io.WriteString(k.conn, raw); err != nil {
		k.t.Fatalf("writing %.60q: %v", raw, err)
	}
}

// next reads the next response and its body.
func (k *kept) next(method string) (*http.Response, string) {
	k.t.Helper()
	resp, err := http.ReadResponse(k.br, &http.Request{Method: method})
	if err != nil {
		k.t.Fatalf("reading a response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		k.t.Fatalf("reading its body: %v", err)
	}
	return resp, string(body)
}

// ended reports whether the server has closed the connection with nothing
// more sent, while the client has not closed its side.
func (k *kept) ended() bool {
	k.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	rest, err := io.ReadAll(k.br)
	return err == nil && len(rest) == 0
}

// The server as a process of its own, built once per test run, for the
// tests that send it real signals.

var (
	buildOnce sync.Once
	binDir    string
	binErr    error
)

// TestMain removes the binary the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds this stage once per test run and returns its path.
func binary(t testing.TB) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("shutdown tests send Unix signals")
	}
	buildOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "stage07-bin"); binErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, "server"), ".").CombinedOutput()
		if err != nil {
			binErr = errors.New(string(out))
		}
	})
	if binErr != nil {
		t.Fatalf("building the server: %v", binErr)
	}
	return filepath.Join(binDir, "server")
}

// process is the server running as its own process.
type process struct {
	cmd    *exec.Cmd
	addr   string     // 127.0.0.1 and the port it listens on
	log    *logLines  // what it has logged so far
	read   int        // how many lines of log waitForLog has read
	exited chan error // its exit, once its log has ended
}

// logLines collects a process's log as it comes. It never makes the
// process wait: a log write that blocked would stall the server under test.
type logLines struct {
	mu    sync.Mutex
	lines []string
	ended bool
	more  chan struct{} // has a value when lines were added or the log ended
}

func (l *logLines) add(line string, ended bool) {
	l.mu.Lock()
	if !ended {
		l.lines = append(l.lines, line)
	}
	l.ended = l.ended || ended
	l.mu.Unlock()
	select {
	case l.more <- struct{}{}:
	default:
	}
}

// since returns the lines after the first n, and whether the log has ended.
func (l *logLines) since(n int) ([]string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lines[n:], l.ended
}

// startBinary runs the server on a free port with -slow and args.
func startBinary(t testing.TB, args ...string) *process {
	t.Helper()
	return startBinaryAt(t, binary(t), args...)
}

// startBinaryAt runs the server built at bin.
func startBinaryAt(t testing.TB, bin string, args ...string) *process {
	t.Helper()
	return startProcess(t, exec.Command(bin, append([]string{"-port", "0", "-slow"}, args...)...))
}

// startProcess starts cmd and waits until it logs that it is listening.
func startProcess(t testing.TB, cmd *exec.Cmd) *process {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, log: &logLines{more: make(chan struct{}, 1)}, exited: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.log.add(sc.Text(), false)
		}
		p.log.add("", true)
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	line := p.waitForLog(t, "listening on ")
	port := listeningPort.FindStringSubmatch(line)
	if port == nil {
		t.Fatalf("no port in %q", line)
	}
	p.addr = "127.0.0.1:" + port[1]
	return p
}

// listeningPort finds the port in the log line "listening on [::]:8080".
var listeningPort = regexp.MustCompile(`listening on \S*:(\d+)`)

// waitForLog reads the log on from where it last stopped until a line
// contains want, and returns that line.
func (p *process) waitForLog(t testing.TB, want string) string {
	t.Helper()
	timeout := time.After(ioTimeout)
	for {
		lines, ended := p.log.since(p.read)
		for _, line := range lines {
			p.read++
			if strings.Contains(line, want) {
				return line
			}
		}
		if ended {
			t.Fatalf("the log ended without %q", want)
		}
		select {
		case <-p.log.more:
		case <-timeout:
			t.Fatalf("no %q in the log after %v", want, ioTimeout)
		}
	}
}

// signal sends sig to the server.
func (p *process) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// exitCode waits for the server to exit, at most within, and returns its
// exit code.
func (p *process) exitCode(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case err := <-p.exited:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(within):
		t.Fatalf("the server did not exit within %v", within)
		return -1
	}
}

// getAsync sends GET path on its own connection and delivers the status,
// or 0 if the request failed.
func getAsync(addr, path string) <-chan int {
	status := make(chan int, 1)
	go func() { status <- getStatus(addr, path) }()
	return status
}

// activeWorkers reads active_workers from /metrics, which is answered even
// when every worker is busy.
func activeWorkers(t *testing.T, addr string) int {
	t.Helper()
	_, body := getPath(t, addr, "/metrics")
	var m metricsBody
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	return m.WorkerPool["active_workers"]
}

// The servers the benchmarks compare: this one, and net/http serving the
// same routes, in this process or in one of its own.

// startRaw serves this server's routes on a free port, with the defaults.
func startRaw(b *testing.B) string {
	return startServing(b, newAppServer(defaultWorkers, defaultQueueSize, settings{}))
}

// netHTTPHandler serves this server's routes with net/http: the same
// handler functions make the same bodies, and the answers are counted the
// same way, so the difference is the HTTP machinery.
func netHTTPHandler(p *pool, m *metrics) http.Handler {
	rt := newServer(routes(embeddedFiles()), p, m, settings{}).router
	mux := http.NewServeMux()
	for _, path := range []string{"/", "/api/hello", "/about", "/health", "/metrics"} {
		h := rt.routes[path]["GET"]
		pattern := "GET " + path
		if path == "/" {
			pattern += "{$}" // the home page only, as the router has it
		}
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			resp := h(&Request{Method: r.Method, Path: r.URL.Path, Version: "HTTP/1.1"})
			m.record(r.URL.Path, resp.Status, false)
			w.Header().Set("Content-Type", resp.ContentType)
			w.Header().Set("Server", serverName)
			w.WriteHeader(resp.Status)
			w.Write(resp.Body)
		})
	}
	return mux
}

// serveNetHTTP serves the routes with net/http on ln until it is closed:
// with keep-alives off, one request per connection, as this server does
// with -keepalive=false; with them on, as it does by default.
func serveNetHTTP(ln net.Listener, keepAlive bool) *http.Server {
	p, m := newPool(defaultWorkers, defaultQueueSize), newMetrics()
	srv := &http.Server{Handler: netHTTPHandler(p, m)}
	srv.RegisterOnShutdown(p.stop)
	srv.SetKeepAlivesEnabled(keepAlive)
	go srv.Serve(ln)
	return srv
}

// startNetHTTP serves the routes with net/http on a free port.
func startNetHTTP(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := serveNetHTTP(ln, false)
	b.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// startNetHTTPProcess runs the net/http baseline in a process of its own,
// with keep-alives on or off.
func startNetHTTPProcess(t testing.TB, keepAlive bool) *process {
	mode := "close"
	if keepAlive {
		mode = "keep-alive"
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNetHTTPBaseline$")
	cmd.Env = append(os.Environ(), "NETHTTP_BASELINE="+mode)
	return startProcess(t, cmd)
}
