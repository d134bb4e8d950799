package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// banned reports whether product code may not depend on pkg: net/http,
// everything under it, and net/textproto: the server is built without them.
func banned(pkg string) bool {
	return pkg == "net/http" || pkg == "net/textproto" || strings.HasPrefix(pkg, "net/http/")
}

// deps checks that no module listed in root/go.work depends, outside its
// tests, on a banned package. It runs go list in each module directory with
// the workspace on, whatever GOWORK the caller has.
func deps(root string) (report, error) {
	var rep report
	gowork, err := filepath.Abs(filepath.Join(root, "go.work"))
	if err != nil {
		return rep, err
	}
	data, err := os.ReadFile(gowork)
	if err != nil {
		return rep, err
	}
	dirs, err := workUses(string(data))
	if err != nil {
		return rep, err
	}
	// go refuses the whole workspace if one directory is missing.
	for _, dir := range dirs {
		if _, err := os.Stat(moduleDir(gowork, dir)); errors.Is(err, fs.ErrNotExist) {
			rep.problems = append(rep.problems, fmt.Sprintf("%s: listed in go.work but does not exist", filepath.Clean(dir)))
		}
	}
	if len(rep.problems) > 0 {
		return rep, nil
	}
	for _, dir := range dirs {
		ok, problems := checkModule(gowork, dir)
		rep.ok = append(rep.ok, ok...)
		rep.problems = append(rep.problems, problems...)
	}
	return rep, nil
}

// checkModule checks one module of the workspace gowork, named by its
// use directive dir.
func checkModule(gowork, dir string) (ok, problems []string) {
	name := filepath.Clean(dir)
	imports, order, err := goListDeps(moduleDir(gowork, dir), gowork)
	if err != nil {
		return nil, []string{fmt.Sprintf("%s: %v", name, err)}
	}
	for _, chain := range bannedChains(imports, order[len(order)-1]) {
		problems = append(problems, fmt.Sprintf("%s: product code depends on %s via %s",
			name, chain[len(chain)-1], strings.Join(chain, " -> ")))
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return []string{fmt.Sprintf("%s: %s, no net/http or net/textproto", name, plural(len(order), "package"))}, nil
}

// moduleDir returns the directory a use directive names, relative to go.work.
func moduleDir(gowork, dir string) string {
	if filepath.IsAbs(dir) {
		return dir
	}
	return filepath.Join(filepath.Dir(gowork), dir)
}

// goListDeps runs "go list -deps ." in dir with the workspace gowork and
// returns each package's imports and the packages in go list's order, which
// ends with the package in dir itself.
func goListDeps(dir, gowork string) (map[string][]string, []string, error) {
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", ".")
	cmd.Dir = dir
	cmd.Env = append(withoutGOWORK(os.Environ()), "GOWORK="+gowork)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, nil, fmt.Errorf("go list -deps .: %v\n%s", err, strings.TrimSpace(stderr.String()))
	}
	imports := map[string][]string{}
	var order []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		imports[f[0]] = f[1:]
		order = append(order, f[0])
	}
	if len(order) == 0 {
		return nil, nil, fmt.Errorf("go list -deps . printed nothing")
	}
	return imports, order, nil
}

// withoutGOWORK returns env without its GOWORK entries (such as the
// GOWORK=off the checks module itself runs under).
func withoutGOWORK(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "GOWORK=") {
			out = append(out, kv)
		}
	}
	return out
}

// bannedChains returns, for each banned package reachable from top without
// passing through another banned one, the shortest import chain from top
// to it: [top mime/multipart net/textproto].
func bannedChains(imports map[string][]string, top string) [][]string {
	from := map[string]string{top: ""}
	queue := []string{top}
	var chains [][]string
	for len(queue) > 0 {
		pkg := queue[0]
		queue = queue[1:]
		if banned(pkg) {
			chains = append(chains, chainTo(from, pkg))
			continue // what it imports is its own business
		}
		for _, imp := range imports[pkg] {
			if _, seen := from[imp]; !seen {
				from[imp] = pkg
				queue = append(queue, imp)
			}
		}
	}
	return chains
}

// chainTo follows from back to the top package and returns the chain.
func chainTo(from map[string]string, pkg string) []string {
	var chain []string
	for p := pkg; p != ""; p = from[p] {
		chain = append([]string{p}, chain...)
	}
	return chain
}
