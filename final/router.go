package main

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
)

// knownMethods are the methods this server knows: the eight of RFC 9110
// §9.3 and PATCH (RFC 5789), in the order an Allow field lists them. Any
// other method is 501 Not Implemented (RFC 9110 §15.6.2); a known method
// on a path that does not have it is 405 Method Not Allowed.
var knownMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"}

// The router's refusals, besides the 404 that names its path.
var (
	errUnknownMethod    error = statusError{501, "unknown method"}
	errMethodNotAllowed error = statusError{405, "method not allowed on this path"}
	errAsteriskForm     error = statusError{400, "* is a target for OPTIONS only"} // RFC 9112 §3.2.4
)

// Handler answers a request.
type Handler func(*Request) *Response

// router maps a path and a method to the handler that answers them. A
// pattern ending in "*" matches every path that starts with what precedes
// the "*"; where several do, the longest wins.
type router struct {
	routes   map[string]map[string]Handler // path, then method
	prefixes []string                      // the "/*" paths, less the "*"
	internal map[string]bool               // the paths handleInternal registered
}

func newRouter() *router {
	return &router{routes: make(map[string]map[string]Handler), internal: make(map[string]bool)}
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

// handleInternal registers h as handle does, on one of the server's own
// paths, such as /health: see isInternal.
func (rt *router) handleInternal(method, path string, h Handler) {
	rt.handle(method, path, h)
	rt.internal[path] = true
}

// isInternal reports whether path is one of the server's own. Their
// answers are not counted: a probe every few seconds would drown the
// traffic they are there to show (the seed's _INTERNAL_PATHS). And they are
// answered without a worker: a probe must get through when every worker is
// busy, which is when it matters most.
func (rt *router) isInternal(path string) bool {
	return rt.internal[path]
}

// route finds the handler for req, or the error that refuses it, which
// carries its status. It needs only the request's head, so a request it
// refuses is refused before its body is read. The checks run in this
// order: the method (501), the "*" target (400 unless OPTIONS), the path
// (404), the method on that path (405).
func (rt *router) route(req *Request) (Handler, error) {
	if !slices.Contains(knownMethods, req.Method) {
		return nil, fmt.Errorf("%w: %s", errUnknownMethod, quote(req.Method))
	}
	if req.Path == "*" {
		if req.Method != "OPTIONS" {
			return nil, errAsteriskForm
		}
		return answerOptions(rt.allMethods()), nil
	}
	methods := rt.lookup(req.Path)
	if methods == nil {
		return nil, statusError{404, "no route for " + quote(req.Path)}
	}
	if h, ok := methods[req.Method]; ok {
		return h, nil
	}
	get, hasGET := methods["GET"]
	switch {
	case req.Method == "HEAD" && hasGET:
		return asGET(get), nil
	case req.Method == "OPTIONS":
		return answerOptions(methods), nil
	}
	return nil, fmt.Errorf("%w: %s", errMethodNotAllowed, quote(req.Method))
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

// allowed is the Allow field of path: the methods it answers, which a 405
// must list (RFC 9110 §15.5.6).
func (rt *router) allowed(path string) string {
	return allow(rt.lookup(path))
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

// answerOptions answers OPTIONS with the methods allowed and no body (RFC 9110
// §9.3.7).
func answerOptions(methods map[string]Handler) Handler {
	return func(*Request) *Response {
		return &Response{Status: 200, Headers: []Field{{"Allow", allow(methods)}}}
	}
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
			slog.Error("handler panicked", "method", clip(req.Method), "path", clip(req.Path), "panic", p, "stack", string(debug.Stack()))
			resp = errorResponse(500, "the handler failed")
		}
	}()
	if resp = h(req); resp == nil {
		panic("handler returned no response")
	}
	return resp
}
