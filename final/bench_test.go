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
	"errors"
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
	"sync/atomic"
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
				fetchEach(b, addr, request)
				b.ReportMetric(float64(cpuTime()-start)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
			})
		}
	}
}

// TestNetHTTPBaseline is not a test: BenchmarkServerCPU and
// TestShutdownUnderLoad run the test binary again with NETHTTP_BASELINE
// set, to run this as the net/http server in a process of its own, with
// keep-alives on if NETHTTP_BASELINE is "keep-alive". On SIGTERM it shuts
// down as a careful net/http program does, with Server.Shutdown and the
// same drain time as this server's.
func TestNetHTTPBaseline(t *testing.T) {
	mode := os.Getenv("NETHTTP_BASELINE")
	if mode == "" {
		t.Skip("the net/http baseline server of BenchmarkServerCPU")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := serveNetHTTP(ln, mode == "keep-alive")
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

// TestGoFloor is not a test: BenchmarkServerCPU and bench/compare.sh run
// the test binary with GO_FLOOR set, to run this as the least a Go server
// can do to answer GET /api/hello: a goroutine per connection that reads
// each head to its empty line and writes the same bytes, with no parsing,
// deadline, limit or pool. Beside nginx, it is what Go's runtime costs
// before any HTTP work: the floor under this server's cost. It knows just
// enough to close after a request that says "Connection: close", spelled
// as wrk spells it, and to say so, as wrk expects.
func TestGoFloor(t *testing.T) {
	if os.Getenv("GO_FLOOR") == "" {
		t.Skip("the Go floor of BenchmarkServerCPU and bench/compare.sh")
	}
	body := hello(&Request{Method: "GET", Path: "/api/hello"}).Body
	answer := func(fields string) []byte {
		return fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s", len(body), fields, body)
	}
	kept, last := answer(""), answer("Connection: close\r\n")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	slog.Info("listening on " + ln.Addr().String())
	for {
		conn, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			defer conn.Close()
			br := bufio.NewReader(conn)
			for closing := false; !closing; {
				for {
					line, err := br.ReadSlice('\n')
					if err != nil {
						return
					}
					if len(line) <= 2 {
						break
					}
					closing = closing || bytes.HasPrefix(line, []byte("Connection: close"))
				}
				reply := kept
				if closing {
					reply = last
				}
				if _, err := conn.Write(reply); err != nil {
					return
				}
			}
		}()
	}
}

// startFloorProcess runs TestGoFloor, the Go floor, in a process of its
// own.
func startFloorProcess(b *testing.B) *process {
	cmd := exec.Command(os.Args[0], "-test.run=^TestGoFloor$")
	cmd.Env = append(os.Environ(), "GO_FLOOR=1")
	return startProcess(b, cmd)
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

// serverUnderTest is a server in a process of its own, and how to start it.
type serverUnderTest struct {
	name  string
	start func(b *testing.B) *process
}

// BenchmarkServerCPU runs each server in a process of its own and reports
// the CPU time that process spent per request: the server's cost alone,
// without the client's, on the same machine and in the same run, beside
// the Go floor (TestGoFloor), the least any Go server could cost. Two
// workloads, GET /api/hello from many clients at once:
//
//   - close: a fresh connection for each request, Connection: close, as
//     this server answers with -keepalive=false and net/http with its
//     keep-alives off;
//   - keep-alive: each client keeps one connection and sends its requests
//     on it one after another, as wrk, browsers and net/http's client do;
//     both servers with their defaults. It reports the latency of a
//     request too, p50 and p99.
//
// net/http runs first in each workload, so that each of the others can
// report its CPU per request against net/http's, on its own line.
func BenchmarkServerCPU(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads /proc")
	}
	binary(b) // built before any timing starts
	workloads := []struct {
		name    string
		servers []serverUnderTest
		run     func(b *testing.B, addr string)
	}{
		{"close", []serverUnderTest{
			{"net-http", func(b *testing.B) *process { return startNetHTTPProcess(b, false) }},
			{"go-raw", func(b *testing.B) *process { return startBinary(b, "-log-level", "warn", "-keepalive=false") }},
			{"go-raw-defer-accept", func(b *testing.B) *process {
				return startBinary(b, "-log-level", "warn", "-keepalive=false", "-defer-accept")
			}},
			{"go-raw-with-request-log", func(b *testing.B) *process { return startBinary(b, "-keepalive=false") }},
			{"go-floor", startFloorProcess},
		}, runClose},
		{"keep-alive", []serverUnderTest{
			{"net-http", func(b *testing.B) *process { return startNetHTTPProcess(b, true) }},
			{"go-raw", func(b *testing.B) *process { return startBinary(b, "-log-level", "warn") }},
			{"go-floor", startFloorProcess},
		}, runKeepAlive},
	}
	for _, w := range workloads {
		var netHTTP float64 // net/http's CPU per request in this workload, from its last round
		for _, server := range w.servers {
			p := server.start(b) // one process for every round of b.N
			b.Run(w.name+"/"+server.name, func(b *testing.B) {
				b.SetParallelism(8)
				before, start := processCPU(b, p.cmd.Process.Pid), time.Now()
				w.run(b, p.addr)
				elapsed, cpu := time.Since(start), processCPU(b, p.cmd.Process.Pid)-before
				perRequest := float64(cpu) / float64(time.Microsecond) / float64(b.N)
				b.ReportMetric(perRequest, "server-µs/op")
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
				if server.name == "net-http" {
					netHTTP = perRequest
				} else if netHTTP > 0 {
					b.ReportMetric(perRequest/netHTTP, "cpu/net-http")
				}
			})
			p.cmd.Process.Kill()
		}
	}
}

// runClose is the close workload: GET /api/hello, Connection: close, each
// request on a fresh connection.
func runClose(b *testing.B, addr string) {
	fetchEach(b, addr, []byte("GET /api/hello HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\nConnection: close\r\n\r\n"))
}

// fetchEach sends request b.N times from many clients, each time on a
// fresh connection, reading every answer to its end.
func fetchEach(b *testing.B, addr string, request []byte) {
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 16<<10)
		for pb.Next() {
			if err := fetch(addr, request, buf); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// runKeepAlive sends b.N requests from many clients, each on one
// connection of its own, one request after another, and reports the p50
// and p99 of the time from writing a request to reading its answer.
func runKeepAlive(b *testing.B, addr string) {
	request := []byte("GET /api/hello HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\n\r\n")
	took := make(chan []time.Duration, 64)
	var clients atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		clients.Add(1)
		var mine []time.Duration
		defer func() { took <- mine }()
		var conn net.Conn
		var br *bufio.Reader
		defer func() {
			if conn != nil {
				conn.Close()
			}
		}()
		for pb.Next() {
			start := time.Now()
			if conn == nil { // the first request, or the server ended the last connection
				var err error
				if conn, err = net.Dial("tcp", addr); err != nil {
					b.Error(err)
					return
				}
				br = bufio.NewReader(conn)
			}
			err := roundTrip(conn, br, request)
			if errors.Is(err, errLastOnConnection) {
				conn.Close()
				conn, err = nil, nil
			}
			if err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(start))
		}
	})
	var all []time.Duration
	for range clients.Load() {
		all = append(all, <-took...)
	}
	if len(all) > 0 {
		slices.Sort(all)
		b.ReportMetric(float64(all[len(all)/2])/float64(time.Microsecond), "p50-µs")
		b.ReportMetric(float64(all[len(all)*99/100])/float64(time.Microsecond), "p99-µs")
	}
}

