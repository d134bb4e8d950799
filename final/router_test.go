package main

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// get is a request for method and path, as the parser would return it.
func get(method, path string) *Request {
	return &Request{Method: method, Target: path, Path: path, Version: "HTTP/1.1"}
}

// dispatch answers req as the server does, without a connection: with the
// response of the handler the router finds, or with the refusal of the
// router's error, its status, its text and, for a 405, Allow.
func dispatch(rt *router, req *Request) *Response {
	h, err := rt.route(req)
	var se statusError
	if !errors.As(err, &se) {
		return run(h, req)
	}
	resp := errorResponse(se.code, se.text)
	if se.code == 405 {
		resp.Headers = append(resp.Headers, Field{"Allow", rt.allowed(req.Path)})
	}
	return resp
}

func okHandler(body string) Handler {
	return func(*Request) *Response { return textResponse(200, body) }
}

// TestRouter holds the seed project's 6 router tests.
func TestRouter(t *testing.T) {
	t.Run("404_body_contains_path", func(t *testing.T) {
		resp := dispatch(newRouter(), get("GET", "/no/such/page"))
		if resp.Status != 404 || !strings.Contains(string(resp.Body), "/no/such/page") {
			t.Errorf("dispatch = %d %q; want 404 naming /no/such/page", resp.Status, resp.Body)
		}
	})
	t.Run("add_route_registers_handler", func(t *testing.T) {
		rt := newRouter()
		rt.handle("GET", "/x", okHandler("x"))
		if h, err := rt.route(get("GET", "/x")); h == nil || err != nil {
			t.Errorf("route(GET /x) = %v, %v; want the registered handler", h, err)
		}
	})
	t.Run("dispatches_to_registered_route", func(t *testing.T) {
		rt := newRouter()
		rt.handle("GET", "/a", okHandler("from a"))
		rt.handle("GET", "/b", okHandler("from b"))
		if resp := dispatch(rt, get("GET", "/b")); resp.Status != 200 || string(resp.Body) != "from b" {
			t.Errorf("dispatch(GET /b) = %d %q; want 200 %q", resp.Status, resp.Body, "from b")
		}
	})
	t.Run("handler_panic_returns_500", func(t *testing.T) {
		rt := newRouter()
		rt.handle("GET", "/boom", func(*Request) *Response { panic("boom") })
		var resp *Response
		logged := captureLog(t, func() { resp = dispatch(rt, get("GET", "/boom")) })
		if resp.Status != 500 {
			t.Errorf("dispatch(GET /boom) = %d; want 500", resp.Status)
		}
		if !strings.Contains(logged, "handler panicked") || !strings.Contains(logged, "router_test.go") {
			t.Errorf("log = %q; want the panic with its stack", logged)
		}
	})
	t.Run("returns_404_for_root_when_not_registered", func(t *testing.T) {
		if resp := dispatch(newRouter(), get("GET", "/")); resp.Status != 404 {
			t.Errorf("dispatch(GET /) = %d; want 404", resp.Status)
		}
	})
	t.Run("returns_404_for_unknown_path", func(t *testing.T) {
		rt := newRouter()
		rt.handle("GET", "/known", okHandler("k"))
		if resp := dispatch(rt, get("GET", "/unknown")); resp.Status != 404 {
			t.Errorf("dispatch(GET /unknown) = %d; want 404", resp.Status)
		}
	})
}

// captureLog runs f with the default logger writing into a buffer, and
// returns what was logged.
func captureLog(t *testing.T, f func()) string {
	t.Helper()
	var buf lockedBuffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)
	f()
	return buf.String()
}

