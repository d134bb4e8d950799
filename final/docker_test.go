package main

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// No Docker engine may be where the tests run, so these check what can be
// checked without one: the Dockerfile has what the README promises, and
// the binary built as the Dockerfile builds it is static and probes itself.

// instructions reads the Dockerfile as instruction lines, with continued
// lines joined and comments dropped.
func instructions(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	var cur strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") || line == "" && cur.Len() == 0 {
			continue
		}
		if more, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(more + " ")
			continue
		}
		cur.WriteString(line)
		lines = append(lines, cur.String())
		cur.Reset()
	}
	return lines
}

// find returns the instructions that start with keyword.
func find(lines []string, keyword string) []string {
	var found []string
	for _, l := range lines {
		if strings.HasPrefix(l, keyword+" ") {
			found = append(found, strings.TrimPrefix(l, keyword+" "))
		}
	}
	return found
}

// execForm reports whether s is a JSON array of strings: the exec form, in
// which the program is PID 1 and gets signals itself.
func execForm(s string) ([]string, bool) {
	var args []string
	return args, json.Unmarshal([]byte(s), &args) == nil && len(args) > 0
}

func TestDockerfile(t *testing.T) {
	lines := instructions(t)
	from := find(lines, "FROM")
	if len(from) < 2 || !strings.Contains(from[0], " AS ") {
		t.Errorf("FROM %q; want a named build stage and a final one (multi-stage)", from)
	}
	if len(from) > 0 && !regexp.MustCompile(`^(scratch|gcr\.io/distroless/static\S*)$`).MatchString(from[len(from)-1]) {
		t.Errorf("final FROM %q; want a minimal image (scratch or distroless/static)", from[len(from)-1])
	}
	build := strings.Join(find(lines, "RUN"), "\n")
	for _, want := range []string{"CGO_ENABLED=0", "go build", "-trimpath"} {
		if !strings.Contains(build, want) {
			t.Errorf("RUN %q; want %s", build, want)
		}
	}
	if copies := find(lines, "COPY"); !slices.ContainsFunc(copies, func(c string) bool { return strings.HasPrefix(c, "--from=") }) {
		t.Errorf("COPY %q; want the binary copied from the build stage", copies)
	}
	user := find(lines, "USER")
	if len(user) != 1 || !regexp.MustCompile(`^[1-9][0-9]*(:[0-9]+)?$`).MatchString(user[0]) {
		t.Errorf("USER %q; want one numeric user that is not root", user)
	}
	if expose := find(lines, "EXPOSE"); !slices.Contains(expose, "8080") {
		t.Errorf("EXPOSE %q; want 8080", expose)
	}
	env := strings.Join(find(lines, "ENV"), " ")
	for _, want := range []string{"PORT=8080", "LOG_FORMAT=json"} {
		if !strings.Contains(env, want) {
			t.Errorf("ENV %q; want %s", env, want)
		}
	}
	entry := find(lines, "ENTRYPOINT")
	if args, ok := execForm(strings.Join(entry, "")); len(entry) != 1 || !ok || args[0] != "/http-server" {
		t.Errorf("ENTRYPOINT %q; want the exec form running /http-server", entry)
	}
	health := find(lines, "HEALTHCHECK")
	if len(health) != 1 {
		t.Fatalf("HEALTHCHECK %q; want one", health)
	}
	for _, option := range []string{"--interval=", "--timeout=", "--start-period=", "--retries="} {
		if !strings.Contains(health[0], option) {
			t.Errorf("HEALTHCHECK %q; want %s stated", health[0], option)
		}
	}
	_, cmd, _ := strings.Cut(health[0], "CMD ")
	if args, ok := execForm(cmd); !ok || !slices.Contains(args, "-healthcheck") {
		t.Errorf("HEALTHCHECK CMD %q; want the exec form running the binary's -healthcheck", cmd)
	}
}

func TestDockerignore(t *testing.T) {
	raw, err := os.ReadFile(".dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"*_test.go", "testdata/", "README.md"} {
		if !slices.Contains(strings.Split(string(raw), "\n"), want) {
			t.Errorf(".dockerignore does not keep out %s", want)
		}
	}
}

// The binary built as the Dockerfile builds it is static, holds no path of
// the machine that built it, and its -healthcheck tells a running copy from
// a stopped one.
func TestStaticBinaryProbesItself(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("checks an ELF binary")
	}
	bin := filepath.Join(t.TempDir(), "http-server")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	libs, _ := f.ImportedLibraries()
	interp := slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP })
	f.Close()
	if interp || len(libs) > 0 {
		t.Errorf("binary has an interpreter (%v) or libraries %q; want it static", interp, libs)
	}
	wd, _ := os.Getwd()
	if raw, _ := os.ReadFile(bin); bytes.Contains(raw, []byte(wd)) {
		t.Errorf("binary contains the build directory %s; want -trimpath to keep it out", wd)
	}

	p := startBinaryAt(t, bin)
	_, port, _ := strings.Cut(p.addr, ":")
	probe := func() int {
		cmd := exec.Command(bin, "-healthcheck")
		cmd.Env = append(os.Environ(), "PORT="+port) // as the container's ENV sets it
		if err := cmd.Run(); err != nil {
			if exit, ok := err.(*exec.ExitError); ok {
				return exit.ExitCode()
			}
			t.Fatal(err)
		}
		return 0
	}
	if code := probe(); code != 0 {
		t.Errorf("-healthcheck against a running server exited %d; want 0", code)
	}
	p.cmd.Process.Kill()
	p.exitCode(t, ioTimeout)
	if code := probe(); code != 1 {
		t.Errorf("-healthcheck with no server exited %d; want 1", code)
	}
}
