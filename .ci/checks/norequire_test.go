package main

import (
	"slices"
	"testing"
)

func TestNoRequire(t *testing.T) {
	const mod = "module m\n\ngo 1.25\n"
	tests := []struct {
		name   string
		files  map[string]string
		errors []string
	}{
		{"no_require", map[string]string{"a/go.mod": mod, "b/go.mod": mod + "// require x v1 is a comment\n"}, nil},
		{"single_line", map[string]string{"a/go.mod": mod + "\nrequire golang.org/x/net v0.1.0\n"},
			[]string{"a/go.mod:5: require directive (standard library only)"}},
		{"block", map[string]string{"a/go.mod": mod + "require (\n\tgolang.org/x/net v0.1.0\n)\n"},
			[]string{"a/go.mod:4: require directive (standard library only)"}},
		{"nested_module", map[string]string{"go.mod": mod, "x/y/go.mod": "module y\nrequire(\n)\n"},
			[]string{"x/y/go.mod:2: require directive (standard library only)"}},
		{"dot_git_skipped", map[string]string{".git/go.mod": "require x v1\n", "a/go.mod": mod}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, tt.files)
			rep, err := noRequire(root)
			if err != nil {
				t.Fatal(err)
			}
			assertLines(t, "problems", rep.problems, tt.errors)
		})
	}
}

func TestRequireLines(t *testing.T) {
	got := requireLines("module requirements\n\nrequire x v1\n  require (\n// require y\n")
	if want := []int{3, 4}; !slices.Equal(got, want) {
		t.Errorf("requireLines = %v; want %v", got, want)
	}
}
