package main

import "strings"

// sectionTitle is the README heading whose bullets name a stage's changes.
const sectionTitle = "## What changed"

// A bullet is a top-level list item of the "## What changed" section.
type bullet struct {
	line int    // 1-based line number in the README
	name string // its first backticked span; "" if it has none
}

// whatChanged returns the top-level bullets of the README's "## What
// changed" section, and whether the section exists. The section runs until
// the next line starting with "# " or "## ". Lines inside fenced code blocks
// are neither headings nor bullets. A bullet starts with "- " or "* " at the
// start of the line; indented items belong to a bullet and are not read.
func whatChanged(readme string) (bullets []bullet, found bool) {
	inFence := false
	for i, line := range strings.Split(readme, "\n") {
		line = strings.TrimRight(line, " \t\r")
		if isFence(line) {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		if !found {
			found = line == sectionTitle
			continue
		}
		if strings.HasPrefix(line, "# ") || strings.HasPrefix(line, "## ") {
			break
		}
		if strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "* ") {
			name, _ := firstCodeSpan(line[2:])
			bullets = append(bullets, bullet{line: i + 1, name: name})
		}
	}
	return bullets, found
}

// isFence reports whether line opens or closes a fenced code block.
func isFence(line string) bool {
	line = strings.TrimLeft(line, " ")
	return strings.HasPrefix(line, "```") || strings.HasPrefix(line, "~~~")
}

// firstCodeSpan returns the text of the first backticked span in s, trimmed
// of spaces: "`a.go` and `b`" gives "a.go". A span opened by n backticks is
// closed by the next run of exactly n, as in CommonMark, so a span opened
// by two backticks may hold one. An opening run with no closing run is plain text.
func firstCodeSpan(s string) (string, bool) {
	for {
		start := strings.IndexByte(s, '`')
		if start < 0 {
			return "", false
		}
		n := runLen(s, start)
		rest := s[start+n:]
		if end, ok := closingRun(rest, n); ok {
			return strings.TrimSpace(rest[:end]), true
		}
		s = rest
	}
}

// closingRun returns the index in s of the first run of exactly n backticks.
func closingRun(s string, n int) (int, bool) {
	for i := 0; i < len(s); {
		if s[i] != '`' {
			i++
			continue
		}
		m := runLen(s, i)
		if m == n {
			return i, true
		}
		i += m
	}
	return 0, false
}

// runLen returns the number of backticks in s starting at i.
func runLen(s string, i int) int {
	n := 0
	for i+n < len(s) && s[i+n] == '`' {
		n++
	}
	return n
}
