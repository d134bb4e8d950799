package main

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// A diagram is a code block opened with "```text" at the start of a line
// (the fences excerpts reads) that holds at least one box-drawing character
// (U+2500 to U+257F) or one of the arrows in diagramMarks. Any other block,
// a transcript without those characters say, is not checked.
//
// In a diagram, three kinds of token name the code:
//
//   - a Go file name, conn.go (lower case, digits and _): a file directly in
//     the stage directory (test files count); in a path, final/conn.go, the
//     name after the last slash;
//   - a call, serve() (an identifier followed at once by "()"): a function or
//     method declared in the stage's product .go files (not *_test.go); a
//     method call c.serve() checks serve. A library call is written without
//     the parentheses (net.Listen, Accept) and is not checked;
//   - a file and a call joined by a colon, conn.go:serve(): the file exists
//     and declares the function or method itself.
//
// A stage README's diagrams name its own stage. The root README's diagrams
// name the workbook as a whole, so a name there holds if at least one module
// listed in go.work has it (for file:call(), in the same module).
const diagramMarks = "→←↓↑▶▼"

var (
	goFileName = regexp.MustCompile(`\b[a-z0-9_]+\.go\b`)
	fileCall   = regexp.MustCompile(`\b([a-z0-9_]+\.go):([A-Za-z_][A-Za-z0-9_]*)\(\)`)
	call       = regexp.MustCompile(`\b([A-Za-z_][A-Za-z0-9_]*)\(\)`)
)

// isDiagram reports whether the body of a text block is a diagram.
func isDiagram(body string) bool {
	for _, r := range body {
		if r >= 0x2500 && r <= 0x257F || strings.ContainsRune(diagramMarks, r) {
			return true
		}
	}
	return false
}

// A codeIndex is what one stage's diagrams may name.
type codeIndex struct {
	files map[string]bool            // files directly in the stage directory
	funcs map[string]map[string]bool // product .go file -> its function and method names
}

// hasFile, hasFunc and fileHasFunc answer for one stage.
func (ix codeIndex) hasFile(name string) bool { return ix.files[name] }

func (ix codeIndex) hasFunc(name string) bool {
	for _, names := range ix.funcs {
		if names[name] {
			return true
		}
	}
	return false
}

func (ix codeIndex) fileHasFunc(file, name string) bool { return ix.funcs[file][name] }

// diagrams checks that every file and function a README diagram names
// exists: in a stage README, in that stage; in the root README, in at least
// one module of go.work. A rename that leaves a picture behind fails.
func diagrams(root string) (report, error) {
	var rep report
	list, _ := chooseLister(root)
	stages, err := stageOrder(root)
	if err != nil {
		return rep, err
	}
	indexed := map[string]codeIndex{} // by stage, for the root README
	for _, stage := range stages {
		ix, err := indexStage(root, stage, list)
		if err != nil {
			return rep, err
		}
		indexed[stage] = ix
		err = checkDiagrams(&rep, root, stage+"/README.md", stage, []codeIndex{ix})
		if err != nil {
			return rep, err
		}
	}
	modules, err := workModules(root)
	if err != nil {
		return rep, err
	}
	var all []codeIndex
	for _, m := range modules {
		ix, ok := indexed[m]
		if !ok {
			ix, err = indexStage(root, m, list)
			if err != nil {
				return rep, err
			}
		}
		all = append(all, ix)
	}
	err = checkDiagrams(&rep, root, "README.md", "any module of go.work", all)
	return rep, err
}