// lockedBuffer is a buffer that a server's goroutines may log into while
// the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func header(resp *Response, name string) string {
	for _, f := range resp.Headers {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// TestRouterAnswers covers what the router answers by itself, in its order
// of checks: method (501), path (404), method on the path (405).
func TestRouterAnswers(t *testing.T) {
	rt := newRouter()
	rt.handle("GET", "/page", okHandler("page"))
	rt.handle("POST", "/form", okHandler("posted"))
	rt.handle("GET", "/files/*", okHandler("file"))
	tests := []struct {
		name, method, path string
		status             int
		allow, body        string
	}{
		{"get", "GET", "/page", 200, "", "page"},
		{"unknown_method", "BREW", "/page", 501, "", ""},
		{"unknown_method_before_unknown_path", "BREW", "/nowhere", 501, "", ""},
		{"unknown_path_before_wrong_method", "DELETE", "/nowhere", 404, "", ""},
		{"wrong_method", "DELETE", "/page", 405, "GET, HEAD, OPTIONS", ""},
		{"post_only_path", "GET", "/form", 405, "POST, OPTIONS", ""},
		{"head_runs_get", "HEAD", "/page", 200, "", "page"},
		{"head_without_get", "HEAD", "/form", 405, "POST, OPTIONS", ""},
		{"options", "OPTIONS", "/page", 200, "GET, HEAD, OPTIONS", ""},
		{"options_asterisk", "OPTIONS", "*", 200, "GET, HEAD, POST, OPTIONS", ""},
		{"asterisk_with_get", "GET", "*", 400, "", ""},
		{"prefix", "GET", "/files/a/b.txt", 200, "", "file"},
		{"prefix_itself", "GET", "/files/", 200, "", "file"},
		{"prefix_without_slash", "GET", "/files", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := dispatch(rt, get(tt.method, tt.path))
			if resp.Status != tt.status || header(resp, "Allow") != tt.allow {
				t.Errorf("%s %s = %d, Allow %q; want %d, Allow %q", tt.method, tt.path, resp.Status, header(resp, "Allow"), tt.status, tt.allow)
			}
			if tt.body != "" && string(resp.Body) != tt.body {
				t.Errorf("%s %s body = %q; want %q", tt.method, tt.path, resp.Body, tt.body)
			}
			if tt.method == "OPTIONS" && tt.status == 200 && len(resp.Body) != 0 {
				t.Errorf("OPTIONS body = %q; want none (Content-Length: 0)", resp.Body)
			}
		})
	}
}

// HEAD runs the GET handler as if for GET, so a handler that echoes the
// method gives HEAD the same Content-Length as GET (RFC 9110 §9.3.2).
func TestHeadRunsGetAsGet(t *testing.T) {
	rt := newRouter()
	rt.handle("GET", "/m", func(req *Request) *Response { return textResponse(200, "method "+req.Method) })
	if got := dispatch(rt, get("HEAD", "/m")); string(got.Body) != "method GET" {
		t.Errorf("HEAD body = %q; want the GET handler's %q", got.Body, "method GET")
	}
}

func TestRunNilResponseIs500(t *testing.T) {
	var resp *Response
	captureLog(t, func() { resp = run(func(*Request) *Response { return nil }, get("GET", "/")) })
	if resp.Status != 500 {
		t.Errorf("run(nil handler) = %d; want 500", resp.Status)
	}
}

// A refusal names the client's input only quoted and cut to maxQuote, so
// an 8000-byte path, or a method, cannot fill a response with raw bytes.
func TestRefusalsQuoteCapped(t *testing.T) {
	rt := newRouter()
	rt.handle("GET", "/page", okHandler("page"))
	long := "/" + strings.Repeat("p", 7999)
	for _, req := range []*Request{get("GET", long), get("POST", "/page"), get(strings.Repeat("M", 7999), "/page")} {
		resp := dispatch(rt, req)
		if len(resp.Body) >= 200 || strings.Contains(string(resp.Body), strings.Repeat("p", maxQuote+1)) {
			t.Errorf("%s %.20s... = %d, %d-byte body %q; want under 200 bytes", req.Method[:min(len(req.Method), 8)], req.Path, resp.Status, len(resp.Body), resp.Body)
		}
	}
	if body := string(dispatch(rt, get("GET", "/a\x00b")).Body); !strings.Contains(body, `"/a\x00b"`) {
		t.Errorf("404 body = %q; want the path quoted, \"/a\\x00b\"", body)
	}
}

// A large body sent to a path that refuses it before reading a byte of it
// (404, 405), or that refuses it by its declared size (413), gets that
// answer, every time, not a reset.
func TestRefusalsReachAClientStillSending(t *testing.T) {
	base := startApp(t)
	client := newClient(t)
	body := bytes.Repeat([]byte("x"), 2<<20)
	for _, tt := range []struct {
		path string
		want int
	}{{"/nope", 404}, {"/api/hello", 405}, {"/api/echo", 413}} {
		t.Run(strconv.Itoa(tt.want), func(t *testing.T) {
			for i := range 40 {
				resp, err := client.Post(base+tt.path, "application/octet-stream", bytes.NewReader(body))
				if err != nil {
					t.Fatalf("try %d: %v; want %d", i, err, tt.want)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tt.want {
					t.Fatalf("try %d: status %d; want %d", i, resp.StatusCode, tt.want)
				}
			}
		})
	}
}
