package main

import "testing"

func TestFieldValues(t *testing.T) {
	tests := []struct {
		name, raw, field, want string
	}{
		{"whitespace_around_value_trimmed", reqBytes("GET / HTTP/1.1\nHost: x\nX: \t a b \t"), "x", "a b"},
		{"repeats_joined_in_order", reqBytes("GET / HTTP/1.1\nHost: x\nAccept: a\nX: y\nAccept: b"), "accept", "a, b"},
		{"names_lowercased_values_not", reqBytes("GET / HTTP/1.1\nHost: x\nX-MiXeD: VaLuE"), "x-mixed", "VaLuE"},
		{"empty_value", reqBytes("GET / HTTP/1.1\nHost: x\nX-Empty:"), "x-empty", ""},
		{"colon_in_value", reqBytes("GET / HTTP/1.1\nHost: x\nX: a:b"), "x", "a:b"},
		{"empty_repeat_adds_its_comma", reqBytes("GET / HTTP/1.1\nHost: x\nX: a\nX:"), "x", "a,"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := mustParse(t, tt.raw).Header(tt.field)
			if !ok || got != tt.want {
				t.Errorf("Header(%q) = %q, %v; want %q", tt.field, got, ok, tt.want)
			}
		})
	}
}
