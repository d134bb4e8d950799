package main

// Benchmarks of the whole server beside net/http on the same machine, in
// the same run. Run them with
//
//	go test -run '^$' -bench . -benchmem
//
// Absolute figures vary by machine; the ratio between the two servers is
// the claim.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// quietLogs turns the request log off for a benchmark: net/http logs
// nothing per request, so neither does the server it is compared with.
func quietLogs(b *testing.B) {
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})))
	b.Cleanup(func() { slog.SetDefault(old) })
}

// startRaw serves this server's routes on a free port, with the defaults.
func startRaw(b *testing.B) string {
	return startRawWith(b, defaultMaxConns)
}

// startRawWith serves this server's routes with a cap of maxConns.
func startRawWith(b *testing.B, maxConns int64) string {
	srv := newAppServer(defaultWorkers, defaultQueueSize)
	srv.maxConns = maxConns
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- serve(ln, srv.serveConn) }()
	b.Cleanup(func() { ln.Close(); <-done; srv.pool.stop() })
	return ln.Addr().String()
}

// netHTTPHandler serves this server's routes with net/http: the same
// handler functions make the same bodies, and the answers are counted the
// same way, so the difference is the HTTP machinery.
func netHTTPHandler(p *pool, m *metrics) http.Handler {
	rt := routes(embeddedFiles(), m, p)
	mux := http.NewServeMux()
	for _, path := range []string{"/", "/api/hello", "/about", "/health", "/metrics"} {
		h := rt.routes[path]["GET"]
		pattern := "GET " + path
		if path == "/" {
			pattern += "{$}" // the home page only, as the router has it
		}
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			resp := h(&Request{Method: r.Method, Path: r.URL.Path, Version: "HTTP/1.1"})
			m.record(r.URL.Path, resp.Status)
			w.Header().Set("Content-Type", resp.ContentType)
			w.Header().Set("Server", serverName)
			w.WriteHeader(resp.Status)
			w.Write(resp.Body)
		})
	}
	return mux
}

// serveNetHTTP serves the routes with net/http on ln until it is closed,
// with keep-alives off: one request per connection, as this server does.
func serveNetHTTP(ln net.Listener) *http.Server {
	p, m := newPool(defaultWorkers, defaultQueueSize), newMetrics()
	srv := &http.Server{Handler: netHTTPHandler(p, m)}
	srv.RegisterOnShutdown(p.stop)
	srv.SetKeepAlivesEnabled(false)
	go srv.Serve(ln)
	return srv
}

