package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
)

func (a *app) auditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Work with audit logs",
		Example: `  tollgate audit verify /var/log/tollgate/audit.jsonl
  tollgate audit anomalies /var/log/tollgate/audit.jsonl`,
		Args: args(0, "a subcommand: verify or anomalies"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError(cmd, "missing subcommand: verify or anomalies")
		},
	}
	cmd.AddCommand(a.auditVerifyCmd(), a.auditAnomaliesCmd())
	return cmd
}

func (a *app) auditVerifyCmd() *cobra.Command {
	var pubPath, jwksPath string
	cmd := &cobra.Command{
		Use:   "verify FILE [--pub PREFIX.pub | --jwks FILE]",
		Short: "Check the hash chain and signed checkpoints of an audit log (exit 0 intact, 1 tampered, 2 error)",
		Long: `verify checks every line of a hash-chained audit log written by this gateway:
that it is JSON, that its hash matches its content, that seq counts up from 1
and that prev_hash is the hash of the line before. An edited, deleted, inserted
or reordered line is reported with its line number.

The hash chain has no key: someone who can write the file can edit a line and
recompute every later hash. A gateway given a checkpoint key (tollgate keygen's
PREFIX.key; audit.WithCheckpointKey, the tickets example's --audit-key) adds
signed checkpoint lines: Ed25519 signatures over the seq and hash of the line
before them. With --pub (keygen's PREFIX.pub) or --jwks (PREFIX.jwks.json, for
several keys) verify also checks every checkpoint: that it signs exactly the
line before it, with a trusted key. A log rewritten before its last checkpoint,
a forged or moved checkpoint, or a log without any checkpoint then fails.

Checkpoints prove the lines up to the last one were written by the key holder
and not changed since. They do not cover the lines after the last checkpoint
(reported as such), which someone with write access could still cut or
rewrite; nor lines cut from the end together with the checkpoints after them:
keep the last checkpoint (or FileSink.Head) elsewhere to detect that. A stolen
key signs anything.

The log is streamed, so its size is not limited (one line may hold at most
32 MiB).

Exit codes: 0 the chain (and, with a key, every checkpoint) is intact, 1 a
line breaks it (the first such line is printed) or, with a key, the log has no
checkpoint, 2 the file is missing, unreadable, empty, not text, or not a
hash-chained log at all (its first line is not a JSON record with a hash, as
in Tollgate 1.4.0's own logs), or the key file is bad.`,
		Example: `  tollgate audit verify audit.jsonl
  tollgate audit verify audit.jsonl --pub audit-signing.pub`,
		Args: args(1, "one argument, the audit log"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			keys, err := checkpointKeys(cmd, pubPath, jwksPath)
			if err != nil {
				return err
			}
			path := argv[0]
			f, head, err := openLog(path)
			if err != nil {
				return err
			}
			defer f.Close()
			sum, err := audit.VerifyCheckpoints(f, keys...)
			var ce *audit.ChainError
			switch {
			case errors.As(err, &ce) && ce.Line == 1 && !isChained(head):
				return fmt.Errorf("%s: not a hash-chained audit log (line 1 %s); Tollgate 1.4.0 logs have no chain", path, ce.Reason)
			case errors.As(err, &ce):
				return fail(exitFailed, fmt.Errorf("%s:%d: %s (%d line(s) before it verified)", path, ce.Line, ce.Reason, ce.Line-1))
			case errors.Is(err, audit.ErrNoCheckpoint):
				return fail(exitFailed, fmt.Errorf("%s: no signed checkpoint in %d line(s): the log is unsigned, or its checkpoints were removed", path, sum.Lines))
			case err != nil:
				return fmt.Errorf("%s: %w", path, err)
			}
			fmt.Fprintf(a.stdout, "OK: %s: %d line(s), hash chain intact", path, sum.Lines)
			switch {
			case len(keys) > 0:
				fmt.Fprintf(a.stdout, "; %d signed checkpoint(s) verified, the last at line %d (%s, key %s); %d line(s) after it are covered by the hash chain only\n",
					sum.Checkpoints, sum.Lines-sum.Unsigned, sum.Last.Time.UTC().Format(time.RFC3339), sum.Last.KeyID, sum.Unsigned)
			case sum.Checkpoints > 0:
				fmt.Fprintf(a.stdout, "; %d checkpoint(s) present, signatures not checked (pass --pub or --jwks)\n", sum.Checkpoints)
			default:
				fmt.Fprintln(a.stdout)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&pubPath, "pub", "", "check checkpoints with this Ed25519 public key (`PREFIX.pub`, PKIX PEM)")
	cmd.Flags().StringVar(&jwksPath, "jwks", "", "check checkpoints with the Ed25519 keys of this JWKS `FILE`")
	cmd.MarkFlagsMutuallyExclusive("pub", "jwks")
	return cmd
}

// checkpointKeys reads the keys given with --pub or --jwks (none: the
// checkpoints are not checked). Checkpoints name their key by
// identity.KeyID of the key itself, so a JWKS kid plays no part.
func checkpointKeys(cmd *cobra.Command, pubPath, jwksPath string) ([]ed25519.PublicKey, error) {
	switch {
	case cmd.Flags().Changed("pub") && pubPath == "", cmd.Flags().Changed("jwks") && jwksPath == "":
		return nil, usageError(cmd, "--pub and --jwks need a file")
	case pubPath != "":
		pub, err := readPublicKey(pubPath)
		if err != nil {
			return nil, err
		}
		return []ed25519.PublicKey{pub}, nil
	case jwksPath != "":
		set, err := readJWKS(jwksPath)
		if err != nil {
			return nil, err
		}
		keys := make([]ed25519.PublicKey, len(set))
		for i, k := range set {
			keys[i] = k.pub
		}
		return keys, nil
	}
	return nil, nil
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
