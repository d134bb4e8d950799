package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// A fence is one fenced code block of a README.
type fence struct {
	line int    // the README line of the opening fence, from 1
	body string // the lines between the fences, each ending in "\n"
}

// fences returns the code blocks of a README opened with info as their
// info string: a line "```" + info, the body, and a line "```". The
// excerpts check reads the "go" blocks, the diagrams check the "text" ones.
func fences(readme, info string) []fence {
	re := regexp.MustCompile("(?ms)^```" + regexp.QuoteMeta(info) + "\n(.*?)^```")
	var blocks []fence
	for _, m := range re.FindAllStringSubmatchIndex(readme, -1) {
		blocks = append(blocks, fence{
			line: strings.Count(readme[:m[0]], "\n") + 1,
			body: readme[m[2]:m[3]],
		})
	}
	return blocks
}

// excerpts checks that every Go code block in a stage's README appears,
// byte for byte and in one piece, in the .go files of that stage: a
// README's code is an excerpt, and the stage directory is the source of
// truth.
func excerpts(root string) (report, error) {
	var rep report
	stages, err := stageOrder(root)
	if err != nil {
		return rep, err
	}
	for _, stage := range stages {
		text, err := os.ReadFile(filepath.Join(root, stage, "README.md"))
		if os.IsNotExist(err) {
			continue // lineage reports a missing README
		}
		if err != nil {
			return rep, err
		}
		code, err := stageCode(filepath.Join(root, stage))
		if err != nil {
			return rep, err
		}
		blocks := fences(string(text), "go")
		stale := 0
		for _, b := range blocks {
			if !strings.Contains(code, b.body) {
				stale++
				rep.problems = append(rep.problems, fmt.Sprintf("%s: README excerpt not in its .go files: %q", stage, firstLine(b.body)))
			}
		}
		if stale == 0 {
			rep.ok = append(rep.ok, fmt.Sprintf("%s: %s, each found in the code", stage, plural(len(blocks), "Go excerpt")))
		}
	}
	return rep, nil
}

// stageCode is the text of every .go file directly in dir, one after
// another.
func stageCode(dir string) (string, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, name := range names {
		text, err := os.ReadFile(name)
		if err != nil {
			return "", err
		}
		b.Write(text)
		b.WriteByte('\n')
	}
	return b.String(), nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimLeft(s, "\n"), "\n")
	return line
}
