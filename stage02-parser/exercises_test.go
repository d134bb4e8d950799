//go:build exercises

// The tests of this stage's open exercises (README.md, "Exercises"). They
// fail until the exercise is solved:
//
//	go test -tags exercises -run TestExercisePercentDecoding .

package main

import "testing"

// TestExercisePercentDecoding: Request.Path holds the target's path with its
// percent-escapes decoded (RFC 3986 §2.1), once; Target and Query stay as
// sent. A malformed escape is 400, and so is an escaped slash, which a
// decoded path could not tell from a separator.
func TestExercisePercentDecoding(t *testing.T) {
	tests := []struct {
		name, target string
		path, query  string // what a request that parses holds
		status       int    // 200: parses; else the refusal
	}{
		{"no_escapes", "/plain", "/plain", "", 200},
		{"space", "/a%20b", "/a b", "", 200},
		{"utf8", "/caf%C3%A9", "/café", "", 200},
		{"lowercase_hex", "/%7euser", "/~user", "", 200},
		{"escaped_percent", "/100%25", "/100%", "", 200},
		{"decoded_once", "/100%2541", "/100%41", "", 200},
		{"query_stays_raw", "/a%20b?q=%20x", "/a b", "q=%20x", 200},
		{"absolute_form", "http://example.com/a%20b", "/a b", "", 200},
		{"not_hex", "/%zz", "", "", 400},
		{"one_digit", "/%4", "", "", 400},
		{"one_hex_digit_then_not", "/%4g", "", "", 400},
		{"percent_at_end", "/a%", "", "", 400},
		{"escaped_slash", "/a%2Fb", "", "", 400},
		{"escaped_slash_lowercase", "/a%2fb", "", "", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := reqBytes("GET " + tt.target + " HTTP/1.1\nHost: x")
			if tt.status != 200 {
				assertStatus(t, raw, tt.status)
				return
			}
			req := mustParse(t, raw)
			if req.Path != tt.path || req.Target != tt.target || req.Query != tt.query {
				t.Errorf("GET %s: Path, Target, Query = %q, %q, %q; want %q, %q, %q",
					tt.target, req.Path, req.Target, req.Query, tt.path, tt.target, tt.query)
			}
		})
	}
}
