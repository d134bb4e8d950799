package main

import (
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
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

// Under a directory opened as an os.Root, a symbolic link that leads out of
// it, absolute or relative, as the file or as a directory on the way, or
// that loops, is no file: 404, and one line at INFO that names it, not a
// 500 logged as an error. A link that stays inside is followed.
func TestStaticLinks(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	secret := filepath.Join(outside, "secret.txt")
	for file, text := range map[string]string{secret: "secret", filepath.Join(dir, "page.txt"): "page"} {
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"inside.txt":   "page.txt",
		"absolute.txt": secret,
		"relative.txt": filepath.Join("..", filepath.Base(outside), "secret.txt"),
		"up":           "..",
		"loop.txt":     "loop.txt",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Skipf("cannot make symbolic links here: %v", err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	h := staticFiles(root.FS(), "/static/")
	tests := []struct {
		name   string
		status int
	}{
		{"inside.txt", 200},
		{"absolute.txt", 404},
		{"relative.txt", 404},
		{"up/" + filepath.Base(outside) + "/secret.txt", 404},
		{"loop.txt", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var resp *Response
			logged := captureLog(t, func() { resp = h(get("GET", "/static/"+tt.name)) })
			if resp.Status != tt.status || tt.status == 200 && string(resp.Body) != "page" {
				t.Errorf("GET /static/%s = %d %q; want %d", tt.name, resp.Status, resp.Body, tt.status)
			}
			wantLog := tt.status == 404 && strings.Count(logged, "\n") == 1 &&
				strings.Contains(logged, "level=INFO ") && strings.Contains(logged, "name="+tt.name+"\n")
			if tt.status == 200 && logged != "" || tt.status == 404 && !wantLog {
				t.Errorf("log = %q; want one INFO line naming %q for a refused link, nothing else", logged, tt.name)
			}
		})
	}
}

// From a directory on disk, a name that no file could have is a 404, as
// it is from the files built into the binary, and it logs nothing: a
// client could otherwise fill the error log with 500s at will.
func TestStaticNamesNoFileCouldHave(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "page.txt"), []byte("page"), 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	h := staticFiles(root.FS(), "/static/")
	for _, name := range []string{"page.txt/x", "a%00b", strings.Repeat("a", 300)} {
		t.Run(clip(name), func(t *testing.T) {
			var resp *Response
			logged := captureLog(t, func() { resp = h(get("GET", "/static/"+name)) })
			if resp.Status != 404 || logged != "" {
				t.Errorf("GET /static/%s = %d, logging %q; want 404, nothing logged", clip(name), resp.Status, logged)
			}
		})
	}
}

// A static file carries a strong ETag, and Last-Modified where the file
// system keeps times; a request whose validators match gets 304 with no
// body (RFC 9110 §13.1, §13.2.2).
func TestConditionalGET(t *testing.T) {
	mod := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	files := fstest.MapFS{"page.html": {Data: []byte("<p>v1</p>"), ModTime: mod}}
	h := staticFiles(files, "/static/")
	fetch := func(fields ...Field) *Response {
		req := get("GET", "/static/page.html")
		req.Headers = fields
		return h(req)
	}
	first := fetch()
	etag := header(first, "ETag")
	if first.Status != 200 || len(etag) != 18 || etag[0] != '"' || header(first, "Last-Modified") != "Mon, 30 Nov 2026 12:00:00 GMT" {
		t.Fatalf("GET = %d, ETag %q, Last-Modified %q; want 200, a strong ETag, the file's time", first.Status, etag, header(first, "Last-Modified"))
	}
	tests := []struct {
		name   string
		fields []Field
		want   int
	}{
		{"no_validators", nil, 200},
		{"if_none_match_same", []Field{{"if-none-match", etag}}, 304},
		{"if_none_match_weak", []Field{{"if-none-match", "W/" + etag}}, 304},
		{"if_none_match_in_list", []Field{{"if-none-match", `"a", W/"b,c", ` + etag}}, 304},
		{"if_none_match_star", []Field{{"if-none-match", "*"}}, 304},
		{"if_none_match_other", []Field{{"if-none-match", `"other"`}}, 200},
		{"if_none_match_malformed", []Field{{"if-none-match", "no-quotes"}}, 200},
		{"if_none_match_unclosed", []Field{{"if-none-match", `"abc`}}, 200},
		{"if_none_match_only_w", []Field{{"if-none-match", "W/"}}, 200},
		{"if_modified_since_equal", []Field{{"if-modified-since", "Mon, 30 Nov 2026 12:00:00 GMT"}}, 304},
		{"if_modified_since_later", []Field{{"if-modified-since", "Tue, 01 Dec 2026 00:00:00 GMT"}}, 304},
		{"if_modified_since_earlier", []Field{{"if-modified-since", "Mon, 30 Nov 2026 11:59:59 GMT"}}, 200},
		{"if_modified_since_rfc_850", []Field{{"if-modified-since", "Monday, 30-Nov-26 12:00:00 GMT"}}, 304},
		{"if_modified_since_asctime", []Field{{"if-modified-since", "Mon Nov 30 12:00:00 2026"}}, 304},
		{"if_modified_since_not_a_date", []Field{{"if-modified-since", "yesterday"}}, 200},
		{"if_none_match_wins", []Field{{"if-none-match", `"other"`}, {"if-modified-since", "Tue, 01 Dec 2026 00:00:00 GMT"}}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := fetch(tt.fields...)
			if resp.Status != tt.want || header(resp, "ETag") != etag {
				t.Errorf("status %d, ETag %q; want %d, %q", resp.Status, header(resp, "ETag"), tt.want, etag)
			}
			if resp.Status == 304 && len(resp.Body) != 0 {
				t.Errorf("304 with a body %q", resp.Body)
			}
		})
	}
	t.Run("changed_file_new_etag", func(t *testing.T) {
		files["page.html"] = &fstest.MapFile{Data: []byte("<p>v2</p>"), ModTime: mod.Add(time.Hour)}
		if resp := fetch(Field{"if-none-match", etag}); resp.Status != 200 || header(resp, "ETag") == etag {
			t.Errorf("after a change = %d, ETag %q; want 200 and a new ETag", resp.Status, header(resp, "ETag"))
		}
	})
	t.Run("embedded_files_have_no_time", func(t *testing.T) {
		resp := staticFile(embeddedFiles(), "index.html")(get("GET", "/about"))
		if resp.Status != 200 || header(resp, "ETag") == "" || header(resp, "Last-Modified") != "" {
			t.Errorf("/about = %d, ETag %q, Last-Modified %q; want an ETag and no time", resp.Status, header(resp, "ETag"), header(resp, "Last-Modified"))
		}
	})
}

// Over the wire, with net/http's client: the ETag of /about brings a 304
// with no body, for GET and for HEAD.
func TestConditionalGETOnTheWire(t *testing.T) {
	base := startApp(t)
	resp, err := http.Get(base + "/about")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	for _, method := range []string{"GET", "HEAD"} {
		req, _ := http.NewRequest(method, base+"/about", nil)
		req.Header.Set("If-None-Match", etag)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 304 || len(body) != 0 || resp.Header.Get("ETag") != etag {
			t.Errorf("%s with If-None-Match = %d, %d bytes, ETag %q; want 304, none, %q", method, resp.StatusCode, len(body), resp.Header.Get("ETag"), etag)
		}
	}
}
