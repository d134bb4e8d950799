package main

import "testing"

func TestWhatChanged(t *testing.T) {
	tests := []struct {
		name   string
		readme string
		found  bool
		names  []string
	}{
		{"no_section", "# S\n\n## Try it\n\n- `a.go`\n", false, nil},
		{"empty_section", "## What changed\n## Try it\n", true, nil},
		{"dash_and_star_bullets", "## What changed\n\n- `a.go`: x\n* `b/`: y\n", true, []string{"a.go", "b/"}},
		{"ends_at_next_h2", "## What changed\n- `a.go`\n## RFCs\n- `b.go`\n", true, []string{"a.go"}},
		{"ends_at_next_h1", "## What changed\n- `a.go`\n# Next\n- `b.go`\n", true, []string{"a.go"}},
		{"h3_does_not_end_it", "## What changed\n- `a.go`\n### Details\n- `b.go`\n", true, []string{"a.go", "b.go"}},
		{"first_span_only", "## What changed\n- `server.go`: sends `Retry-After`\n", true, []string{"server.go"}},
		{"span_not_first_in_line", "## What changed\n- the parser, `request.go`\n", true, []string{"request.go"}},
		{"bullet_without_span", "## What changed\n- nothing else\n", true, []string{""}},
		{"indented_items_are_not_bullets", "## What changed\n- `a.go`\n  - `b.go`\n    continued `c.go`\n", true, []string{"a.go"}},
		{"crlf_and_trailing_space", "## What changed  \r\n- `a.go`\r\n", true, []string{"a.go"}},
		{"heading_in_code_fence_is_not_one", "```\n## What changed\n```\n## What changed\n```sh\n# comment\n- `x`\n```\n- `a.go`\n", true, []string{"a.go"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bullets, found := whatChanged(tt.readme)
			if found != tt.found {
				t.Errorf("whatChanged found = %v; want %v", found, tt.found)
			}
			var names []string
			for _, b := range bullets {
				names = append(names, b.name)
			}
			assertLines(t, "bullet names", names, tt.names)
		})
	}
}

func TestFirstCodeSpan(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"`a.go` and `b.go`", "a.go", true},
		{"no span", "", false},
		{"prose `x` then", "x", true},
		{"`` a`b `` c", "a`b", true},
		{"unclosed ` then `a.go`", "then", true},
		{"``unclosed double then `a.go`", "a.go", true},
		{"` testdata/fuzz/ `", "testdata/fuzz/", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := firstCodeSpan(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("firstCodeSpan(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}
