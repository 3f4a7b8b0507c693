package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
)

func (a *app) auditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "audit",
		Short:   "Work with audit logs",
		Example: `  tollgate audit verify /var/log/tollgate/audit.jsonl`,
		Args:    args(0, "a subcommand: verify"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError(cmd, "missing subcommand: verify")
		},
	}
	cmd.AddCommand(a.auditVerifyCmd())
	return cmd
}

func (a *app) auditVerifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify FILE",
		Short: "Check the hash chain of an audit log (exit 0 intact, 1 tampered, 2 error)",
		Long: `verify checks every line of a hash-chained audit log written by this gateway:
that it is JSON, that its hash matches its content, that seq counts up from 1
and that prev_hash is the hash of the line before. An edited, deleted, inserted
or reordered line is reported with its line number. Lines removed from the end
cannot be detected from the file alone: compare the last hash with one kept
elsewhere.

The log is streamed, so its size is not limited (one line may hold at most
32 MiB).

Exit codes: 0 the chain is intact, 1 a line breaks it (the first such line is
printed), 2 the file is missing, unreadable, empty, not text, or not a
hash-chained log at all (its first line is not a JSON record with a hash, as
in Tollgate 1.4.0's own logs).`,
		Example: `  tollgate audit verify audit.jsonl`,
		Args:    args(1, "one argument, the audit log"),
		RunE: func(_ *cobra.Command, argv []string) error {
			path := argv[0]
			f, head, err := openLog(path)
			if err != nil {
				return err
			}
			defer f.Close()
			lines, err := audit.Verify(f)
			var ce *audit.ChainError
			switch {
			case errors.As(err, &ce) && ce.Line == 1 && !isChained(head):
				return fmt.Errorf("%s: not a hash-chained audit log (line 1 %s); Tollgate 1.4.0 logs have no chain", path, ce.Reason)
			case errors.As(err, &ce):
				return fail(exitFailed, fmt.Errorf("%s:%d: %s (%d line(s) before it verified)", path, ce.Line, ce.Reason, ce.Line-1))
			case err != nil:
				return fmt.Errorf("%s: %w", path, err)
			}
			fmt.Fprintf(a.stdout, "OK: %s: %d line(s), hash chain intact\n", path, lines)
			return nil
		},
	}
}

// openLog opens an audit log for verification, refusing what cannot be one:
// a directory, an empty file, binary data (checked on the first 64 KiB,
// which are returned as head). The returned reader starts at the beginning
// of the file.
func openLog(path string) (r io.ReadCloser, head []byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	st, err := f.Stat()
	switch {
	case err != nil:
		return nil, nil, err
	case st.IsDir():
		return nil, nil, fmt.Errorf("%s: is a directory, want a file", path)
	}
	br := bufio.NewReaderSize(f, headSize)
	head, err = br.Peek(headSize)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(bytes.TrimSpace(head)) == 0 {
		return nil, nil, fmt.Errorf("%s: file is empty, want an audit log", path)
	}
	if !isText(head, len(head) < headSize) {
		return nil, nil, fmt.Errorf("%s: not a text file (binary data), want a JSONL audit log", path)
	}
	return struct {
		io.Reader
		io.Closer
	}{br, f}, bytes.Clone(head), nil
}

const headSize = 64 << 10

// isChained reports whether the first line of a log (within head) is a JSON
// object with a hash key: a log this gateway wrote, whose first line was
// then damaged, rather than some other file. A first line longer than head
// counts as chained (the failure is then reported as tampering).
func isChained(head []byte) bool {
	line, _, found := bytes.Cut(head, []byte("\n"))
	if !found && len(head) == headSize {
		return true
	}
	v, err := tollgate.DecodeJSON(line)
	if err != nil {
		return false
	}
	obj, ok := v.(tollgate.Params)
	if !ok {
		return false
	}
	_, ok = obj.Get("hash")
	return ok
}

// isText reports whether b is UTF-8 without NUL bytes. When b may be cut
// short (complete is false), a rune split at its end is allowed.
func isText(b []byte, complete bool) bool {
	if bytes.IndexByte(b, 0) >= 0 {
		return false
	}
	if !complete && len(b) > 0 {
		i := len(b) - 1
		for i > 0 && i > len(b)-utf8.UTFMax && !utf8.RuneStart(b[i]) {
			i--
		}
		if !utf8.FullRune(b[i:]) {
			b = b[:i]
		}
	}
	return utf8.Valid(b)
}
