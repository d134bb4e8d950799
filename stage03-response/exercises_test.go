//go:build exercises

package main

// The tests of this stage's open exercises (README, "Exercises"). They fail
// until the exercise is solved:
//
//	go test -tags exercises -run TestExerciseJSONRefusals .

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// A refusal whose request head was read comes as JSON to a client that
// prefers JSON, as its Accept field says (RFC 9110 §12.5.1), and as plain
// text to every other client. Where the head could not be read, the server
// cannot know what the client accepts: plain text.
func TestExerciseJSONRefusals(t *testing.T) {
	addr := startHTTP(t)
	tooLarge := fmt.Sprintf("POST / HTTP/1.1\nHost: x\nContent-Length: %d\n", maxBodyBytes+1)
	coffee := "POST / HTTP/1.1\nHost: x\nExpect: coffee\nContent-Length: 1\n"
	tests := []struct {
		name   string
		raw    string
		status int
		json   string // the error the JSON body names; "" for a text body
	}{
		{"413_json", reqBytes(tooLarge + "Accept: application/json"), 413, "request body too large"},
		{"417_json", reqBytes(coffee+"Accept: application/json") + "x", 417, "unsupported expectation"},
		{"json_among_others", reqBytes(tooLarge + "Accept: text/html, application/json;q=0.9"), 413, "request body too large"},
		{"any_application_type", reqBytes(tooLarge + "Accept: application/*"), 413, "request body too large"},
		{"media_type_case_insensitive", reqBytes(tooLarge + "Accept: Application/JSON"), 413, "request body too large"},
		{"json_refused_with_q_0", reqBytes(tooLarge + "Accept: application/json;q=0, */*"), 413, ""},
		{"any_type_keeps_text", reqBytes(tooLarge + "Accept: */*"), 413, ""},
		{"text_preferred", reqBytes(tooLarge + "Accept: text/plain, application/json;q=0.5"), 413, ""},
		{"no_accept", reqBytes(strings.TrimSuffix(tooLarge, "\n")), 413, ""},
		{"head_not_read", reqBytes("GET / HTTP/1.1\nHost: x\nAccept: application/json\nno colon here"), 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := parseResponse(t, sendRaw(t, addr, tt.raw), "POST")
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d; want %d", resp.StatusCode, tt.status)
			}
			wantType := "text/plain; charset=utf-8"
			if tt.json != "" {
				wantType = "application/json"
			}
			if got := resp.Header.Get("Content-Type"); got != wantType {
				t.Errorf("Content-Type = %q; want %q", got, wantType)
			}
			if tt.json == "" {
				if prefix := fmt.Sprintf("%d %s: ", tt.status, statusText[tt.status]); !strings.HasPrefix(body, prefix) {
					t.Errorf("body = %q; want the text refusal, %q...", body, prefix)
				}
				return
			}
			var got struct {
				Status int    `json:"status"`
				Error  string `json:"error"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil || got.Status != tt.status || got.Error != tt.json {
				t.Errorf("body = %q (%v); want JSON {\"status\": %d, \"error\": %q}", body, err, tt.status, tt.json)
			}
		})
	}
}
