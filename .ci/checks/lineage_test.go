package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// stageA is the earlier stage of every pair in TestCheckLineage.
var stageA = map[string]string{
	"go.mod":    "module stage01-a\n\ngo 1.25\n",
	"README.md": "# Stage 1\n",
	"main.go":   "package main // v1\n",
	"server.go": "package main // server\n",
	"old.go":    "package main // old\n",
}

// stageB returns stage A's files changed by edits; an empty value removes.
func stageB(edits map[string]string) map[string]string {
	b := map[string]string{"go.mod": "module stage02-b\n\ngo 1.25\n"}
	for k, v := range stageA {
		if k != "go.mod" && k != "README.md" {
			b[k] = v
		}
	}
	for k, v := range edits {
		if v == "" {
			delete(b, k)
		} else {
			b[k] = v
		}
	}
	return b
}

func TestCheckLineage(t *testing.T) {
	tests := []struct {
		name   string
		b      map[string]string // stage02-b, including README.md
		ok     []string
		errors []string
	}{
		{
			name: "names_match",
			b: stageB(map[string]string{
				"main.go":    "package main // v2\n",
				"request.go": "package main // new\n",
				"README.md": readme(
					"- `request.go` (new): parses bytes.",
					"- `main.go`: answers with the parsed request.",
				),
			}),
			ok: []string{"stage02-b: 2 changed files, all named"},
		},
		{
			name: "changed_file_not_named",
			b: stageB(map[string]string{
				"main.go":   "package main // v2\n",
				"server.go": "package main // server v2\n",
				"README.md": readme("- `main.go`: answers."),
			}),
			errors: []string{`stage02-b: server.go changed from stage01-a but not named in "## What changed"`},
		},
		{
			name: "named_file_did_not_change",
			b: stageB(map[string]string{
				"main.go":   "package main // v2\n",
				"README.md": readme("- `main.go`: answers.", "- `server.go`: untouched."),
			}),
			errors: []string{"stage02-b: README names server.go but it did not change from stage01-a"},
		},
		{
			name: "removed_file_not_named",
			b: stageB(map[string]string{
				"old.go":    "",
				"README.md": readme("- none of the files"),
			}),
			errors: []string{
				`stage02-b: README.md line 7: bullet in "## What changed" names no file in backticks`,
				`stage02-b: old.go changed from stage01-a but not named in "## What changed"`,
			},
		},
		{
			name: "removed_file_named",
			b: stageB(map[string]string{
				"old.go":    "",
				"README.md": readme("- `old.go` (removed): folded into main.go."),
			}),
			ok: []string{"stage02-b: 1 changed file, all named"},
		},
		{
			name: "missing_section",
			b: stageB(map[string]string{
				"main.go":   "package main // v2\n",
				"README.md": "# Stage 2\n\n## What is new\n\n- `main.go`: answers.\n",
			}),
			errors: []string{`stage02-b: README.md has no "## What changed" section`},
		},
		{
			name: "missing_readme",
			b:    stageB(map[string]string{"main.go": "package main // v2\n"}),
			errors: []string{
				`stage02-b: README.md not found, so it has no "## What changed" section`,
			},
		},
		{
			name: "directory_bullet_covers_files_under_it",
			b: stageB(map[string]string{
				"testdata/fuzz/FuzzParseRequest/seed1": "go test fuzz v1\n",
				"testdata/fuzz/FuzzParseRequest/seed2": "go test fuzz v1\n",
				"README.md":                            readme("- `testdata/fuzz/` (new): seed corpus for FuzzParseRequest."),
			}),
			ok: []string{"stage02-b: 2 changed files, all named"},
		},
		{
			name: "directory_bullet_with_nothing_changed_under_it",
			b: stageB(map[string]string{
				"main.go":   "package main // v2\n",
				"README.md": readme("- `main.go`: answers.", "- `testdata/fuzz/`: seeds."),
			}),
			errors: []string{"stage02-b: README names testdata/fuzz/ but it did not change from stage01-a"},
		},
		{
			name: "only_first_backticked_span_counts",
			b: stageB(map[string]string{
				"main.go":   "package main // v2\n",
				"server.go": "package main // server v2\n",
				"README.md": readme(
					"- `server.go`: answers 503 with `Retry-After`.",
					"- the entry point, `main.go`, and `server.go` again.",
				),
			}),
			ok: []string{"stage02-b: 2 changed files, all named"},
		},
		{
			name: "second_span_does_not_name_a_file",
			b: stageB(map[string]string{
				"main.go":   "package main // v2\n",
				"server.go": "package main // server v2\n",
				"README.md": readme("- `main.go`: calls `server.go` less."),
			}),
			errors: []string{`stage02-b: server.go changed from stage01-a but not named in "## What changed"`},
		},
		{
			name: "bullets_after_the_section_do_not_count",
			b: stageB(map[string]string{
				"main.go":   "package main // v2\n",
				"server.go": "package main // server v2\n",
				"README.md": readme("- `main.go`: answers.") + "- `server.go`: in Try it.\n",
			}),
			errors: []string{`stage02-b: server.go changed from stage01-a but not named in "## What changed"`},
		},
		{
			name: "nested_bullets_do_not_count",
			b: stageB(map[string]string{
				"main.go":   "package main // v2\n",
				"server.go": "package main // server v2\n",
				"README.md": readme("- `main.go`: answers.", "  - `server.go`: nested."),
			}),
			errors: []string{`stage02-b: server.go changed from stage01-a but not named in "## What changed"`},
		},
		{
			name: "readme_and_go_mod_need_no_bullet_but_may_have_one",
			b: stageB(map[string]string{
				"README.md": readme("- `go.mod`: module renamed."),
			}),
			ok: []string{"stage02-b: 0 changed files, all named"},
		},
		{
			name: "every_problem_is_listed",
			b: stageB(map[string]string{
				"main.go":   "package main // v2\n",
				"old.go":    "",
				"README.md": readme("- `server.go`: untouched.", "* `./main.go`: star bullet, ./ prefix."),
			}),
			errors: []string{
				"stage02-b: README names server.go but it did not change from stage01-a",
				`stage02-b: old.go changed from stage01-a but not named in "## What changed"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, filepath.Join(root, "stage01-a"), stageA)
			writeTree(t, filepath.Join(root, "stage02-b"), tt.b)
			rep, err := checkLineage(root, walkFiles)
			if err != nil {
				t.Fatalf("checkLineage: %v", err)
			}
			assertLines(t, "ok lines", rep.ok, tt.ok)
			assertLines(t, "problems", rep.problems, tt.errors)
		})
	}
}

func TestStageOrder(t *testing.T) {
	tests := []struct {
		name string
		dirs []string
		want []string
	}{
		{"none", []string{".ci", "docs"}, nil},
		{"sorted_then_final", []string{"final", "stage02-parser", "stage01-tcp-echo", ".ci"},
			[]string{"stage01-tcp-echo", "stage02-parser", "final"}},
		{"only_two_digit_stages", []string{"stage1-x", "stage03-response", "stagex-y", "stage10-ten"},
			[]string{"stage03-response", "stage10-ten"}},
		{"final_alone", []string{"final"}, []string{"final"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for _, d := range tt.dirs {
				if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			writeTree(t, root, map[string]string{"stage04-file-not-dir": "x"})
			got, err := stageOrder(root)
			if err != nil {
				t.Fatal(err)
			}
			assertLines(t, "stageOrder", got, tt.want)
		})
	}
}

// TestLineageThreeStagesAndFinal checks that every adjacent pair is
// compared, final last, and that a problem in one pair names that pair.
func TestLineageThreeStagesAndFinal(t *testing.T) {
	root := t.TempDir()
	writeTree(t, filepath.Join(root, "stage01-a"), stageA)
	writeTree(t, filepath.Join(root, "stage02-b"), stageB(map[string]string{
		"main.go":   "package main // v2\n",
		"README.md": readme("- `main.go`: v2."),
	}))
	writeTree(t, filepath.Join(root, "final"), stageB(map[string]string{
		"main.go":   "package main // v2\n",
		"config.go": "package main // config\n",
		"README.md": readme("- `main.go`: v3."),
	}))
	rep, err := checkLineage(root, walkFiles)
	if err != nil {
		t.Fatal(err)
	}
	assertLines(t, "ok lines", rep.ok, []string{"stage02-b: 1 changed file, all named"})
	assertLines(t, "problems", rep.problems, []string{
		"final: README names main.go but it did not change from stage02-b",
		`final: config.go changed from stage02-b but not named in "## What changed"`,
	})
}

// TestLineageGit checks that in a git work tree the files come from git,
// so an ignored build output is no change, while the directory walk would
// count it.
func TestLineageGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not on PATH")
	}
	root := t.TempDir()
	writeTree(t, root, map[string]string{".gitignore": "/stage02-b/stage02-b\n"})
	writeTree(t, filepath.Join(root, "stage01-a"), stageA)
	writeTree(t, filepath.Join(root, "stage02-b"), stageB(map[string]string{
		"main.go":    "package main // v2\n",
		"stage02-b":  "\x7fELF built binary",
		"README.md":  readme("- `main.go`: v2.", "- `request.go` (new): parser."),
		"request.go": "package main // new, untracked\n",
	}))
	for _, args := range [][]string{{"init", "-q"}, {"add", "stage01-a", "stage02-b/main.go"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if !inGitWorkTree(root) {
		t.Fatal("inGitWorkTree = false after git init")
	}
	tests := []struct {
		name   string
		list   lister
		errors []string
	}{
		{"git_ignores_the_binary", gitFiles, nil},
		{"walk_counts_the_binary", walkFiles,
			[]string{`stage02-b: stage02-b changed from stage01-a but not named in "## What changed"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := checkLineage(root, tt.list)
			if err != nil {
				t.Fatal(err)
			}
			assertLines(t, "problems", rep.problems, tt.errors)
		})
	}
}
