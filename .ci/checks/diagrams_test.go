package main

import (
	"bytes"
	"strings"
	"testing"
)

// diagramStage is the code of the stage the README diagrams below name.
var diagramStage = map[string]string{
	"stage01-a/main.go":      "package main\n\nfunc main() { serve() }\n\nfunc serve() {}\n",
	"stage01-a/conn.go":      "package main\n\ntype conn struct{}\n\n// readRequest is a method: a diagram may name it too.\nfunc (c *conn) readRequest() error { return nil }\n",
	"stage01-a/router.go":    "package main\n\nfunc route[T any](t T) {}\n",
	"stage01-a/conn_test.go": "package main\n\nfunc dial() {}\n",
}

func TestDiagrams(t *testing.T) {
	const at = "stage01-a/README.md:" // what each problem starts with
	tests := []struct {
		name     string
		readme   string
		problems []string // each without the prefix at
	}{
		{"good_box", "# Stage\n\n```text\n┌──────────────┐     ┌──────────────────┐\n│ main.go      │     │ conn.go          │\n│ serve()      │ ──▶ │ c.readRequest()  │\n└──────────────┘     │ route()          │\n                     └──────────────────┘\n```\n", nil},
		{"good_arrows_only", "```text\nmain() → serve() → conn.go:readRequest() → router.go:route()\n```\n", nil},
		{"test_file_name_is_a_file", "```text\nconn_test.go → conn.go\n```\n", nil},
		{"library_call_without_parentheses", "```text\nserve() → net.Listen, ln.Accept\n```\n", nil},
		{"no_diagrams", "# Stage\n\nprose naming gone() and gone.go\n", nil},
		{"go_block_ignored", "```go\n// ┌ gone.go → gone()\nfunc gone() {}\n```\n", nil},
		{"text_block_without_drawing_ignored", "```text\n$ go test\n--- FAIL: gone() in gone.go\n```\n", nil},
		{"untagged_block_ignored", "```\n┌ gone.go ┐ → gone()\n```\n", nil},
		{"renamed_function", "# Stage\n\n```text\n┌──────────┐\n│ main.go  │\n│ serveConn() │\n└──────────┘\n```\n",
			[]string{"6: diagram names serveConn(), not a function or method in the product .go files (tests excluded) of stage01-a"}},
		{"missing_file", "```text\nhandler.go ──▶ serve()\n```\n",
			[]string{"2: diagram names handler.go, not a file in stage01-a"}},
		{"function_only_in_tests", "```text\ndial() → serve()\n```\n",
			[]string{"2: diagram names dial(), not a function or method in the product .go files (tests excluded) of stage01-a"}},
		{"function_in_another_file", "```text\nmain.go:readRequest() → serve()\n```\n",
			[]string{"2: diagram names main.go:readRequest(), but readRequest is not declared in main.go of stage01-a"}},
		{"qualified_missing_file", "```text\nhandler.go:serve() ↓\n```\n",
			[]string{"2: diagram names handler.go, not a file in stage01-a"}},
		{"one_problem_per_name_per_line", "```text\ngone() → gone()\n  ↓\ngone()\n```\n",
			[]string{
				"2: diagram names gone(), not a function or method in the product .go files (tests excluded) of stage01-a",
				"4: diagram names gone(), not a function or method in the product .go files (tests excluded) of stage01-a",
			}},
		{"problems_in_line_order", "```text\ngone() → lost.go\n```\n",
			[]string{
				"2: diagram names gone(), not a function or method in the product .go files (tests excluded) of stage01-a",
				"2: diagram names lost.go, not a file in stage01-a",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, diagramStage)
			writeTree(t, root, map[string]string{"stage01-a/README.md": tt.readme})
			rep, err := diagrams(root)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, p := range tt.problems {
				want = append(want, at+p)
			}
			assertLines(t, "problems", rep.problems, want)
			if len(want) == 0 && len(rep.ok) == 0 {
				t.Errorf("no line says what held")
			}
		})
	}
}

// TestDiagramsRoot checks the root README against the modules of go.work:
// a name holds if one of them has it.
func TestDiagramsRoot(t *testing.T) {
	tree := map[string]string{
		"go.work":             "go 1.25\n\nuse (\n\t./stage01-a\n\t./final\n\t./lib\n)\n",
		"lib/util.go":         "package lib\n\nfunc helper() {}\n", // a module, not a stage
		"stage01-a/main.go":   "package main\n\nfunc main() {}\n",
		"final/main.go":       "package main\n\nfunc main() {}\n",
		"final/conn.go":       "package main\n\nfunc serve() {}\n",
		"stage02-b/router.go": "package main\n\nfunc route() {}\n", // not in go.work
	}
	tests := []struct {
		name     string
		readme   string
		problems []string
	}{
		{"names_from_any_module", "```text\nmain.go: main() ──▶ conn.go:serve() ──▶ util.go:helper()\n```\n", nil},
		{"module_not_in_go_work", "```text\nmain() → router.go:route()\n```\n", []string{
			"README.md:2: diagram names router.go, not a file in any module of go.work",
		}},
		{"renamed_function", "```text\nmain() → serveConn()\n```\n", []string{
			"README.md:2: diagram names serveConn(), not a function or method in the product .go files (tests excluded) of any module of go.work",
		}},
		{"file_and_function_in_different_modules", "```text\nmain.go:serve() ↓\n```\n", []string{
			"README.md:2: diagram names main.go:serve(), but serve is not declared in main.go of any module of go.work",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, tree)
			writeTree(t, root, map[string]string{"README.md": tt.readme})
			rep, err := diagrams(root)
			if err != nil {
				t.Fatal(err)
			}
			assertLines(t, "problems", rep.problems, tt.problems)
		})
	}
}

// TestDiagramsCommand runs the check as .ci/run does: a stale diagram is
// one line naming the README, the line and the name, and exit code 1.
func TestDiagramsCommand(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, diagramStage)
	writeTree(t, root, map[string]string{"stage01-a/README.md": "```text\nserve() → gone()\n```\n"})
	var stdout, stderr bytes.Buffer
	if code := run([]string{"diagrams", root}, &stdout, &stderr); code != exitFail {
		t.Errorf("run = %d; want %d\nstdout: %s\nstderr: %s", code, exitFail, &stdout, &stderr)
	}
	if want := "stage01-a/README.md:2: diagram names gone()"; !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout = %q; want it to contain %q", &stdout, want)
	}
	writeTree(t, root, map[string]string{"stage01-a/README.md": "```text\nserve() → main()\n```\n"})
	stdout.Reset()
	if code := run([]string{"diagrams", root}, &stdout, &stderr); code != exitOK {
		t.Errorf("run = %d; want %d\nstdout: %s", code, exitOK, &stdout)
	}
}
