package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// metricsBody is what /metrics reports, decoded.
type metricsBody struct {
	Uptime     float64          `json:"uptime_seconds"`
	Total      int64            `json:"requests_total"`
	ByStatus   map[string]int64 `json:"requests_by_status"`
	ByPath     map[string]int64 `json:"requests_by_path"`
	WorkerPool map[string]int   `json:"worker_pool"`
	Conns      connStats        `json:"connections"`
}

// readMetrics asks the /metrics handler of m and p directly and returns
// the body, raw and decoded.
func readMetrics(t *testing.T, m *metrics, p *pool) (string, metricsBody) {
	t.Helper()
	resp := m.report(p, func() connStats { return connStats{} })(nil)
	var body metricsBody
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		t.Fatalf("/metrics is not JSON: %v\n%s", err, resp.Body)
	}
	return string(resp.Body), body
}

// Counts from many goroutines at once are exact (and race-free under -race).
func TestMetricsCountConcurrently(t *testing.T) {
	m, p := newMetrics(), newPool(1, 0)
	defer p.stop()
	var wg sync.WaitGroup
	for g := range 50 {
		wg.Go(func() {
			for i := range 200 {
				m.record(fmt.Sprintf("/p%d", (g+i)%5), 200+100*(i%3), false)
			}
		})
	}
	wg.Wait()
	_, got := readMetrics(t, m, p)
	if got.Total != 10000 || !maps.Equal(got.ByStatus, map[string]int64{"200": 3350, "300": 3350, "400": 3300}) {
		t.Errorf("total %d, by status %v; want 10000 and 3350/3350/3300", got.Total, got.ByStatus)
	}
	for path, n := range got.ByPath {
		if n != 2000 {
			t.Errorf("by path %s = %d; want 2000", path, n)
		}
	}
}

// The server's own paths are the router's to know: that is how the server
// knows to answer them without a worker, and not to count them (which
// TestMetricsAfterRequests sees on the wire).
func TestInternalPaths(t *testing.T) {
	rt := newAppServer(1, 0, settings{}).router
	for path, want := range map[string]bool{"/health": true, "/metrics": true, "/": false, "/api/hello": false, "/nope": false} {
		if got := rt.isInternal(path); got != want {
			t.Errorf("isInternal(%q) = %v; want %v", path, got, want)
		}
	}
}

// Distinct paths are counted up to maxTrackedPaths; past it, new paths count
// under "(other)", while the paths already tracked go on counting.
func TestMetricsPathLimit(t *testing.T) {
	m, p := newMetrics(), newPool(1, 0)
	defer p.stop()
	for i := range maxTrackedPaths {
		m.record(fmt.Sprintf("/p%d", i), 404, false)
	}
	_, atLimit := readMetrics(t, m, p)
	if len(atLimit.ByPath) != maxTrackedPaths || atLimit.ByPath[otherPaths] != 0 {
		t.Fatalf("%d paths tracked, %d other; want %d and 0", len(atLimit.ByPath), atLimit.ByPath[otherPaths], maxTrackedPaths)
	}
	m.record("/one-too-many", 404, false)
	m.record("/another", 404, false)
	m.record("/p0", 404, false)
	_, past := readMetrics(t, m, p)
	if past.ByPath[otherPaths] != 2 || past.ByPath["/one-too-many"] != 0 || past.ByPath["/p0"] != 2 {
		t.Errorf("other %d, /one-too-many %d, /p0 %d; want 2, 0, 2", past.ByPath[otherPaths], past.ByPath["/one-too-many"], past.ByPath["/p0"])
	}
}

// A client that invents long paths cannot make /metrics long: each path is
// counted by its first 64 bytes, and JSON may still write each of those
// bytes six times over (\u003c).
func TestMetricsLongPathsClipped(t *testing.T) {
	m, p := newMetrics(), newPool(1, 0)
	defer p.stop()
	long := strings.Repeat("<", 8000)
	for i := range maxTrackedPaths {
		m.record(fmt.Sprintf("/%03d%s", i, long), 404, false)
	}
	raw, got := readMetrics(t, m, p)
	if len(raw) > 64<<10 || got.ByPath[clip("/000"+long)] != 1 {
		t.Errorf("/metrics is %d bytes, counting %q %d times; want at most 64 KiB, with the path clipped counted once", len(raw), clip("/000"+long), got.ByPath[clip("/000"+long)])
	}
}

// requests_by_path is ordered on the wire, highest count first and ties by
// path: a JSON decoder would lose the order, so the test reads the bytes.
func TestMetricsPathOrderOnTheWire(t *testing.T) {
	m, p := newMetrics(), newPool(1, 0)
	defer p.stop()
	for path, n := range map[string]int{"/a": 1, "/b": 3, "/c": 3, "/": 2, "/\"q\"": 1} {
		for range n {
			m.record(path, 200, false)
		}
	}
	raw, _ := readMetrics(t, m, p)
	want := `"requests_by_path": {
    "/b": 3,
    "/c": 3,
    "/": 2,
    "/\"q\"": 1,
    "/a": 1
  },`
	if !strings.Contains(raw, want) {
		t.Errorf("/metrics =\n%s\nwant it to contain\n%s", raw, want)
	}
}

