package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	good := t.TempDir()
	writeTree(t, good, map[string]string{"stage01-a/go.mod": "module a\n\ngo 1.25\n"})
	bad := t.TempDir()
	writeTree(t, bad, map[string]string{"stage01-a/go.mod": "module a\n\ngo 1.25\n\nrequire x v1.0.0\n"})
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string // a substring of stdout
		stderrPart string // a substring of stderr
	}{
		{"no_args", nil, exitUsage, "", "usage: checks COMMAND ROOT"},
		{"no_root", []string{"norequire"}, exitUsage, "", "usage:"},
		{"unknown_command", []string{"lint", good}, exitUsage, "", `unknown command "lint"`},
		{"root_not_a_directory", []string{"norequire", filepath.Join(good, "nope")}, exitUsage, "", "is not a directory"},
		{"check_holds", []string{"norequire", good}, exitOK, "1 go.mod file, none with a require", ""},
		{"check_fails", []string{"norequire", bad}, exitFail, "stage01-a/go.mod:5: require directive", "checks norequire: 1 problem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("run(%q) = %d; want %d\nstdout: %s\nstderr: %s", tt.args, code, tt.code, &stdout, &stderr)
			}
			if !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("run(%q) stdout = %q; want it to contain %q", tt.args, &stdout, tt.stdout)
			}
			if !strings.Contains(stderr.String(), tt.stderrPart) {
				t.Errorf("run(%q) stderr = %q; want it to contain %q", tt.args, &stderr, tt.stderrPart)
			}
		})
	}
}
