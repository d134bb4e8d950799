//go:build exercises

package main

// The open exercises of this stage's README, as tests. Each fails on the
// server as shipped and passes once its exercise is solved:
//
//	go test -tags exercises -run TestExerciseGzip .
//	go test -tags exercises -run TestExercisePrometheus .

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// exerciseClient is net/http's client with its own gzip handling off: it
// sends the Accept-Encoding a test sets, or none, and hands back the body
// as it came.
func exerciseClient(t *testing.T) *http.Client {
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// fetchRaw sends method url with the request fields given as name, value
// pairs (an empty value sends no field), and returns the response and its
// body as it came on the wire.
func fetchRaw(t *testing.T, c *http.Client, method, url string, fields ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i+1] != "" {
			req.Header.Set(fields[i], fields[i+1])
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// varies reports whether resp's Vary field lists the request field name.
func varies(resp *http.Response, name string) bool {
	return hasToken(strings.Join(resp.Header.Values("Vary"), ","), name)
}

// A response to a request whose Accept-Encoding allows gzip comes
// compressed: Content-Encoding: gzip and the Content-Length of the
// compressed body (RFC 9110 §8.4, §12.5.3). A request that does not allow
// gzip gets the body as now. Either way the response says Vary:
// Accept-Encoding, so that a cache keeps the two apart. A HEAD gets the
// fields a GET gets. The paths are those whose bodies are text of a few
// hundred bytes or more.
func TestExerciseGzip(t *testing.T) {
	quietLog(t)
	base, client := startApp(t), exerciseClient(t)
	tests := []struct {
		accept string // the request's Accept-Encoding; "" sends none
		gzip   bool
	}{
		{"", false},
		{"gzip", true},
		{"deflate, gzip;q=0.5", true},
		{"br, GZIP", true},  // content codings are case-insensitive (§8.4.1)
		{"*", true},         // any coding not listed (§12.5.3)
		{"gzip;q=0", false}, // q=0: not acceptable
		{"br", false},
		{"identity", false},
	}
	for _, path := range []string{"/", "/about", "/static/index.html"} {
		plain, want := fetchRaw(t, client, "GET", base+path)
		if plain.StatusCode != 200 || len(want) == 0 {
			t.Fatalf("GET %s = %d with %d bytes; want 200 and a body", path, plain.StatusCode, len(want))
		}
		for _, tt := range tests {
			t.Run(path+" "+cmp.Or(tt.accept, "none"), func(t *testing.T) {
				resp, body := fetchRaw(t, client, "GET", base+path, "Accept-Encoding", tt.accept)
				if !varies(resp, "Accept-Encoding") {
					t.Errorf("Vary = %q; want it to list Accept-Encoding", resp.Header.Values("Vary"))
				}
				if !tt.gzip {
					if ce := resp.Header.Get("Content-Encoding"); ce != "" || !bytes.Equal(body, want) {
						t.Errorf("Content-Encoding %q, %d bytes; want none, and the %d bytes of the body as it is", ce, len(body), len(want))
					}
					return
				}
				if ce := resp.Header.Get("Content-Encoding"); ce != "gzip" {
					t.Fatalf("Content-Encoding = %q; want gzip", ce)
				}
				if resp.ContentLength != int64(len(body)) {
					t.Errorf("Content-Length = %d; want %d, the compressed body's", resp.ContentLength, len(body))
				}
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatalf("body is not gzip: %v", err)
				}
				if got, err := io.ReadAll(zr); err != nil || !bytes.Equal(got, want) {
					t.Errorf("decompressed body = %d bytes, %v; want the %d bytes of the body as it is", len(got), err, len(want))
				}
				head, headBody := fetchRaw(t, client, "HEAD", base+path, "Accept-Encoding", tt.accept)
				for _, name := range []string{"Content-Encoding", "Content-Length", "Vary"} {
					if got, want := head.Header.Get(name), resp.Header.Get(name); got != want {
						t.Errorf("HEAD: %s = %q; want GET's %q", name, got, want)
					}
				}
				if len(headBody) != 0 {
					t.Errorf("HEAD: a body of %d bytes; want none", len(headBody))
				}
			})
		}
	}
}

// /metrics answers in Prometheus's text format when the request's Accept
// weighs text/plain above application/json, q-values counted (RFC 9110
// §12.5.1), as a Prometheus scraper's does; otherwise, and with no Accept
// at all, in JSON as now. Both say Vary: Accept. The text has the counts by
// status and by path as counters, and the pool as gauges:
//
//	# TYPE http_requests_total counter
//	http_requests_total{status="200"} 2
//	# TYPE http_requests_by_path_total counter
//	http_requests_by_path_total{path="/api/hello"} 2
//	# TYPE worker_pool_total_workers gauge
//	worker_pool_total_workers 10
func TestExercisePrometheus(t *testing.T) {
	quietLog(t)
	base, client := startApp(t), exerciseClient(t)
	for _, path := range []string{"/api/hello", "/api/hello", "/nope"} {
		fetchRaw(t, client, "GET", base+path)
	}
	const scraper = "application/openmetrics-text;version=1.0.0;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
	tests := []struct {
		accept string // "" sends none
		text   bool
	}{
		{"", false},
		{"application/json", false},
		{"*/*", false},
		{"text/plain;q=0.2, application/json", false},
		{"text/plain", true},
		{"text/*", true},
		{scraper, true},
	}
	for _, tt := range tests {
		t.Run(cmp.Or(tt.accept, "none"), func(t *testing.T) {
			resp, body := fetchRaw(t, client, "GET", base+"/metrics", "Accept", tt.accept)
			if !varies(resp, "Accept") {
				t.Errorf("Vary = %q; want it to list Accept", resp.Header.Values("Vary"))
			}
			ct := resp.Header.Get("Content-Type")
			if !tt.text {
				if ct != "application/json" || !bytes.HasPrefix(body, []byte("{")) {
					t.Errorf("Content-Type %q, body %.40q; want application/json and the JSON of now", ct, body)
				}
				return
			}
			if !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
				t.Fatalf("Content-Type = %q; want text/plain; version=0.0.4; charset=utf-8", ct)
			}
			lines := strings.Split(string(body), "\n")
			for _, want := range []string{
				"# TYPE http_requests_total counter",
				`http_requests_total{status="200"} 2`,
				`http_requests_total{status="404"} 1`,
				"# TYPE http_requests_by_path_total counter",
				`http_requests_by_path_total{path="/api/hello"} 2`,
				`http_requests_by_path_total{path="/nope"} 1`,
				"# TYPE worker_pool_total_workers gauge",
				"worker_pool_total_workers 10",
			} {
				if !slices.Contains(lines, want) {
					t.Errorf("no line %q in:\n%s", want, body)
				}
			}
		})
	}
}

// quietLog sends the server's log nowhere while the test runs, so that its
// failures are not buried under request lines.
func quietLog(t *testing.T) {
	old := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	t.Cleanup(func() { slog.SetDefault(old) })
}