func TestHealth(t *testing.T) {
	m := newMetrics()
	resp := m.health(nil)
	var got map[string]any
	if err := json.Unmarshal(resp.Body, &got); err != nil {
		t.Fatal(err)
	}
	stamp, _ := got["timestamp"].(string)
	when, err := time.Parse(time.RFC3339, stamp)
	uptime, isNumber := got["uptime_seconds"].(float64)
	if got["status"] != "ok" || !isNumber || uptime < 0 || err != nil || !strings.HasSuffix(stamp, "Z") || time.Since(when) > time.Hour {
		t.Errorf("/health = %s; want status ok, a number of seconds, an RFC 3339 UTC timestamp of now", resp.Body)
	}
	if !strings.HasSuffix(string(resp.Body), "}\n") || !strings.Contains(string(resp.Body), "\n  \"status\": \"ok\",\n") {
		t.Errorf("/health = %q; want JSON indented by two spaces, ending in a newline", resp.Body)
	}
}

// Over the wire: after a known sequence of requests, /metrics shows exactly
// them, and not the probes.
func TestMetricsAfterRequests(t *testing.T) {
	srv := newAppServer(defaultWorkers, defaultQueueSize, settings{})
	addr := startServing(t, srv)
	for _, raw := range []string{
		reqBytes("GET / HTTP/1.1\nHost: x"),
		reqBytes("GET / HTTP/1.1\nHost: x"),
		reqBytes("GET /api/hello HTTP/1.1\nHost: x"),
		reqBytes("HEAD /api/hello HTTP/1.1\nHost: x"),
		reqBytes("POST /api/hello HTTP/1.1\nHost: x"),
		reqBytes("GET /nope HTTP/1.1\nHost: x"),
		reqBytes("GET /health HTTP/1.1\nHost: x"),
		reqBytes("get / HTTP/1.1\nHost: x"),
		reqBytes("GET /metrics HTTP/1.1\nHost: x"),
	} {
		sendRaw(t, addr, raw)
	}
	// A worker counts itself idle when its job returns, which is after the
	// answer is written and logged: a client can hold its answer a moment
	// before the worker is back. The pool is read once the last one is.
	eventually(t, "every worker idle", func() bool { return srv.pool.stats().Active == 0 })
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var got metricsBody
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	wantStatus := map[string]int64{"200": 4, "400": 1, "404": 1, "405": 1}
	wantPath := map[string]int64{"/": 2, "/api/hello": 3, "/nope": 1}
	if got.Total != 7 || !maps.Equal(got.ByStatus, wantStatus) || !maps.Equal(got.ByPath, wantPath) {
		t.Errorf("/metrics = %s\nwant total 7, by status %v, by path %v", raw, wantStatus, wantPath)
	}
	wantPool := map[string]int{"total_workers": defaultWorkers, "active_workers": 0, "idle_workers": defaultWorkers, "queue_depth": 0}
	if !maps.Equal(got.WorkerPool, wantPool) {
		t.Errorf("worker_pool = %v; want %v", got.WorkerPool, wantPool)
	}
}

// /metrics shows the connections: open, idle, and the requests that came
// on a connection that had answered one before, counted as requests_total
// counts them: the server's own paths in neither.
func TestMetricsShowConnections(t *testing.T) {
	srv := newAppServer(defaultWorkers, defaultQueueSize, settings{})
	addr := startServing(t, srv)
	idle, k := dialKept(t, addr), dialKept(t, addr)
	idle.send(reqBytes("GET / HTTP/1.1\nHost: x"))
	idle.next("GET")
	for _, path := range []string{"/", "/health", "/api/hello", "/metrics", "/nope"} {
		k.send(reqBytes("GET " + path + " HTTP/1.1\nHost: x"))
		k.next("GET")
	}
	eventually(t, "both connections idle", func() bool { return srv.connStats().Idle == 2 })
	k.send(reqBytes("GET /metrics HTTP/1.1\nHost: x"))
	_, body := k.next("GET")
	var got metricsBody
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	// k's requests after its first: /api/hello and /nope count; /health and
	// /metrics, like the first, do not.
	want := connStats{Accepted: 2, Open: 2, Idle: 1, Reused: 2, BodyBudget: defaultBodyBudget}
	if got.Conns != want || got.Total != 4 {
		t.Errorf("connections = %+v, requests_total %d; want %+v, 4", got.Conns, got.Total, want)
	}
}

// With every worker busy and the queue full, /health and /metrics are still
// answered, and /metrics shows the pool as it is.
func TestProbesAnsweredWhenWorkersBusy(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	srv := newAppServer(2, 2, settings{})
	srv.router.handle("GET", "/block", blockUntil(started, release))
	addr := startServing(t, srv)
	done := make(chan struct{})
	for range 4 {
		go func() {
			getStatus(addr, "/block")
			done <- struct{}{}
		}()
	}
	<-started
	<-started
	eventually(t, "two running, two queued", func() bool { return srv.pool.stats().Queued == 2 })

	if resp, _ := getPath(t, addr, "/health"); resp.StatusCode != 200 {
		t.Errorf("/health with every worker busy = %d; want 200", resp.StatusCode)
	}
	resp, body := getPath(t, addr, "/metrics")
	var got metricsBody
	json.Unmarshal([]byte(body), &got)
	wantPool := map[string]int{"total_workers": 2, "active_workers": 2, "idle_workers": 0, "queue_depth": 2}
	if resp.StatusCode != 200 || !maps.Equal(got.WorkerPool, wantPool) {
		t.Errorf("/metrics = %d, worker_pool %v; want 200, %v", resp.StatusCode, got.WorkerPool, wantPool)
	}
	close(release)
	for range 2 {
		<-started
	}
	for range 4 {
		<-done
	}
}

func BenchmarkRecord(b *testing.B) {
	m := newMetrics()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.record("/api/hello", 200, false)
		}
	})
}
