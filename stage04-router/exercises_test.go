//go:build exercises

package main

// The tests of this stage's open exercises (README, "Exercises"). They fail
// until the exercise is solved:
//
//	go test -tags exercises -run TestExercisePathParameters .

import (
	"reflect"
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
