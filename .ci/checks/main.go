// Command checks runs the repository checks that go vet and go test cannot
// express: the lineage of the stages, the net/http ban, the ban on require
// directives, README excerpts that match the code, and README diagrams that
// name only files and functions the code has. .ci/run calls it;
// .ci/README.md says how to run it by hand.
//
//	checks lineage ROOT
//	checks deps ROOT
//	checks norequire ROOT
//	checks excerpts ROOT
//	checks diagrams ROOT
//
// It exits 0 when the check holds, 1 when it does not (one problem a line),
// and 2 on a usage error.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `usage: checks COMMAND ROOT

ROOT is the repository root (the directory holding go.work).

commands:
  lineage    every file that differs between adjacent stages is named in the
             later stage's "## What changed", and every name there changed
  deps       no workspace module's product code depends on net/http or net/textproto
  norequire  no go.mod under ROOT has a require directive
  excerpts   every Go code block in a stage's README is in that stage's .go files
  diagrams   every file and function a README diagram names exists: in a
             stage README, in that stage; in the root README, in a go.work module
`

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// A report is what a check found: one line per thing that holds, one per
// problem. The check holds when problems is empty.
type report struct {
	ok       []string
	problems []string
}

// commands maps each subcommand to its check.
var commands = map[string]func(root string) (report, error){
	"lineage":   lineage,
	"deps":      deps,
	"norequire": noRequire,
	"excerpts":  excerpts,
	"diagrams":  diagrams,
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the command named by args and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	name, root := args[0], args[1]
	check, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "checks: unknown command %q\n\n%s", name, usage)
		return exitUsage
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		fmt.Fprintf(stderr, "checks %s: %s is not a directory\n\n%s", name, root, usage)
		return exitUsage
	}
	rep, err := check(root)
	if err != nil {
		fmt.Fprintf(stderr, "checks %s: %v\n", name, err)
		return exitFail
	}
	for _, line := range rep.ok {
		fmt.Fprintln(stdout, line)
	}
	for _, line := range rep.problems {
		fmt.Fprintln(stdout, line)
	}
	if len(rep.problems) > 0 {
		fmt.Fprintf(stderr, "checks %s: %s\n", name, plural(len(rep.problems), "problem"))
		return exitFail
	}
	return exitOK
}

// plural returns "1 file", "2 files".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
