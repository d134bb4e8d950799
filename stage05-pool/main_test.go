package main

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Each route over a real socket, with the net/http client as the peer.
func TestRoutes(t *testing.T) {
	base := startApp(t)
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
		{"GET", "/nope", 404, "text/plain; charset=utf-8", `...no route for "/nope"`},
		{"POST", "/api/hello", 405, "text/plain; charset=utf-8", "...405 Method Not Allowed"},
		{"GET", "/api/echo", 405, "text/plain; charset=utf-8", "...405 Method Not Allowed"},
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
			if resp.StatusCode == 405 && resp.Header.Get("Allow") == "" {
				t.Errorf("%s %s = 405 without Allow", tt.method, tt.path)
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
	base := startApp(t)
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
	addr := strings.TrimPrefix(startApp(t), "http://")
	for target, allow := range map[string]string{
		"/api/hello": "GET, HEAD, OPTIONS",
		"/api/echo":  "POST, OPTIONS",
		"*":          "GET, HEAD, POST, OPTIONS", // every method of every path
	} {
		t.Run(target, func(t *testing.T) {
			got := sendRaw(t, addr, reqBytes("OPTIONS "+target+" HTTP/1.1\nHost: x"))
			resp, body := parseResponse(t, got, "OPTIONS")
			if resp.StatusCode != 200 || resp.Header.Get("Allow") != allow ||
				resp.Header.Get("Content-Length") != "0" || body != "" {
				t.Errorf("OPTIONS %s = %q; want 200, Allow: %s, Content-Length: 0", target, got, allow)
			}
		})
	}
}

// A panicking handler costs one 500; the server goes on serving.
func TestPanicKeepsServing(t *testing.T) {
	srv := newAppServer(defaultWorkers, defaultQueueSize, settings{})
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

// POST /api/echo answers with what the server read, however the client
// framed the body; GET on it is 405 with what it allows.
func TestEcho(t *testing.T) {
	base := startApp(t)
	client := newClient(t)
	client.Transport.(*http.Transport).ExpectContinueTimeout = time.Minute
	unsized := func(s string) io.Reader { return io.MultiReader(strings.NewReader(s)) }
	tests := []struct {
		name   string
		body   io.Reader
		header http.Header
		want   map[string]any
	}{
		{"content_length", strings.NewReader("hello"), http.Header{"Content-Type": {"text/plain"}},
			map[string]any{"method": "POST", "path": "/api/echo", "query": "x=1", "content_type": "text/plain",
				"body_length": 5.0, "body_encoding": "utf-8", "body": "hello"}},
		{"chunked", unsized("hello, chunks"), nil,
			map[string]any{"body_length": 13.0, "body": "hello, chunks"}},
		{"expect_100_continue", strings.NewReader("waited"), http.Header{"Expect": {"100-continue"}},
			map[string]any{"body_length": 6.0, "body": "waited"}},
		{"not_utf_8", bytes.NewReader([]byte{0xff, 0x00, 0xfe}), nil,
			map[string]any{"body_length": 3.0, "body_encoding": "base64", "body": "/wD+"}},
		{"empty", nil, nil, map[string]any{"body_length": 0.0, "body": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", base+"/api/echo?x=1", tt.body)
			maps.Copy(req.Header, tt.header)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
				t.Fatalf("POST /api/echo = %d, %v; want 200 and JSON", resp.StatusCode, err)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %#v; want %#v (all: %v)", k, got[k], v, got)
				}
			}
		})
	}
	t.Run("over_the_body_limit", func(t *testing.T) {
		// Expecting 100 Continue, the client sends the body only if the
		// server asks for it, and a 413 comes before a byte of it is sent
		// (TestRefusalsReachAClientStillSending sends the body anyway).
		req, _ := http.NewRequest("POST", base+"/api/echo", bytes.NewReader(make([]byte, maxBodyBytes+1)))
		req.Header.Set("Expect", "100-continue")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 413 {
			t.Errorf("POST of %d bytes = %d; want 413", maxBodyBytes+1, resp.StatusCode)
		}
	})
	t.Run("get_is_405", func(t *testing.T) {
		resp, err := client.Get(base + "/api/echo")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST, OPTIONS" {
			t.Errorf("GET /api/echo = %d, Allow %q; want 405, Allow: POST, OPTIONS", resp.StatusCode, resp.Header.Get("Allow"))
		}
	})
}
