package main

import (
	"fmt"
	"strconv"
	"strings"
)

// workUses returns the directories named by the use directives of a
// go.work file, in file order, as written: single lines ("use ./a") and
// blocks ("use (" ... ")"). Comments and other directives are skipped.
func workUses(gowork string) ([]string, error) {
	var dirs []string
	block := "" // the verb of the open "verb (" block, if any
	for i, line := range strings.Split(gowork, "\n") {
		if j := strings.Index(line, "//"); j >= 0 {
			line = line[:j]
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case block != "":
			if f[0] == ")" {
				block = ""
			} else if block == "use" {
				dirs = append(dirs, unquote(f[0]))
			}
		case len(f) == 2 && f[1] == "(":
			block = f[0]
		case f[0] == "use":
			if len(f) < 2 {
				return nil, fmt.Errorf("go.work:%d: use without a directory", i+1)
			}
			dirs = append(dirs, unquote(f[1]))
		}
	}
	if block != "" {
		return nil, fmt.Errorf("go.work: %s block not closed", block)
	}
	return dirs, nil
}

// unquote removes Go string quotes from a path, if it has them.
func unquote(s string) string {
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return s
}
