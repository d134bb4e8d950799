package main

import (
	"strings"
	"testing"
)

func TestExcerpts(t *testing.T) {
	code := "package main\n\n// add adds.\nfunc add(a, b int) int {\n\treturn a + b\n}\n"
	tests := []struct {
		name     string
		readme   string
		problems int
	}{
		{"excerpt_in_code", "# Stage\n\n```go\nfunc add(a, b int) int {\n\treturn a + b\n}\n```\n", 0},
		{"no_excerpts", "# Stage\n\nprose only\n", 0},
		{"other_languages_ignored", "# Stage\n\n```\n$ go run .\n```\n", 0},
		{"stale_excerpt", "# Stage\n\n```go\nfunc add(a, b int) int {\n\treturn a - b\n}\n```\n", 1},
		{"lines_present_but_apart", "# Stage\n\n```go\n// add adds.\n\treturn a + b\n```\n", 1},
		{"two_stale", "```go\nx := 1\n```\n\n```go\ny := 2\n```\n", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, map[string]string{
				"stage01-a/README.md": tt.readme,
				"stage01-a/a.go":      code,
			})
			rep, err := excerpts(root)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.problems) != tt.problems {
				t.Errorf("problems = %q; want %d", rep.problems, tt.problems)
			}
			for _, p := range rep.problems {
				if !strings.HasPrefix(p, "stage01-a: README excerpt not in its .go files") {
					t.Errorf("problem %q does not say which stage and what", p)
				}
			}
		})
	}
}
