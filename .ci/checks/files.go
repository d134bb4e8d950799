package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// A lister returns the files of one stage: slash paths relative to the
// stage directory root/stage.
type lister func(root, stage string) ([]string, error)

// chooseLister returns gitFiles when root is inside a git work tree, so
// that ignored build outputs do not count, and walkFiles otherwise.
func chooseLister(root string) (lister, string) {
	if inGitWorkTree(root) {
		return gitFiles, "git ls-files"
	}
	return walkFiles, "a directory walk (not a git work tree)"
}

// inGitWorkTree reports whether git is on PATH and root is inside a work tree.
func inGitWorkTree(root string) bool {
	if _, err := exec.LookPath("git"); err != nil {
		return false
	}
	cmd := exec.Command("git", "rev-parse", "--is-inside-work-tree")
	cmd.Dir = root
	out, err := cmd.Output()
	return err == nil && strings.TrimSpace(string(out)) == "true"
}

// gitFiles lists the files git tracks or would track under root/stage:
// tracked, plus untracked ones that .gitignore does not exclude. A tracked
// file deleted from the work tree does not count.
func gitFiles(root, stage string) ([]string, error) {
	cmd := exec.Command("git", "--literal-pathspecs", "ls-files", "-z",
		"--cached", "--others", "--exclude-standard", "--", stage)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-files %s: %v: %s", stage, err, strings.TrimSpace(stderr.String()))
	}
	seen := map[string]bool{} // an unmerged path is listed once per stage
	var files []string
	for _, p := range strings.Split(string(out), "\x00") {
		rel, ok := strings.CutPrefix(p, stage+"/")
		if !ok || seen[rel] {
			continue
		}
		fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(p)))
		if err != nil || fi.IsDir() { // deleted, or a submodule
			continue
		}
		seen[rel] = true
		files = append(files, rel)
	}
	return files, nil
}

// walkFiles lists every file under root/stage, skipping .git directories.
func walkFiles(root, stage string) ([]string, error) {
	dir := filepath.Join(root, stage)
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	return files, err
}

// sameFile reports whether files a and b have the same bytes; for
// symbolic links, the same target.
func sameFile(a, b string) (bool, error) {
	ca, err := content(a)
	if err != nil {
		return false, err
	}
	cb, err := content(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(ca, cb), nil
}

// content returns a file's bytes, or "symlink:" and the target for a link.
func content(name string) ([]byte, error) {
	fi, err := os.Lstat(name)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(name)
		return []byte("symlink:" + target), err
	}
	return os.ReadFile(name)
}