// errLastOnConnection is roundTrip's answer that said Connection: close,
// as this server's does after maxRequestsPerConn.
var errLastOnConnection = errors.New("the last answer on the connection")

// roundTrip writes request on a kept connection and reads one answer,
// framed by its Content-Length, and checks that it is a 200.
func roundTrip(conn net.Conn, br *bufio.Reader, request []byte) error {
	if _, err := conn.Write(request); err != nil {
		return err
	}
	status, err := br.ReadSlice('\n')
	if err != nil || !bytes.HasPrefix(status, []byte("HTTP/1.1 200 ")) {
		return fmt.Errorf("status line %q, %v", status, err)
	}
	length, last := -1, false
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if name, value, ok := bytes.Cut(line, []byte(": ")); ok {
			switch string(bytes.ToLower(name)) {
			case "content-length":
				length, _ = strconv.Atoi(string(bytes.TrimSpace(value)))
			case "connection":
				last = bytes.EqualFold(bytes.TrimSpace(value), []byte("close"))
			}
		}
	}
	if length < 0 {
		return errors.New("no Content-Length")
	}
	if _, err = br.Discard(length); err == nil && last {
		err = errLastOnConnection
	}
	return err
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
		{"go-raw", func(b *testing.B) string {
			return startServing(b, newAppServer(defaultWorkers, defaultQueueSize, settings{maxConns: 2 * idle}))
		}},
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
	rt := routes(embeddedFiles())
	req := &Request{Method: "GET", Path: "/api/hello", Version: "HTTP/1.1"}
	b.ReportAllocs()
	for b.Loop() {
		if h, err := rt.route(req); h == nil || err != nil {
			b.Fatal("no route")
		}
	}
}

