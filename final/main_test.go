package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// newAppServer is this stage's server: its routes, a pool of the given
// size, its metrics, and the default limits.
func newAppServer(workers, queueSize int) *server {
	p, m := newPool(workers, queueSize), newMetrics()
	return newServer(routes(embeddedFiles(), m, p), p, m)
}

// startApp serves this stage's routes on a free port and returns the URL.
func startApp(t *testing.T) string {
	return "http://" + startServing(t, newAppServer(defaultWorkers, defaultQueueSize))
}

// Each route over a real socket, with the net/http client as the peer.
func TestRoutes(t *testing.T) {
	checkRoutes(t, startApp(t))
}

// checkRoutes checks every route of the server at base.
func checkRoutes(t *testing.T, base string) {
	index, err := www.ReadFile("www/index.html")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path string
		status       int
		contentType  string
		body         string // the whole body, or a part of it after "..."
	}{
		{"GET", "/", 200, "text/plain; charset=utf-8", "...GET /api/hello"},
		{"GET", "/api/hello", 200, "application/json", "{\n" +
			`  "message": "Hello from the scratch-built HTTP server!",` + "\n" +
			`  "method": "GET",` + "\n" +
			`  "path": "/api/hello",` + "\n" +
			`  "server": "go-raw/1.0"` + "\n}\n"},
		{"GET", "/about", 200, "text/html; charset=utf-8", string(index)},
		{"GET", "/static/index.html", 200, "text/html; charset=utf-8", string(index)},
		{"GET", "/static/../main.go", 404, "text/plain; charset=utf-8", "...404 Not Found"},
		{"GET", "/nope", 404, "text/plain; charset=utf-8", "...no route for /nope"},
		{"POST", "/api/hello", 405, "text/plain; charset=utf-8", "...POST is not allowed"},
		{"BREW", "/", 501, "text/plain; charset=utf-8", "...501 Not Implemented"},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, base+tt.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != tt.contentType {
				t.Errorf("%s %s = %d %q; want %d %q", tt.method, tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), tt.status, tt.contentType)
			}
			if part, ok := strings.CutPrefix(tt.body, "..."); ok && !strings.Contains(string(body), part) || !ok && string(body) != tt.body {
				t.Errorf("%s %s body = %q; want %q", tt.method, tt.path, body, tt.body)
			}
		})
	}
}

// A HEAD answer has the GET answer's fields, Content-Length included, and no
// body; /api/hello echoes the method, and still says "GET" (RFC 9110 §9.3.2).
func TestHeadMatchesGet(t *testing.T) {
	checkHead(t, startApp(t))
}

// checkHead compares HEAD with GET on the server at base.
func checkHead(t *testing.T, base string) {
	for _, path := range []string{"/", "/api/hello", "/about"} {
		t.Run(path, func(t *testing.T) {
			getResp, err := http.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(getResp.Body)
			getResp.Body.Close()
			headResp, err := http.Head(base + path)
			if err != nil {
				t.Fatal(err)
			}
			headResp.Body.Close()
			if headResp.ContentLength != int64(len(body)) || headResp.Header.Get("Content-Type") != getResp.Header.Get("Content-Type") {
				t.Errorf("HEAD %s = length %d, %q; want GET's %d, %q", path,
					headResp.ContentLength, headResp.Header.Get("Content-Type"), len(body), getResp.Header.Get("Content-Type"))
			}
		})
	}
	if resp, err := http.Get(base + "/api/hello"); err == nil {
		var hello map[string]string
		json.NewDecoder(resp.Body).Decode(&hello)
		resp.Body.Close()
		if hello["method"] != "GET" {
			t.Errorf("/api/hello method = %q; want GET", hello["method"])
		}
	}
}

func TestOptions(t *testing.T) {
	addr := startServing(t, newAppServer(defaultWorkers, defaultQueueSize))
	for _, target := range []string{"/api/hello", "*"} {
		t.Run(target, func(t *testing.T) {
			got := exchange(t, addr, reqBytes("OPTIONS "+target+" HTTP/1.1\nHost: x"))
			resp, body := parseResponse(t, got, "OPTIONS")
			if resp.StatusCode != 200 || resp.Header.Get("Allow") != "GET, HEAD, OPTIONS" ||
				resp.Header.Get("Content-Length") != "0" || body != "" {
				t.Errorf("OPTIONS %s = %q; want 200, Allow: GET, HEAD, OPTIONS, Content-Length: 0", target, got)
			}
		})
	}
}

// A panicking handler costs one 500; the server goes on serving.
func TestPanicKeepsServing(t *testing.T) {
	srv := newAppServer(defaultWorkers, defaultQueueSize)
	srv.router.handle("GET", "/panic", func(*Request) *Response { panic("deliberate") })
	base := "http://" + startServing(t, srv)
	captureLog(t, func() {
		for _, want := range []struct {
			path   string
			status int
		}{{"/panic", 500}, {"/api/hello", 200}, {"/panic", 500}, {"/", 200}} {
			resp, err := http.Get(base + want.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want.status {
				t.Errorf("GET %s = %d; want %d", want.path, resp.StatusCode, want.status)
			}
		}
	})
}
