package main

import (
	"io/fs"
	"testing"
	"testing/fstest"
)

// The static handler serves what is under its root and nothing else, however
// the path is spelled.
func TestStaticFiles(t *testing.T) {
	files := fstest.MapFS{
		"index.html":     {Data: []byte("<p>home</p>")},
		"css/site.css":   {Data: []byte("p{}")},
		"notes.unknown":  {Data: []byte("?")},
		"with space.txt": {Data: []byte("spaced")},
		"pipe":           {Mode: fs.ModeNamedPipe},
		"big.txt":        {Data: make([]byte, maxStaticFileBytes+1)},
		"at_limit.txt":   {Data: make([]byte, maxStaticFileBytes)},
	}
	h := staticFiles(files, "/static/")
	tests := []struct {
		path        string
		status      int
		contentType string
	}{
		{"/static/index.html", 200, "text/html; charset=utf-8"},
		{"/static/css/site.css", 200, "text/css; charset=utf-8"},
		{"/static/with%20space.txt", 200, "text/plain; charset=utf-8"},
		{"/static/notes.unknown", 200, ""},
		{"/static/missing.html", 404, ""},
		{"/static/", 404, ""},
		{"/static/css", 404, ""},
		{"/static/../secret", 404, ""},
		{"/static/css/../index.html", 404, ""},
		{"/static/%2e%2e/secret", 404, ""},
		{"/static/%2E%2E%2Fsecret", 404, ""},
		{"/static/..%2fsecret", 404, ""},
		{"/static//etc/passwd", 404, ""},
		{"/static/%zz", 404, ""},
		{"/static/pipe", 404, ""},
		{"/static/at_limit.txt", 200, "text/plain; charset=utf-8"},
		{"/static/big.txt", 500, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			var resp *Response
			captureLog(t, func() { resp = h(get("GET", tt.path)) })
			if resp.Status != tt.status || tt.status == 200 && resp.ContentType != tt.contentType {
				t.Errorf("GET %s = %d %q; want %d %q", tt.path, resp.Status, resp.ContentType, tt.status, tt.contentType)
			}
		})
	}
}