// workModules returns the directories of root/go.work's use directives that
// exist, as slash paths relative to root. A missing one is for deps to report.
func workModules(root string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(root, "go.work"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	dirs, err := workUses(string(data))
	if err != nil {
		return nil, err
	}
	var mods []string
	for _, dir := range dirs {
		if filepath.IsAbs(dir) {
			rel, err := filepath.Rel(root, dir)
			if err != nil {
				return nil, err
			}
			dir = rel
		}
		dir = filepath.ToSlash(filepath.Clean(dir))
		if fi, err := os.Stat(filepath.Join(root, dir)); err == nil && fi.IsDir() {
			mods = append(mods, dir)
		}
	}
	return mods, nil
}

// indexStage lists the files directly in root/stage and the functions and
// methods declared in its product .go files.
func indexStage(root, stage string, list lister) (codeIndex, error) {
	ix := codeIndex{files: map[string]bool{}, funcs: map[string]map[string]bool{}}
	files, err := list(root, stage)
	if err != nil {
		return ix, err
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.Contains(f, "/") {
			continue
		}
		ix.files[f] = true
		if !strings.HasSuffix(f, ".go") || strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, filepath.Join(root, stage, f), nil, parser.SkipObjectResolution)
		if err != nil {
			return ix, err
		}
		names := map[string]bool{}
		for _, d := range file.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				names[fd.Name.Name] = true
			}
		}
		ix.funcs[f] = names
	}
	return ix, nil
}

// checkDiagrams checks the diagrams of the README at root/readme (a slash
// path) against the stages in ixs: a name holds if one of them has it.
// where says in problems where the names were looked for.
func checkDiagrams(rep *report, root, readme, where string, ixs []codeIndex) error {
	text, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(readme)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // lineage reports a missing stage README
	}
	if err != nil {
		return err
	}
	some := func(f func(codeIndex) bool) bool {
		for _, ix := range ixs {
			if f(ix) {
				return true
			}
		}
		return false
	}
	n, bad := 0, 0
	for _, b := range fences(string(text), "text") {
		if !isDiagram(b.body) {
			continue
		}
		n++
		for i, line := range strings.Split(strings.TrimSuffix(b.body, "\n"), "\n") {
			for _, missing := range missingNames(line, where, some) {
				bad++
				rep.problems = append(rep.problems, fmt.Sprintf("%s:%d: diagram names %s", readme, b.line+1+i, missing))
			}
		}
	}
	if bad == 0 {
		rep.ok = append(rep.ok, fmt.Sprintf("%s: %s, each name found in %s", readme, plural(n, "diagram"), where))
	}
	return nil
}

// missingNames returns, for one diagram line, each name the code does not
// have and why, in the order they appear; has asks the stages in scope,
// which where names.
func missingNames(line, where string, has func(func(codeIndex) bool) bool) []string {
	type miss struct {
		at   int
		what string
	}
	var misses []miss
	seen := map[string]bool{}
	add := func(at int, what string) {
		if !seen[what] {
			seen[what] = true
			misses = append(misses, miss{at, what})
		}
	}
	for _, m := range goFileName.FindAllStringIndex(line, -1) {
		name := line[m[0]:m[1]]
		if !has(func(ix codeIndex) bool { return ix.hasFile(name) }) {
			add(m[0], fmt.Sprintf("%s, not a file in %s", name, where))
		}
	}
	qualified := map[int]bool{} // where the call of a file:call() starts
	for _, m := range fileCall.FindAllStringSubmatchIndex(line, -1) {
		file, name := line[m[2]:m[3]], line[m[4]:m[5]]
		qualified[m[4]] = true
		if !has(func(ix codeIndex) bool { return ix.hasFile(file) }) {
			continue // reported as a missing file
		}
		if !has(func(ix codeIndex) bool { return ix.fileHasFunc(file, name) }) {
			add(m[0], fmt.Sprintf("%s:%s(), but %s is not declared in %s of %s", file, name, name, file, where))
		}
	}
	for _, m := range call.FindAllStringSubmatchIndex(line, -1) {
		name := line[m[2]:m[3]]
		if qualified[m[2]] {
			continue
		}
		if !has(func(ix codeIndex) bool { return ix.hasFunc(name) }) {
			add(m[0], fmt.Sprintf("%s(), not a function or method in the product .go files (tests excluded) of %s", name, where))
		}
	}
	sort.SliceStable(misses, func(i, j int) bool { return misses[i].at < misses[j].at })
	out := make([]string, len(misses))
	for i, m := range misses {
		out[i] = m.what
	}
	return out
}
