package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK      = 0 // success; test-policy: all passed; check: ALLOW; verify: valid
	exitFailed  = 1 // test-policy: a scenario failed; lint: errors; verify: invalid
	exitUsage   = 2 // bad arguments, unreadable or invalid input
	exitAsk     = 3 // check: ASK
	exitDenied  = 4 // check: DENY
	maxErrorLen = 2000
)

// exitError ends a command with code. A nil err means the command already
// printed what the user needs; otherwise err is printed as one line.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// exit returns an error that ends the command with code, printing nothing.
func exit(code int) error { return &exitError{code: code} }

// fail returns an error that ends the command with code, printing err.
func fail(code int, err error) error { return &exitError{code: code, err: err} }

// run is the whole program, with its environment passed in so tests can run
// it in-process. It returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot(stdin, stdout, stderr)
	if isBareForm(root, args) {
		args = append([]string{"test-policy"}, args...)
	}
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	code := exitUsage
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		err = ee.err
	}
	if err != nil {
		fmt.Fprintf(stderr, "Error: %s\n", oneLine(err.Error()))
	}
	return code
}

// isBareForm reports whether args are Tollgate 1.4.0's working invocation,
// `tollgate POLICY --scenarios FILE [-q]`: no known command first, and a
// --scenarios/-s flag somewhere or a YAML file first (so that a forgotten
// --scenarios is reported as such, not as an unknown command).
func isBareForm(root *cobra.Command, args []string) bool {
	if len(args) == 0 || args[0] == "help" {
		return false
	}
	if cmd, _, err := root.Find(args[:1]); err == nil && cmd != root {
		return false
	}
	if strings.HasSuffix(args[0], ".yaml") || strings.HasSuffix(args[0], ".yml") {
		return true
	}
	return slices.ContainsFunc(args, func(a string) bool {
		return a == "--scenarios" || strings.HasPrefix(a, "--scenarios=") ||
			(strings.HasPrefix(a, "-s") && !strings.HasPrefix(a, "--"))
	})
}

// oneLine keeps an error message on one line and bounded in length.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxErrorLen {
		s = s[:maxErrorLen] + "..."
	}
	return s
}
