package main

import (
	"fmt"
	"strings"
	"testing"
)

// The log may quote a bad input, but only so much of it (maxQuote).
func TestErrorQuotesAreCapped(t *testing.T) {
	long := strings.Repeat("g", 10_000)
	for _, raw := range []string{
		reqBytes("POST / HTTP/1.1\nHost: x\nTransfer-Encoding: " + long + ", chunked"),
		reqBytes("GET / HTTP/" + long + "\nHost: x"),
		reqBytes("GET / HTTP/1.1\nHost: x\nX" + long),
	} {
		if _, err := parseRequest([]byte(raw)); err == nil || len(err.Error()) > 2*maxQuote {
			t.Errorf("error for a %d-byte input = %d bytes long; want at most %d", len(raw), len(fmt.Sprint(err)), 2*maxQuote)
		}
	}
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/a", `"/a"`},
		{"/a\x00b\r\n", `"/a\x00b\r\n"`},
		{strings.Repeat("p", maxQuote), `"` + strings.Repeat("p", maxQuote) + `"`},
		{strings.Repeat("p", maxQuote+1), `"` + strings.Repeat("p", maxQuote) + `..."`},
	}
	for _, tt := range tests {
		if got := quote(tt.in); got != tt.want {
			t.Errorf("quote(%.20q) = %s; want %s", tt.in, got, tt.want)
		}
	}
}
