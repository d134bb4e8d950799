package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"path"
	"strings"
)

// contentTypes maps a file extension to its Content-Type. A table of our
// own, rather than package mime's, gives the same answer on every machine:
// mime also reads the system's tables, which differ from one to the next.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".json": "application/json",
	".txt":  "text/plain; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".jpg":  "image/jpeg",
	".ico":  "image/x-icon",
}

// staticFile answers with the file name of fsys.
func staticFile(fsys fs.FS, name string) Handler {
	return func(*Request) *Response { return serveFile(fsys, name) }
}

// staticFiles answers a path under prefix with the file of that name in
// fsys: with prefix "/static/", /static/a/b.css is a/b.css. Percent-escapes
// are decoded first, then fs.ValidPath refuses any name with a ".." element,
// so no request, escaped or not, reads outside fsys.
func staticFiles(fsys fs.FS, prefix string) Handler {
	return func(req *Request) *Response {
		name, err := url.PathUnescape(strings.TrimPrefix(req.Path, prefix))
		if err != nil || !fs.ValidPath(name) {
			return errorResponse(404, "no file at "+quote(req.Path))
		}
		return serveFile(fsys, name)
	}
}

// maxStaticFileBytes bounds a file the static handlers serve. A file is
// read whole into memory and sent in one write, so past it the answer is
// 500, and the log names the file. 4 MiB is far above anything in www/; a
// site of larger files wants a server that streams them.
const maxStaticFileBytes = 4 << 20

// serveFile answers with the file name of fsys, typed by its extension.
// Only a regular file is served: opening a named pipe would block whoever
// serves the request until someone wrote to it.
func serveFile(fsys fs.FS, name string) *Response {
	info, err := fs.Stat(fsys, name)
	switch {
	case errors.Is(err, fs.ErrNotExist) || err == nil && !info.Mode().IsRegular():
		return errorResponse(404, "no file "+quote(name))
	case err == nil && info.Size() > maxStaticFileBytes:
		err = fmt.Errorf("%d bytes, over the %d a static file may have", info.Size(), maxStaticFileBytes)
	}
	var body []byte
	if err == nil {
		body, err = fs.ReadFile(fsys, name)
	}
	if err != nil {
		slog.Error("cannot serve a static file", "name", clip(name), "err", err)
		return errorResponse(500, "cannot serve this file")
	}
	return &Response{Status: 200, ContentType: contentTypes[path.Ext(name)], Body: body}
}
