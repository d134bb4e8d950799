package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"path"
	"runtime/debug"
	"slices"
	"strings"
)

// knownMethods are the methods this server knows: the eight of RFC 9110
// §9.3 and PATCH (RFC 5789), in the order an Allow field lists them. Any
// other method is 501 Not Implemented (RFC 9110 §15.6.2); a known method
// on a path that does not have it is 405 Method Not Allowed.
var knownMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"}

// Handler answers a request.
type Handler func(*Request) *Response

// router maps a path and a method to the handler that answers them. A
// pattern ending in "*" matches every path that starts with what precedes
// the "*"; where several do, the longest wins.
type router struct {
	routes   map[string]map[string]Handler // path, then method
	prefixes []string                      // the "/*" paths, less the "*"
}

func newRouter() *router {
	return &router{routes: make(map[string]map[string]Handler)}
}

// handle registers h to answer method on pattern: a path, or a prefix
// followed by "*".
func (rt *router) handle(method, pattern string, h Handler) {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		pattern = prefix
		rt.prefixes = append(rt.prefixes, prefix)
	}
	if rt.routes[pattern] == nil {
		rt.routes[pattern] = make(map[string]Handler)
	}
	rt.routes[pattern][method] = h
}

// dispatch answers req: it routes it and runs the handler it finds.
func (rt *router) dispatch(req *Request) *Response {
	h, refusal := rt.route(req)
	if refusal != nil {
		return refusal
	}
	return run(h, req)
}

// route finds the handler for req, or the response that answers req at
// once. It needs only the request's head, so a request it refuses is
// refused before its body is read. The checks run in the contract's order:
// the method (501), the path (404), the method on that path (405).
func (rt *router) route(req *Request) (Handler, *Response) {
	if !slices.Contains(knownMethods, req.Method) {
		return nil, errorResponse(501, "unknown method "+req.Method)
	}
	if req.Path == "*" { // the asterisk-form is for OPTIONS only (RFC 9112 §3.2.4)
		if req.Method != "OPTIONS" {
			return nil, errorResponse(400, "* is a target for OPTIONS only")
		}
		return nil, optionsResponse(rt.allMethods())
	}
	methods := rt.lookup(req.Path)
	if methods == nil {
		return nil, errorResponse(404, "no route for "+req.Path)
	}
	if h, ok := methods[req.Method]; ok {
		return h, nil
	}
	get, hasGET := methods["GET"]
	switch {
	case req.Method == "HEAD" && hasGET:
		return asGET(get), nil
	case req.Method == "OPTIONS":
		return nil, optionsResponse(methods)
	}
	resp := errorResponse(405, req.Method+" is not allowed on "+req.Path)
	resp.Headers = append(resp.Headers, Field{"Allow", allow(methods)})
	return nil, resp
}

// lookup returns the methods registered for path: its own, or those of the
// longest prefix it starts with.
func (rt *router) lookup(path string) map[string]Handler {
	if methods, ok := rt.routes[path]; ok {
		return methods
	}
	longest := ""
	for _, prefix := range rt.prefixes {
		if strings.HasPrefix(path, prefix) && len(prefix) > len(longest) {
			longest = prefix
		}
	}
	return rt.routes[longest] // nil when no prefix matched
}

// allMethods gathers the methods of every path, for "OPTIONS *".
func (rt *router) allMethods() map[string]Handler {
	all := make(map[string]Handler)
	for _, methods := range rt.routes {
		for method, h := range methods {
			all[method] = h
		}
	}
	return all
}

// allow lists methods for an Allow field (RFC 9110 §10.2.1): a GET path
// also answers HEAD, and every path answers OPTIONS.
func allow(methods map[string]Handler) string {
	_, hasGET := methods["GET"]
	var names []string
	for _, m := range knownMethods {
		if _, ok := methods[m]; ok || m == "OPTIONS" || m == "HEAD" && hasGET {
			names = append(names, m)
		}
	}
	return strings.Join(names, ", ")
}

// optionsResponse answers OPTIONS with the methods allowed and no body
// (RFC 9110 §9.3.7).
func optionsResponse(methods map[string]Handler) *Response {
	return &Response{Status: 200, Headers: []Field{{"Allow", allow(methods)}}}
}

// asGET runs a GET handler for a HEAD request as if it were a GET, so that
// the head it answers with is exactly the GET response's, Content-Length
// included (RFC 9110 §9.3.2). The writer leaves out the body.
func asGET(get Handler) Handler {
	return func(req *Request) *Response {
		asGet := *req
		asGet.Method = "GET"
		return get(&asGet)
	}
}

// run calls h and turns a panic into a 500, logged with its stack, so that
// one broken handler costs one response, not the server.
func run(h Handler, req *Request) (resp *Response) {
	defer func() {
		if p := recover(); p != nil {
			slog.Error("handler panicked", "method", req.Method, "path", req.Path, "panic", p, "stack", string(debug.Stack()))
			resp = errorResponse(500, "the handler failed")
		}
	}()
	if resp = h(req); resp == nil {
		panic("handler returned no response")
	}
	return resp
}

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
			return errorResponse(404, "no file at "+req.Path)
		}
		return serveFile(fsys, name)
	}
}

// maxStaticFileBytes bounds a file the static handlers serve. A file is
// read whole into memory and must reach the client within the write
// timeout, so past it the answer is 500, and the log names the file. 4 MiB
// is far above anything in www/; a site of larger files wants a server
// that streams them.
const maxStaticFileBytes = 4 << 20

// serveFile answers with the file name of fsys, typed by its extension.
// Only a regular file is served: opening a named pipe would block a worker
// until someone wrote to it.
func serveFile(fsys fs.FS, name string) *Response {
	info, err := fs.Stat(fsys, name)
	switch {
	case errors.Is(err, fs.ErrNotExist) || err == nil && !info.Mode().IsRegular():
		return errorResponse(404, "no file "+name)
	case err == nil && info.Size() > maxStaticFileBytes:
		err = fmt.Errorf("%d bytes, over the %d a static file may have", info.Size(), maxStaticFileBytes)
	}
	var body []byte
	if err == nil {
		body, err = fs.ReadFile(fsys, name)
	}
	if err != nil {
		slog.Error("cannot serve a static file", "name", name, "err", err)
		return errorResponse(500, "cannot serve this file")
	}
	return &Response{Status: 200, ContentType: contentTypes[path.Ext(name)], Body: body}
}
