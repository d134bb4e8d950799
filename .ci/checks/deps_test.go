package main

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// modules holds tiny modules for a temporary workspace. Their go list
// needs only the standard library, so it works offline.
var modules = map[string]map[string]string{
	"plain": {
		"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hi\") }\n",
		// net/http in a test is welcome (section 2): it must not count.
		"main_test.go": "package main\n\nimport (\n\t\"net/http\"\n\t\"testing\"\n)\n\nfunc TestPeer(t *testing.T) { _ = http.Get }\n",
	},
	"usesnethttp": {
		"main.go": "package main\n\nimport \"net/http\"\n\nfunc main() { _ = http.ListenAndServe }\n",
	},
	"usestextproto": {
		// mime/multipart imports net/textproto: the chain says so.
		"main.go": "package main\n\nimport \"mime/multipart\"\n\nfunc main() { _ = multipart.NewReader }\n",
	},
}

func TestDeps(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not on PATH")
	}
	tests := []struct {
		name   string
		gowork string
		errors []string
		ok     int // modules that pass
	}{
		{"fmt_only_passes", "go 1.25\n\nuse ./plain\n", nil, 1},
		{"net_http_fails", "go 1.25\n\nuse (\n\t./plain\n\t./usesnethttp\n)\n",
			[]string{"usesnethttp: product code depends on net/http via usesnethttp -> net/http"}, 1},
		{"net_textproto_through_another_package_fails", "go 1.25\n\nuse ./usestextproto\n",
			[]string{"usestextproto: product code depends on net/textproto via usestextproto -> mime/multipart -> net/textproto"}, 0},
		{"listed_but_missing", "go 1.25\n\nuse ./plain\nuse ./stage09-later\n",
			[]string{"stage09-later: listed in go.work but does not exist"}, 0},
	}
	root := t.TempDir()
	for name, files := range modules {
		writeTree(t, filepath.Join(root, name), files)
		writeTree(t, filepath.Join(root, name), map[string]string{"go.mod": "module " + name + "\n\ngo 1.25\n"})
	}
	t.Setenv("GOWORK", "off") // as .ci/run runs the checks: deps must turn the workspace back on
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeTree(t, root, map[string]string{"go.work": tt.gowork})
			rep, err := deps(root)
			if err != nil {
				t.Fatal(err)
			}
			assertLines(t, "problems", rep.problems, tt.errors)
			if len(rep.ok) != tt.ok {
				t.Errorf("ok lines = %q; want %d", rep.ok, tt.ok)
			}
		})
	}
}

func TestBanned(t *testing.T) {
	tests := []struct {
		pkg  string
		want bool
	}{
		{"net/http", true},
		{"net/textproto", true},
		{"net/http/httptrace", true},
		{"net/http/internal/ascii", true},
		{"net", false},
		{"net/httpx", false},
		{"mime/multipart", false},
		{"vendor/golang.org/x/net/http/httpguts", false},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			if got := banned(tt.pkg); got != tt.want {
				t.Errorf("banned(%q) = %v; want %v", tt.pkg, got, tt.want)
			}
		})
	}
}
