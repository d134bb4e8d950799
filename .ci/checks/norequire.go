package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// noRequire checks that no go.mod under root (outside .git) has a require
// directive, on one line or as a block: the workbook uses the standard
// library only.
func noRequire(root string) (report, error) {
	var rep report
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.IsDir() || d.Name() != "go.mod" {
			return nil
		}
		n++
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		for _, line := range requireLines(string(data)) {
			rep.problems = append(rep.problems, fmt.Sprintf("%s:%d: require directive (standard library only)", filepath.ToSlash(rel), line))
		}
		return nil
	})
	if len(rep.problems) == 0 {
		rep.ok = append(rep.ok, fmt.Sprintf("norequire: %s, none with a require directive", plural(n, "go.mod file")))
	}
	return rep, err
}

// requireLines returns the 1-based numbers of the lines of a go.mod that
// start a require directive: "require x v1" or "require (".
func requireLines(gomod string) []int {
	var lines []int
	for i, line := range strings.Split(gomod, "\n") {
		if j := strings.Index(line, "//"); j >= 0 {
			line = line[:j]
		}
		f := strings.Fields(line)
		if len(f) > 0 && (f[0] == "require" || strings.HasPrefix(f[0], "require(")) {
			lines = append(lines, i+1)
		}
	}
	return lines
}
