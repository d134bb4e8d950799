package main

import (
	"cmp"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxTrackedPaths bounds the paths counted one by one. Past it, a new path
// counts under otherPaths, so that a client inventing paths cannot grow the
// server's memory without bound. It is well above this server's handful of
// routes, for the 404s worth seeing; otherwise arbitrary. A path is counted
// clipped to its first 64 bytes, so that 100 paths of 8 KiB each cannot make
// every /metrics answer megabytes long.
const maxTrackedPaths = 100

// otherPaths is the path that counts every path past maxTrackedPaths.
const otherPaths = "(other)"

// metrics counts the requests the server answers. One mutex guards it all:
// a record takes a few map updates, far less time than anything else a
// request costs, and a /metrics report then reads one consistent state.
type metrics struct {
	started  time.Time
	mu       sync.Mutex
	total    int64
	byStatus map[int]int64
	byPath   map[string]int64
	reused   int64 // requests that came on a connection that had answered one before
}

// connStats is what /metrics shows of the connections, which persist: how
// many the server has taken, how many are open now, how many of those wait
// idle for a next request, and how many requests came on a connection that
// had answered one before, each a TCP handshake saved (counted as
// requests_total is, without the server's own paths); and the bytes of
// request bodies they hold in memory, against the budget for them.
type connStats struct {
	Accepted   int64 `json:"accepted"`
	Open       int   `json:"open"`
	Idle       int   `json:"idle"`
	Reused     int64 `json:"requests_on_reused"`
	BodyBytes  int64 `json:"body_bytes_held"`
	BodyBudget int64 `json:"body_budget_bytes"`
}

func newMetrics() *metrics {
	return &metrics{started: time.Now(), byStatus: make(map[int]int64), byPath: make(map[string]int64)}
}

// record counts one answer. path is empty for a request answered before its
// path was known (a 400, 408, 414, 431, 505, or 501 for a transfer coding,
// from the parser, or a 503 over the connection cap): it counts in the total
// and by status only. reused says whether the request came on a connection
// that had answered one before.
func (m *metrics) record(path string, status int, reused bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.total++
	m.byStatus[status]++
	if reused {
		m.reused++
	}
	if path == "" {
		return
	}
	path = clip(path)
	if _, tracked := m.byPath[path]; !tracked && len(m.byPath) >= maxTrackedPaths {
		path = otherPaths
	} else if !tracked {
		path = strings.Clone(path) // a key cut from the request's head would keep all of the head
	}
	m.byPath[path]++
}

// uptime is the time since the server started, in seconds to the
// millisecond.
func (m *metrics) uptime() float64 {
	return math.Round(time.Since(m.started).Seconds()*1000) / 1000
}

// health answers /health: a liveness probe for Docker, Kubernetes or a load
// balancer. Answering at all is the proof of life.
func (m *metrics) health(*Request) *Response {
	return jsonResponse(200, struct {
		Status    string  `json:"status"`
		Uptime    float64 `json:"uptime_seconds"`
		Timestamp string  `json:"timestamp"`
	}{"ok", m.uptime(), time.Now().UTC().Format(time.RFC3339)})
}

// report returns the handler of /metrics, which shows the counts, the pool
// p as it is at that moment, as worker_pool (the seed called it
// thread_pool, but goroutines are not threads), and the connections as
// conns gives them.
func (m *metrics) report(p *pool, conns func() connStats) Handler {
	return func(*Request) *Response {
		connections := conns()
		m.mu.Lock()
		byStatus := make(map[string]int64, len(m.byStatus))
		for status, n := range m.byStatus {
			byStatus[strconv.Itoa(status)] = n
		}
		total, byPath := m.total, sortPaths(m.byPath)
		connections.Reused = m.reused
		m.mu.Unlock()
		return jsonResponse(200, struct {
			Uptime      float64          `json:"uptime_seconds"`
			Total       int64            `json:"requests_total"`
			ByStatus    map[string]int64 `json:"requests_by_status"`
			ByPath      pathCounts       `json:"requests_by_path"`
			WorkerPool  poolStats        `json:"worker_pool"`
			Connections connStats        `json:"connections"`
		}{m.uptime(), total, byStatus, byPath, p.stats(), connections})
	}
}

// pathCounts is requests_by_path: a JSON object whose members come highest
// count first, ties by path. encoding/json writes a map's keys sorted by
// key, so an order of our own takes a type of its own.
type pathCounts []pathCount

type pathCount struct {
	path string
	n    int64
}

func sortPaths(byPath map[string]int64) pathCounts {
	counts := make(pathCounts, 0, len(byPath))
	for _, path := range slices.Sorted(maps.Keys(byPath)) {
		counts = append(counts, pathCount{path, byPath[path]})
	}
	slices.SortStableFunc(counts, func(a, b pathCount) int { return cmp.Compare(b.n, a.n) })
	return counts
}

// MarshalJSON writes {"/a": 3, "/b": 1} in the slice's order.
func (pc pathCounts) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, c := range pc {
		if i > 0 {
			b = append(b, ',')
		}
		key, err := json.Marshal(c.path) // quoted and escaped
		if err != nil {
			return nil, err
		}
		b = append(append(b, key...), ':')
		b = strconv.AppendInt(b, c.n, 10)
	}
	return append(b, '}'), nil
}