// startNetHTTP serves the routes with net/http on a free port.
func startNetHTTP(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := serveNetHTTP(ln)
	b.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// fetch sends one request on a fresh connection, reads the whole answer,
// and checks that it is a 200.
func fetch(addr string, request []byte, buf []byte) error {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.Write(request); err != nil {
		return err
	}
	n, err := io.ReadFull(conn, buf[:len("HTTP/1.1 200")])
	if err != nil || string(buf[9:n]) != "200" {
		return fmt.Errorf("answer %q, %v", buf[:n], err)
	}
	for err == nil {
		_, err = conn.Read(buf)
	}
	if err != io.EOF {
		return err
	}
	return nil
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkServe: each iteration a fresh connection, one request with
// Connection: close, the whole answer read; many clients at once. cpu-µs/op
// is the CPU the process spent per request, client and server together: the
// client is the same code for both servers, so the difference is the
// server's.
func BenchmarkServe(b *testing.B) {
	quietLogs(b)
	servers := []struct {
		name  string
		start func(*testing.B) string
	}{{"go-raw", startRaw}, {"net-http", startNetHTTP}}
	for _, path := range []string{"/api/hello", "/about", "/metrics"} {
		request := []byte("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\nConnection: close\r\n\r\n")
		for _, server := range servers {
			b.Run(path[1:]+"/"+server.name, func(b *testing.B) {
				addr := server.start(b)
				b.ReportAllocs()
				b.SetParallelism(8)
				start := cpuTime()
				b.RunParallel(func(pb *testing.PB) {
					buf := make([]byte, 16<<10)
					for pb.Next() {
						if err := fetch(addr, request, buf); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(cpuTime()-start)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
			})
		}
	}
}

// TestNetHTTPBaseline is not a test: BenchmarkServerCPU and
// TestShutdownUnderLoad run the test binary again with NETHTTP_BASELINE
// set, to run this as the net/http server in a process of its own. On
// SIGTERM it shuts down as a careful net/http program does, with
// Server.Shutdown and the same drain time as this server's.
func TestNetHTTPBaseline(t *testing.T) {
	if os.Getenv("NETHTTP_BASELINE") == "" {
		t.Skip("the net/http baseline server of BenchmarkServerCPU")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := serveNetHTTP(ln)
	slog.Info("listening on " + ln.Addr().String())
	<-ctx.Done()
	drain, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if err := srv.Shutdown(drain); err != nil {
		slog.Error("shutdown", "err", err)
		os.Exit(1)
	}
	slog.Info("exited cleanly")
	os.Exit(0)
}

// startNetHTTPProcess runs the net/http baseline in a process of its own.
func startNetHTTPProcess(t testing.TB) *process {
	cmd := exec.Command(os.Args[0], "-test.run=^TestNetHTTPBaseline$")
	cmd.Env = append(os.Environ(), "NETHTTP_BASELINE=1")
	return startProcess(t, cmd)
}

// processCPU is the CPU time, user and system, that process pid has used,
// from /proc/PID/stat, whose utime and stime count clock ticks of 1/100 s
// (USER_HZ on Linux).
func processCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	// After "pid (comm) ", the fields run from the third, state: utime is
	// the 14th and stime the 15th.
	fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+2:]))
	utime, _ := strconv.Atoi(fields[14-3])
	stime, _ := strconv.Atoi(fields[15-3])
	return time.Duration(utime+stime) * time.Second / 100
}

// BenchmarkServerCPU runs each server in a process of its own and reports
// the CPU time that process spent per request: the server's cost alone,
// without the client's. The workload is the workbook's: a fresh connection
// per request, GET /api/hello, Connection: close, many clients at once.
func BenchmarkServerCPU(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads /proc")
	}
	servers := []struct {
		name  string
		start func(b *testing.B) *process
	}{
		{"go-raw", func(b *testing.B) *process { return startBinary(b, "-log-level", "warn") }},
		{"go-raw-defer-accept", func(b *testing.B) *process { return startBinary(b, "-log-level", "warn", "-defer-accept") }},
		{"go-raw-with-request-log", func(b *testing.B) *process { return startBinary(b) }},
		{"net-http", func(b *testing.B) *process { return startNetHTTPProcess(b) }},
	}
	request := []byte("GET /api/hello HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\nConnection: close\r\n\r\n")
	perRequest := make(map[string]float64)
	for _, server := range servers {
		b.Run(server.name, func(b *testing.B) {
			p := server.start(b)
			pid := p.cmd.Process.Pid
			b.SetParallelism(8)
			before := processCPU(b, pid)
			b.RunParallel(func(pb *testing.PB) {
				buf := make([]byte, 16<<10)
				for pb.Next() {
					if err := fetch(p.addr, request, buf); err != nil {
						b.Error(err)
						return
					}
				}
			})
			perRequest[server.name] = float64(processCPU(b, pid)-before) / float64(time.Microsecond) / float64(b.N)
			b.ReportMetric(perRequest[server.name], "server-µs/op")
			if server.name == "net-http" { // last: report the others against it
				for _, other := range servers[:len(servers)-1] {
					b.ReportMetric(perRequest[other.name]/perRequest["net-http"], other.name+"/net-http")
				}
			}
		})
	}
}

// heapAndStacks is the memory in use for Go objects and goroutine stacks.
func heapAndStacks() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse
}

