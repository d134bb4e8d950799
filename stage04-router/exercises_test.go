//go:build exercises

package main

// The tests of this stage's open exercises (README, "Exercises"). They fail
// until the exercise is solved:
//
//	go test -tags exercises -run TestExercisePathParameters .
//	go test -tags exercises -run TestExerciseRange .

import (
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// A pattern segment in braces, "{id}", matches any one non-empty segment of
// a path, and the handler reads its value with req.PathValue("id"). A path
// registered as it is wins over a pattern that also matches it, and the
// router's answers keep their order: 404 for a path no route matches, 405
// with Allow for a method the matched route does not have.
func TestExercisePathParameters(t *testing.T) {
	rt := newRouter()
	rt.handle("GET", "/users/{id}", okHandler("user"))
	rt.handle("GET", "/orders/{order}/items/{item}", func(req *Request) *Response {
		return textResponse(200, pathValue(t, req, "order")+" "+pathValue(t, req, "item"))
	})
	rt.handle("DELETE", "/users/{id}", okHandler("deleted"))
	rt.handle("GET", "/users/me", okHandler("me"))
	rt.handle("GET", "/users/{id}/posts/{post}", okHandler("post"))
	tests := []struct {
		name, method, path string
		status             int
		allow, body        string
	}{
		{"one_parameter", "GET", "/users/42", 200, "", "user"},
		{"another_method", "DELETE", "/users/42", 200, "", "deleted"},
		{"head_runs_get", "HEAD", "/users/42", 200, "", "user"},
		{"method_not_allowed", "POST", "/users/42", 405, "GET, HEAD, DELETE, OPTIONS", ""},
		{"options", "OPTIONS", "/users/42", 200, "GET, HEAD, DELETE, OPTIONS", ""},
		{"exact_path_wins", "GET", "/users/me", 200, "", "me"},
		{"two_parameters", "GET", "/users/42/posts/7", 200, "", "post"},
		{"values_to_the_handler", "GET", "/orders/42/items/7", 200, "", "42 7"},
		{"empty_segment", "GET", "/users/", 404, "", ""},
		{"too_few_segments", "GET", "/users", 404, "", ""},
		{"too_many_segments", "GET", "/users/42/extra", 404, "", ""},
		{"trailing_slash", "GET", "/users/42/", 404, "", ""},
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
		})
	}
}

// pathValue calls req.PathValue(name), the method the exercise adds to
// Request. It is called by reflection, so that this file compiles before
// the method exists; until it does, the test fails here.
func pathValue(t *testing.T, req *Request, name string) string {
	t.Helper()
	m := reflect.ValueOf(req).MethodByName("PathValue")
	if !m.IsValid() || m.Type().NumIn() != 1 || m.Type().NumOut() != 1 || m.Type().Out(0).Kind() != reflect.String {
		t.Errorf("Request has no method PathValue(name string) string")
		return ""
	}
	return m.Call([]reflect.Value{reflect.ValueOf(name)})[0].String()
}

// A static file answers a request for one range of its bytes with 206
// Partial Content, Content-Range and those bytes; a range that starts past
// the end with 416 and Content-Range: bytes */size; and says on a 200 that
// it takes ranges, Accept-Ranges: bytes (RFC 9110 §14). An If-Range whose
// tag is not the file's asks for the whole file, as does a unit other than
// bytes; a matching If-None-Match is 304 before the range is looked at
// (§13.2.2). Several ranges at once may get the whole file, which §14.2
// allows, or a multipart/byteranges 206.
func TestExerciseRange(t *testing.T) {
	base := startApp(t)
	file, err := www.ReadFile("www/index.html")
	if err != nil {
		t.Fatal(err)
	}
	size := strconv.Itoa(len(file))
	first, err := http.Get(base + "/static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	first.Body.Close()
	etag := first.Header.Get("ETag")
	tests := []struct {
		name         string
		fields       map[string]string
		status       int
		contentRange string // for 206 and 416
		body         string // for 200 and 206
	}{
		{"no_range", nil, 200, "", string(file)},
		{"first_five", map[string]string{"Range": "bytes=0-4"}, 206, "bytes 0-4/" + size, string(file[:5])},
		{"from_five_on", map[string]string{"Range": "bytes=5-"}, 206, "bytes 5-" + strconv.Itoa(len(file)-1) + "/" + size, string(file[5:])},
		{"last_five", map[string]string{"Range": "bytes=-5"}, 206,
			"bytes " + strconv.Itoa(len(file)-5) + "-" + strconv.Itoa(len(file)-1) + "/" + size, string(file[len(file)-5:])},
		{"end_past_the_file", map[string]string{"Range": "bytes=0-99999999"}, 206, "bytes 0-" + strconv.Itoa(len(file)-1) + "/" + size, string(file)},
		{"start_at_the_end", map[string]string{"Range": "bytes=" + size + "-"}, 416, "bytes */" + size, ""},
		{"other_unit", map[string]string{"Range": "items=0-4"}, 200, "", string(file)},
		{"if_range_same_tag", map[string]string{"Range": "bytes=0-4", "If-Range": etag}, 206, "bytes 0-4/" + size, string(file[:5])},
		{"if_range_other_tag", map[string]string{"Range": "bytes=0-4", "If-Range": `"other"`}, 200, "", string(file)},
		{"if_none_match_first", map[string]string{"Range": "bytes=0-4", "If-None-Match": etag}, 304, "", ""},
		{"several_ranges", map[string]string{"Range": "bytes=0-1,3-4"}, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", base+"/static/index.html", nil)
			for name, value := range tt.fields {
				req.Header.Set(name, value)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got := resp.StatusCode
			if tt.status == 0 { // several ranges: the whole file, or multipart
				if got == 200 && string(body) == string(file) ||
					got == 206 && strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/byteranges;") {
					return
				}
				t.Fatalf("Range: bytes=0-1,3-4 = %d %q; want 200 and the whole file, or a multipart/byteranges 206", got, resp.Header.Get("Content-Type"))
			}
			if got != tt.status {
				t.Fatalf("status = %d; want %d", got, tt.status)
			}
			if cr := resp.Header.Get("Content-Range"); cr != tt.contentRange {
				t.Errorf("Content-Range = %q; want %q", cr, tt.contentRange)
			}
			if (got == 200 || got == 206) && (string(body) != tt.body || resp.ContentLength != int64(len(tt.body))) {
				t.Errorf("body of %d bytes, Content-Length %d; want %d bytes %.20q", len(body), resp.ContentLength, len(tt.body), tt.body)
			}
			if got == 200 && resp.Header.Get("Accept-Ranges") != "bytes" {
				t.Errorf("Accept-Ranges = %q on a 200; want bytes", resp.Header.Get("Accept-Ranges"))
			}
		})
	}
}
