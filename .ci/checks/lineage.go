package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// exempt holds the files at a stage's root that always differ (the README
// describes its own stage; go.mod names its module), so they need no bullet.
// A bullet may still name one of them if it changed.
var exempt = map[string]bool{"README.md": true, "go.mod": true}

// lineage checks every adjacent pair of stages under root (see stageOrder),
// listing files with git when root is in a work tree, else by walking.
func lineage(root string) (report, error) {
	list, how := chooseLister(root)
	rep, err := checkLineage(root, list)
	rep.ok = append([]string{"lineage: files listed by " + how}, rep.ok...)
	return rep, err
}

// checkLineage checks every adjacent pair of stages, listing files with list.
func checkLineage(root string, list lister) (report, error) {
	var rep report
	stages, err := stageOrder(root)
	if err != nil {
		return rep, err
	}
	if len(stages) < 2 {
		rep.ok = append(rep.ok, fmt.Sprintf("lineage: %s, nothing to compare", plural(len(stages), "stage")))
		return rep, nil
	}
	for i := 1; i < len(stages); i++ {
		ok, problems, err := checkPair(root, stages[i-1], stages[i], list)
		if err != nil {
			return rep, err
		}
		if ok != "" {
			rep.ok = append(rep.ok, ok)
		}
		rep.problems = append(rep.problems, problems...)
	}
	return rep, nil
}

// stageOrder returns the stages under root in lineage order: the
// directories named stageNN-*, sorted by name, then final if it exists.
func stageOrder(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var stages []string
	final := false
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if ok, _ := path.Match("stage[0-9][0-9]-*", e.Name()); ok {
			stages = append(stages, e.Name())
		}
		final = final || e.Name() == "final"
	}
	sort.Strings(stages)
	if final {
		stages = append(stages, "final")
	}
	return stages, nil
}

// checkPair checks that b's README names exactly the files that changed
// from a. It returns a summary line if the pair holds, else the problems.
func checkPair(root, a, b string, list lister) (ok string, problems []string, err error) {
	changed, err := changedFiles(root, a, b, list)
	if err != nil {
		return "", nil, err
	}
	readme, err := os.ReadFile(filepath.Join(root, b, "README.md"))
	if errors.Is(err, fs.ErrNotExist) {
		return "", []string{fmt.Sprintf("%s: README.md not found, so it has no %q section", b, sectionTitle)}, nil
	}
	if err != nil {
		return "", nil, err
	}
	bullets, found := whatChanged(string(readme))
	if !found {
		return "", []string{fmt.Sprintf("%s: README.md has no %q section", b, sectionTitle)}, nil
	}
	problems = matchBullets(a, b, changed, bullets)
	if len(problems) > 0 {
		return "", problems, nil
	}
	n := 0
	for _, p := range changed {
		if !exempt[p] {
			n++
		}
	}
	return fmt.Sprintf("%s: %s, all named", b, plural(n, "changed file")), nil, nil
}

// matchBullets returns one problem per changed file that no bullet names,
// and one per bullet whose name did not change. A name ending in "/" is a
// directory and covers every file under it.
func matchBullets(a, b string, changed []string, bullets []bullet) []string {
	var problems []string
	named := map[string]bool{}
	for _, bl := range bullets {
		name := strings.TrimPrefix(bl.name, "./")
		if name == "" {
			problems = append(problems, fmt.Sprintf("%s: README.md line %d: bullet in %q names no file in backticks", b, bl.line, sectionTitle))
			continue
		}
		covered := false
		for _, p := range changed {
			if p == name || strings.HasSuffix(name, "/") && strings.HasPrefix(p, name) {
				named[p] = true
				covered = true
			}
		}
		if !covered {
			problems = append(problems, fmt.Sprintf("%s: README names %s but it did not change from %s", b, name, a))
		}
	}
	for _, p := range changed {
		if !named[p] && !exempt[p] {
			problems = append(problems, fmt.Sprintf("%s: %s changed from %s but not named in %q", b, p, a, sectionTitle))
		}
	}
	return problems
}

// changedFiles returns, sorted, the files that are new in b, gone from b,
// or whose bytes differ from a's.
func changedFiles(root, a, b string, list lister) ([]string, error) {
	inA, err := fileSet(root, a, list)
	if err != nil {
		return nil, err
	}
	inB, err := fileSet(root, b, list)
	if err != nil {
		return nil, err
	}
	var changed []string
	for p := range inA {
		if !inB[p] {
			changed = append(changed, p) // removed
		}
	}
	for p := range inB {
		if !inA[p] {
			changed = append(changed, p) // new
			continue
		}
		same, err := sameFile(filepath.Join(root, a, p), filepath.Join(root, b, p))
		if err != nil {
			return nil, err
		}
		if !same {
			changed = append(changed, p)
		}
	}
	sort.Strings(changed)
	return changed, nil
}

// fileSet returns the files of a stage as a set.
func fileSet(root, stage string, list lister) (map[string]bool, error) {
	files, err := list(root, stage)
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(files))
	for _, f := range files {
		set[f] = true
	}
	return set, nil
}