// More clients than the workers and the queue can take, with handlers that
// take their time: every client gets a whole answer, 200 or 503 with
// Retry-After, never a reset or a hang, and the memory in use at its peak
// stays bounded.
func TestOverloadEveryAnswerWhole(t *testing.T) {
	srv := newAppServer(4, 4, settings{})
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

// BenchmarkKeptRequest sends GET, one request after another, on one kept
// connection, from a client in this process that allocates nothing of its
// own, so that allocs/op is the server's, per request. /fixed answers with
// a response made once: its allocations are the server's own work, to
// read, route, answer and write a request. /api/hello, the route the
// other benchmarks load, is answered the same way: hello's answer is
// encoded once.
func BenchmarkKeptRequest(b *testing.B) {
	quietLogs(b)
	fixed := textResponse(200, "hello\n")
	srv := newAppServer(defaultWorkers, defaultQueueSize, settings{})
	srv.router.handle("GET", "/fixed", func(*Request) *Response { return fixed })
	addr := startServing(b, srv)
	for _, path := range []string{"/fixed", "/api/hello"} {
		b.Run(path[1:], func(b *testing.B) {
			conn := dial(b, addr)
			request := []byte("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\n\r\n")
			buf := make([]byte, 4<<10)
			b.ReportAllocs()
			for b.Loop() {
				conn.SetDeadline(time.Now().Add(ioTimeout))
				if _, err := conn.Write(request); err != nil {
					b.Fatal(err)
				}
				last, err := readOneAnswer(conn, buf)
				if err != nil {
					b.Fatal(err)
				}
				if last { // the connection's maxRequestsPerConn-th
					conn = dial(b, addr)
				}
			}
		})
	}
}

// readOneAnswer reads one answer from conn into buf, framed by its
// Content-Length, without allocating: buf holds it whole. last says
// whether it ends the connection.
func readOneAnswer(conn net.Conn, buf []byte) (last bool, err error) {
	n := 0
	for {
		m, err := conn.Read(buf[n:])
		if err != nil {
			return false, err
		}
		n += m
		head := bytes.Index(buf[:n], []byte("\r\n\r\n"))
		if head < 0 {
			continue
		}
		at := bytes.Index(buf[:head], []byte("\r\nContent-Length: "))
		if at < 0 {
			return false, errors.New("no Content-Length")
		}
		length := 0
		for _, d := range buf[at+len("\r\nContent-Length: ") : head+2] {
			if d < '0' || d > '9' {
				break
			}
			length = 10*length + int(d-'0')
		}
		if n == head+4+length {
			return bytes.Contains(buf[:head], []byte("\r\nConnection: close")), nil
		}
	}
}
