package main

import "strings"

// Header fields: "name: value" lines (RFC 9112 §5), their names, their
// values, and the one field every HTTP/1.1 request needs, Host (§3.2).

// Field is one header field. The names of a request's fields are
// lowercased as they are read, since field names are case-insensitive
// (RFC 9110 §5.1); a response's are written as given.
type Field struct {
	Name, Value string
}

// Header returns the value of the field named name, which must be
// lowercase, and whether the request has that field. A field sent on
// several lines has one value, as joinFieldValues joins them.
func (r *Request) Header(name string) (string, bool) {
	value, found := "", false
	var rest []string
	for _, f := range r.Headers {
		switch {
		case f.Name != name:
		case !found:
			value, found = f.Value, true
		default:
			rest = append(rest, f.Value)
		}
	}
	if rest != nil {
		value = joinFieldValues(value, rest)
	}
	return value, found
}

// joinFieldValues joins the values of a field sent on several lines into
// one, in order, with ", " (RFC 9110 §5.3). An empty value adds only its
// comma, as a value never ends in whitespace. Joining once, when all the
// values are known, keeps many repeated lines linear: joining line by line
// would copy the growing value again for each.
func joinFieldValues(first string, rest []string) string {
	var b strings.Builder
	b.WriteString(first)
	for _, v := range rest {
		b.WriteByte(',')
		if v != "" {
			b.WriteByte(' ')
			b.WriteString(v)
		}
	}
	return b.String()
}

// lowerFieldNames lowercases, in place, the name of every field line of a
// head read by readHead: the bytes before the first colon of each line but
// the first.
func lowerFieldNames(head []byte) {
	inName := false
	for i, c := range head {
		switch {
		case c == '\n':
			inName = true
		case c == ':':
			inName = false
		case inName && 'A' <= c && c <= 'Z':
			head[i] = c + 'a' - 'A'
		}
	}
}

// parseFields reads "name: value" lines (RFC 9112 §5) into r.Headers.
func (r *Request) parseFields(lines string) error {
	if n := strings.Count(lines, "\n"); cap(r.Headers) < n { // else the last request's array is big enough
		r.Headers = make([]Field, 0, n)
	}
	seenHost := false
	for lines != "" {
		var line string
		line, lines, _ = strings.Cut(lines, "\n")
		name, value, ok := strings.Cut(line, ":")
		switch {
		case line[0] == ' ' || line[0] == '\t':
			// Obsolete line folding, or whitespace before the first
			// field, which could hide a field from one reader but not
			// another (RFC 9112 §5.2, §2.2).
			return badRequest("field line starts with whitespace", line)
		case !ok:
			return badRequest("field line without a colon", line)
		case strings.TrimRight(name, " \t") != name:
			return badRequest("whitespace before colon", line) // §5.1: MUST be 400
		case !isToken(name):
			return badRequest("invalid field name", line)
		}
		// Optional whitespace around the value is not part of it (§5.1).
		value = strings.Trim(value, " \t")
		if strings.ContainsFunc(value, func(c rune) bool { return c < ' ' && c != '\t' || c == 0x7f }) {
			return badRequest("control character in field value", line) // RFC 9110 §5.5
		}
		if name == "host" && seenHost {
			return badRequest("more than one Host", line) // §3.2
		}
		seenHost = seenHost || name == "host"
		r.Headers = append(r.Headers, Field{name, value})
	}
	return nil
}

// checkHost applies RFC 9112 §3.2: an HTTP/1.1 request must carry a Host
// field, and no request may carry an invalid one. An absolute-form target
// has already set r.Host, and its authority wins over the field (§3.2.2).
// An empty Host is invalid on an origin-form request, whose target URI
// would be "http:///path", with no host at all (RFC 9110 §4.2.1: a
// recipient MUST reject it); a "*" target may have one, as it names no
// resource (§3.2.4).
func (r *Request) checkHost() error {
	host, ok := r.Header("host")
	switch {
	case !ok && r.Version == "HTTP/1.1":
		return badRequest("missing Host", r.Target)
	case !validHost(host):
		return badRequest("invalid Host", host)
	case ok && host == "" && r.Host == "" && r.Path != "*":
		return badRequest("empty Host", r.Target)
	case r.Host == "":
		r.Host = host
	}
	return nil
}

// validHost reports whether h is host [ ":" port ], where host is an IP
// literal in brackets or a name of unreserved characters, sub-delims and
// percent-escapes (RFC 9110 §7.2, RFC 3986 §3.2.2). An empty h is valid
// here; checkHost decides where it may be.
func validHost(h string) bool {
	name, port := h, ""
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return false
		}
		name, port = h[1:end], h[end+1:]
		if name == "" || !every(name, func(c byte) bool { return c == ':' || c == '.' || isHex(c) }) {
			return false
		}
	} else if i := strings.IndexByte(h, ':'); i >= 0 {
		name, port = h[:i], h[i:]
	}
	if port != "" && (port[0] != ':' || !every(port[1:], isDigit)) { // port = *DIGIT
		return false
	}
	for i := 0; i < len(name) && h[0] != '['; i++ {
		c := name[i]
		if c == '%' && i+2 < len(name) && isHex(name[i+1]) && isHex(name[i+2]) {
			i += 2
		} else if !isAlnum(c) && strings.IndexByte("-._~!$&'()*+,;=", c) < 0 {
			return false
		}
	}
	return true
}