// BenchmarkIdleConnections opens 1000 connections that send nothing, then
// measures a fresh request's latency through them, and the memory each idle
// connection costs the server, beside net/http. Both servers run in this
// process, on listeners without TCP_DEFER_ACCEPT: with it, a silent
// connection would cost the server nothing at all until the kernel hands it
// over.
func BenchmarkIdleConnections(b *testing.B) {
	quietLogs(b)
	const idle = 1000
	for _, server := range []struct {
		name  string
		start func(*testing.B) string
	}{
		// The cap is raised above the idle connections, so that the fresh
		// requests measured are served, not refused.
		{"go-raw", func(b *testing.B) string { return startRawWith(b, 2*idle) }},
		{"net-http", startNetHTTP},
	} {
		b.Run(server.name, func(b *testing.B) {
			addr := server.start(b)
			before := heapAndStacks()
			conns := make([]net.Conn, 0, idle)
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			for range idle {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					b.Fatal(err)
				}
				conns = append(conns, c)
			}
			time.Sleep(200 * time.Millisecond) // let the server accept them all: a measurement, not a test
			perConn := float64(heapAndStacks()-before) / idle

			request := []byte("GET /api/hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
			buf := make([]byte, 16<<10)
			var took []time.Duration
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				if err := fetch(addr, request, buf); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)*99/100])/float64(time.Microsecond), "p99-µs")
			b.ReportMetric(perConn, "B/idle-conn")
		})
	}
}

// BenchmarkRoute is the router's share of a request.
func BenchmarkRoute(b *testing.B) {
	rt := routes(embeddedFiles(), newMetrics(), newPool(1, 0))
	req := &Request{Method: "GET", Path: "/api/hello", Version: "HTTP/1.1"}
	b.ReportAllocs()
	for b.Loop() {
		if h, refusal := rt.route(req); h == nil || refusal != nil {
			b.Fatal("no route")
		}
	}
}

// More clients than the workers and the queue can take, with handlers that
// take their time: every client gets a whole answer, 200 or 503 with
// Retry-After, never a reset or a hang, and the memory in use at its peak
// stays bounded.
func TestOverloadEveryAnswerWhole(t *testing.T) {
	srv := newAppServer(4, 4)
	srv.router.handle("GET", "/work", func(*Request) *Response {
		time.Sleep(10 * time.Millisecond)
		return textResponse(200, "done\n")
	})
	addr := startServing(t, srv)
	before := heapAndStacks()
	peak := make(chan uint64)
	stopSampling := make(chan struct{})
	go func() { peak <- peakInUse(stopSampling) }()

	const clients, each = 200, 5
	counts := make(chan map[int]int, clients)
	for range clients {
		go func() {
			seen := map[int]int{}
			for range each {
				seen[overloadedGet(addr)]++
			}
			counts <- seen
		}()
	}
	total := map[int]int{}
	for range clients {
		for status, n := range <-counts {
			total[status] += n
		}
	}
	if total[200]+total[503] != clients*each || total[200] == 0 || total[503] == 0 {
		t.Errorf("answers %v; want %d in all, each 200 or 503 (-1: broken, -2: no Retry-After), some of both", total, clients*each)
	}
	close(stopSampling)
	if grew := int64(<-peak) - int64(before); grew > 64<<20 {
		t.Errorf("memory in use peaked %d bytes above its start under overload; want it bounded (64 MiB)", grew)
	}
}

// peakInUse samples the memory in use for Go objects and stacks every few
// milliseconds, garbage included, until stop closes, and returns the most.
func peakInUse(stop <-chan struct{}) uint64 {
	var most uint64
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		most = max(most, ms.HeapInuse+ms.StackInuse)
		select {
		case <-stop:
			return most
		case <-tick.C:
		}
	}
}

// overloadedGet sends GET /work and returns the status, -1 for an answer
// that was not a whole response before the connection closed (a reset, a
// hang past ioTimeout, garbage), or -2 for a 503 without Retry-After: 1.
func overloadedGet(addr string) int {
	conn, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return -1
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(ioTimeout))
	io.WriteString(conn, "GET /work HTTP/1.1\r\nHost: x\r\n\r\n")
	conn.(*net.TCPConn).CloseWrite()
	wire, err := io.ReadAll(conn)
	if err != nil {
		return -1
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(wire)), nil)
	if err != nil {
		return -1
	}
	if body, err := io.ReadAll(resp.Body); err != nil || int64(len(body)) != resp.ContentLength {
		return -1
	}
	if resp.StatusCode == 503 && resp.Header.Get("Retry-After") != "1" {
		return -2
	}
	return resp.StatusCode
}
