package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"path"
	"strings"
	"sync"
	"syscall"
	"time"
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
	tags := newETagCache()
	return func(req *Request) *Response { return serveFile(fsys, name, req, tags) }
}

// staticFiles answers a path under prefix with the file of that name in
// fsys: with prefix "/static/", /static/a/b.css is a/b.css. Percent-escapes
// are decoded first, then fs.ValidPath refuses any name with a ".." element,
// so no request, escaped or not, reads outside fsys.
func staticFiles(fsys fs.FS, prefix string) Handler {
	tags := newETagCache()
	return func(req *Request) *Response {
		name, err := url.PathUnescape(strings.TrimPrefix(req.Path, prefix))
		if err != nil || !fs.ValidPath(name) {
			return errorResponse(404, "no file at "+quote(req.Path))
		}
		return serveFile(fsys, name, req, tags)
	}
}

// maxStaticFileBytes bounds a file the static handlers serve. A file is
// read whole into memory and sent in one write, so past it the answer is
// 500, and the log names the file. 4 MiB is far above anything in www/; a
// site of larger files wants a server that streams them.
const maxStaticFileBytes = 4 << 20

// serveFile answers req with the file name of fsys, typed by its extension,
// and with its validators: a strong ETag, and Last-Modified where fsys
// keeps modification times (a directory on disk does; the files embedded
// in the binary have none). A request whose copy they show to be current
// gets 304 Not Modified and no body (RFC 9110 §13.2.2, §15.4.5): that saves
// the network the body, not the server the read. Only a regular file is
// served: opening a named pipe would block whoever serves the request
// until someone wrote to it.
func serveFile(fsys fs.FS, name string, req *Request, tags *etagCache) *Response {
	info, err := fs.Stat(fsys, name)
	switch {
	case noSuchFile(err) || err == nil && !info.Mode().IsRegular():
		return errorResponse(404, "no file "+quote(name))
	case err != nil && throughLink(fsys, name):
		// A symbolic link that fsys would not follow: an os.Root refuses
		// one that leads out of its directory, absolute or relative, or
		// round in a loop. The server works as it should, so no 500: to
		// the client there is no file at the name, 404, rather than 403,
		// which would tell whoever probes that something is there (RFC
		// 9110 §15.5.4 lets a server hide a forbidden resource so). Who
		// made the link learns of it from the log.
		slog.Info("refused a symbolic link that leaves the static root or loops", "name", clip(name))
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
	validators := []Field{{"ETag", tags.etag(name, info, body)}}
	if mod := info.ModTime(); !mod.IsZero() {
		validators = append(validators, Field{"Last-Modified", mod.UTC().Format(imfFixdate)})
	}
	if notModified(req, validators[0].Value, info.ModTime()) {
		return &Response{Status: 304, Headers: validators}
	}
	return &Response{Status: 200, ContentType: contentTypes[path.Ext(name)], Headers: validators, Body: body}
}

// noSuchFile reports whether err, from looking a name up, says that no file
// has the name: none does, or none could, because a file stands where the
// name wants a directory (ENOTDIR), the name is too long for the system, or
// it holds a NUL byte (EINVAL). The files built into the binary answer all
// of these with fs.ErrNotExist; a directory on disk does not, and a 500 for
// them would let any client fill the error log.
func noSuchFile(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) ||
		errors.Is(err, syscall.ENAMETOOLONG) || errors.Is(err, syscall.EINVAL)
}

// throughLink reports whether name, or a directory on its way, is a
// symbolic link in fsys. fs.Lstat does not follow the link itself; on an
// fsys that knows no links, it is fs.Stat, and finds none.
func throughLink(fsys fs.FS, name string) bool {
	for ; name != "."; name = path.Dir(name) {
		if info, err := fs.Lstat(fsys, name); err == nil && info.Mode()&fs.ModeSymlink != 0 {
			return true
		}
	}
	return false
}

// etagCache remembers the ETag of each file served, so that a file's is
// computed once for each version of it: a version is a size and a
// modification time, which editing a file on disk changes, and
// which an embedded file keeps for the life of the binary. Only files that
// exist get an entry, so the cache holds no more names than have existed
// in fsys.
type etagCache struct {
	mu   sync.Mutex
	tags map[string]fileTag
}

type fileTag struct {
	size int64
	mod  time.Time
	etag string
}

func newETagCache() *etagCache {
	return &etagCache{tags: make(map[string]fileTag)}
}

// etag returns the strong entity tag of body, the file name as info
// describes it (RFC 9110 §8.8.3): the first 64 bits of its SHA-256, which
// changes whenever a byte of it does.
func (c *etagCache) etag(name string, info fs.FileInfo, body []byte) string {
	c.mu.Lock()
	tag, ok := c.tags[name]
	c.mu.Unlock()
	if ok && tag.size == info.Size() && tag.mod.Equal(info.ModTime()) {
		return tag.etag
	}
	sum := sha256.Sum256(body)
	tag = fileTag{info.Size(), info.ModTime(), `"` + hex.EncodeToString(sum[:8]) + `"`}
	c.mu.Lock()
	c.tags[name] = tag
	c.mu.Unlock()
	return tag.etag
}

// notModified reports whether req's preconditions show that the client's
// copy of a file with etag and modification time mod is current (RFC 9110
// §13.2.2). If-None-Match decides when it is sent (§13.1.2); only
// otherwise, and only where the file has a time, does If-Modified-Since
// (§13.1.3), whose value is ignored if it is not a date.
func notModified(req *Request, etag string, mod time.Time) bool {
	if tags, ok := req.Header("if-none-match"); ok {
		return matchesETag(tags, etag)
	}
	since, ok := req.Header("if-modified-since")
	if !ok || mod.IsZero() {
		return false
	}
	t, err := parseHTTPDate(since)
	return err == nil && !mod.Truncate(time.Second).After(t)
}

// matchesETag reports whether the If-None-Match value list is "*" or holds
// etag, compared weakly, as a GET's are: W/"x" matches "x" (RFC 9110
// §8.8.3.2). Reading stops at the first malformed member.
//
//	If-None-Match: "a", W/"b", "c,d"
func matchesETag(list, etag string) bool {
	if strings.Trim(list, " \t") == "*" {
		return true
	}
	for {
		list = strings.TrimLeft(list, " \t,")
		if list == "" {
			return false
		}
		opaque, _ := strings.CutPrefix(list, "W/") // "x", the tag less its weakness
		if !strings.HasPrefix(opaque, `"`) {
			return false
		}
		end := strings.IndexByte(opaque[1:], '"')
		if end < 0 {
			return false
		}
		if opaque[:end+2] == etag {
			return true
		}
		list = opaque[end+2:]
	}
}

// parseHTTPDate reads an HTTP-date in any of the three forms a recipient
// must accept (RFC 9110 §5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT", the
// obsolete "Sunday, 06-Nov-94 08:49:37 GMT", and "Sun Nov  6 08:49:37 1994".
func parseHTTPDate(v string) (time.Time, error) {
	t, err := time.Parse(imfFixdate, v)
	for _, layout := range []string{"Monday, 02-Jan-06 15:04:05 GMT", time.ANSIC} {
		if err != nil {
			t, err = time.Parse(layout, v)
		}
	}
	return t, err
}
