package main

import "strings"

// Persistent connections (RFC 9112 §9.3). HTTP/1.1 keeps a connection open
// after a response, for the next request, unless either side says
// "Connection: close": a new TCP connection costs a handshake, a slow
// start and a teardown, where a kept one costs the server an idle
// goroutine. HTTP/1.0 kept none unless asked with "Connection: keep-alive".

// maxRequestsPerConn bounds the requests one connection may carry; the
// last of them says "Connection: close". A client then opens a new
// connection, which a load balancer may send to another server, and no
// connection keeps its state forever. It is nginx's keepalive_requests.
const maxRequestsPerConn = 1000

// keepAlive reports whether the client asks that the connection stay open
// after this request: an HTTP/1.1 request does unless it says
// "Connection: close"; an HTTP/1.0 request does only if it says
// "Connection: keep-alive".
func (r *Request) keepAlive() bool {
	options, _ := r.Header("connection")
	if hasToken(options, "close") {
		return false
	}
	return r.Version == "HTTP/1.1" || hasToken(options, "keep-alive")
}

// hasToken reports whether the comma-separated list of tokens v holds
// token, in any case: "Keep-Alive, Upgrade" holds "keep-alive" (RFC 9110
// §5.6.1, §7.6.1).
func hasToken(v, token string) bool {
	for t := range strings.SplitSeq(v, ",") {
		if strings.EqualFold(strings.Trim(t, " \t"), token) {
			return true
		}
	}
	return false
}

// persists decides, before resp is written, whether the connection stays
// open after it, so that the response can say so. It does not when the
// server answers one request per connection (-keepalive=false), or:
//   - the request could not be read to its end (intact is false: it could
//     not be framed, timed out, or was refused with its body unread), so
//     that where the next request would begin is unknown: reading on
//     would let bytes of a body pass for a request, which is how requests
//     are smuggled;
//   - the client asked to close, or is HTTP/1.0 and did not ask to keep;
//   - the server is overloaded (503), and sheds the connection too;
//   - the connection has carried maxRequestsPerConn requests;
//   - the server is shutting down.
func (c *conn) persists(req *Request, resp *Response, intact bool) bool {
	return c.srv.keepAlive && intact && req != nil && req.keepAlive() &&
		resp.Status != 503 && c.served+1 < maxRequestsPerConn && !c.srv.isDraining()
}

// connectionField is the Connection field a response carries: "close" on
// the connection's last, "keep-alive" to an HTTP/1.0 client whose
// connection stays, and none on an HTTP/1.1 one, which stays by default.
func connectionField(req *Request, keep bool) string {
	switch {
	case !keep:
		return "close"
	case req.Version == "HTTP/1.0":
		return "keep-alive"
	}
	return ""
}
