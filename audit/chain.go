package audit

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/tollgate-go/tollgate"
)

// MaxLineSize bounds one audit line. FileSink refuses to write a longer
// event (the call is then refused, as for any audit failure) and readers
// refuse to read one, so a line the sink wrote can always be read back.
const MaxLineSize = 32 << 20

// GenesisHash is the prev_hash of the first line of a chain.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// hashKey is what ends the hashed part of a line: the hash covers every
// byte before it, including seq and prev_hash.
const hashKey = `, "hash": "`

// link is the hash-chain part of one line.
type link struct {
	seq  uint64
	prev string
	hash string
}

// errNoChain marks a line that is valid JSON but carries no chain keys
// (for example a line written by Tollgate itself).
var errNoChain = errors.New("has no hash chain")

// checkLine checks that line (without its newline) is a JSON object whose
// last three members are, in this exact form,
// `, "seq": N, "prev_hash": "<hex>", "hash": "<hex>"}`, and that hash is the
// SHA-256 of the bytes before `, "hash": `. The error is a reason phrase to
// follow "line N".
//
// Valid lines take the fast path: json.Valid plus a textual match of the
// tail. In a valid JSON text the matched members can only be the top-level
// object's last three (each key's opening quote follows a space, so it is
// not escaped, and it cannot close a string, or the text would not be
// valid). Only a line that fails is decoded in full, to say why.
func checkLine(line []byte) (link, error) {
	l, body, ok := parseTail(line)
	if !ok || !json.Valid(line) {
		return link{}, diagnose(line)
	}
	if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != l.hash {
		return link{}, errors.New("has been changed: its hash does not match its content")
	}
	return l, nil
}

// parseTail reads the chain members from the end of line and returns them
// with the bytes the hash covers.
func parseTail(line []byte) (l link, body []byte, ok bool) {
	rest, hash, ok := cutHexSuffix(line, hashKey, `"}`)
	if !ok {
		return link{}, nil, false
	}
	body = rest
	rest, prev, ok := cutHexSuffix(rest, `, "prev_hash": "`, `"`)
	if !ok {
		return link{}, nil, false
	}
	i := len(rest)
	for i > 0 && '0' <= rest[i-1] && rest[i-1] <= '9' {
		i--
	}
	seq, err := strconv.ParseUint(string(rest[i:]), 10, 64)
	if err != nil || seq == 0 || !bytes.HasSuffix(rest[:i], []byte(`, "seq": `)) {
		return link{}, nil, false
	}
	return link{seq: seq, prev: string(prev), hash: string(hash)}, body, true
}

// cutHexSuffix splits s into rest + before + <64 hex digits> + after.
func cutHexSuffix(s []byte, before, after string) (rest, digits []byte, ok bool) {
	n := len(before) + 2*sha256.Size + len(after)
	if len(s) < n || !bytes.HasSuffix(s, []byte(after)) {
		return nil, nil, false
	}
	tail := s[len(s)-n:]
	digits = tail[len(before) : len(before)+2*sha256.Size]
	if string(tail[:len(before)]) != before || !isHexHash(string(digits)) {
		return nil, nil, false
	}
	return s[:len(s)-n], digits, true
}

// diagnose says why line is not a chain line.
func diagnose(line []byte) error {
	v, err := tollgate.DecodeJSON(line)
	if err != nil {
		return fmt.Errorf("is not valid JSON: %v", err)
	}
	obj, ok := v.(tollgate.Params)
	if !ok {
		return errors.New("is not a JSON object")
	}
	_, hasSeq := obj.Get("seq")
	_, hasPrev := obj.Get("prev_hash")
	_, hasHash := obj.Get("hash")
	if !hasSeq && !hasPrev && !hasHash {
		return errNoChain
	}
	n := len(obj)
	if n < 3 || obj[n-3].Key != "seq" || obj[n-2].Key != "prev_hash" || obj[n-1].Key != "hash" {
		return errors.New("does not end with the keys seq, prev_hash, hash")
	}
	if num, ok := obj[n-3].Value.(json.Number); !ok || !isPositiveInt(string(num)) {
		return errors.New("has a seq that is not a positive integer")
	}
	prev, _ := obj[n-2].Value.(string)
	hash, _ := obj[n-1].Value.(string)
	if !isHexHash(prev) || !isHexHash(hash) {
		return errors.New("has a prev_hash or hash that is not 64 lower-case hex digits")
	}
	return errors.New(`does not end with ', "seq": N, "prev_hash": "<hex>", "hash": "<hex>"}' in exactly this form`)
}

func isPositiveInt(s string) bool {
	n, err := strconv.ParseUint(s, 10, 64)
	return err == nil && n > 0
}

func isHexHash(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ChainError names the first line of a log that breaks the hash chain.
type ChainError struct {
	Line   int    // 1-based
	Reason string // e.g. "has been changed: its hash does not match its content"
}

func (e *ChainError) Error() string { return fmt.Sprintf("audit: line %d %s", e.Line, e.Reason) }

// lineReader yields the lines of a log without their newlines.
type lineReader struct {
	br   *bufio.Reader
	buf  []byte
	line int // number of the line last returned
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next line, io.EOF after the last complete line, a
// *ChainError for an incomplete or oversized line, or the reader's error.
// The returned slice is valid until the next call.
func (lr *lineReader) next() ([]byte, error) {
	lr.buf = lr.buf[:0]
	for {
		chunk, err := lr.br.ReadSlice('\n')
		lr.buf = append(lr.buf, chunk...)
		if len(lr.buf) > MaxLineSize+1 {
			return nil, &ChainError{Line: lr.line + 1, Reason: fmt.Sprintf("is longer than %d bytes", MaxLineSize)}
		}
		switch {
		case err == nil:
			lr.line++
			return lr.buf[:len(lr.buf)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(lr.buf) == 0:
			return nil, io.EOF
		case errors.Is(err, io.EOF):
			return nil, &ChainError{Line: lr.line + 1, Reason: "is incomplete (no trailing newline): the file was truncated or a write was torn"}
		default:
			return nil, err
		}
	}
}

// Verify reads a hash-chained audit log and checks every line: that it is
// JSON, that its hash matches its content, that seq counts up from 1 and
// that prev_hash is the hash of the line before (GenesisHash for line 1).
// It returns the number of lines verified and, on failure, a *ChainError
// naming the first bad line (or the reader's error). An edited, deleted,
// inserted or reordered line is detected; lines removed from the end are
// not, unless the last hash is compared with one kept elsewhere
// (FileSink.Head). Nor is a rewrite of the whole chain by someone who can
// write the file: VerifyCheckpoints with the checkpoint key catches that
// up to the last checkpoint.
func Verify(r io.Reader) (lines int, err error) {
	s, err := VerifyCheckpoints(r)
	return s.Lines, err
}

// Summary is what VerifyCheckpoints found.
type Summary struct {
	Lines       int         // lines verified (on failure: before the bad one)
	Checkpoints int         // checkpoint lines among them
	Last        *Checkpoint // the last checkpoint, when keys were given and there is one
	// Unsigned counts the lines after the last checkpoint (all of them
	// when there is none): only the hash chain vouches for them.
	Unsigned int
}

// ErrNoCheckpoint is returned by VerifyCheckpoints, given keys, for a log
// without a single checkpoint: nothing in it is signed.
var ErrNoCheckpoint = errors.New("audit: the log has no signed checkpoint")

// VerifyCheckpoints verifies the hash chain as Verify does and, when keys
// are given, every checkpoint line (see WithCheckpointKey): that it is
// well-formed, that it names exactly the line before it — its seq and hash
// — and that its Ed25519 signature verifies under the key whose
// identity.KeyID it names, one of keys. So a log edited and re-chained
// after a checkpoint fails at that checkpoint, and a forged checkpoint
// fails its signature. Given keys, a log without any checkpoint fails with
// ErrNoCheckpoint.
//
// The lines after the last checkpoint are counted in Summary.Unsigned: they
// are only hash-chained, so someone who can write the file could have cut
// or rewritten them. Without keys, checkpoints are counted, not checked.
func VerifyCheckpoints(r io.Reader, keys ...ed25519.PublicKey) (Summary, error) {
	trusted := keyIDs(keys)
	lr := newLineReader(r)
	var s Summary
	prev := GenesisHash
	for {
		line, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return s, err
		}
		n := lr.line
		l, err := checkLine(line)
		if err != nil {
			return s, &ChainError{Line: n, Reason: err.Error()}
		}
		if l.seq != uint64(n) {
			return s, &ChainError{Line: n, Reason: fmt.Sprintf("has seq %d, want %d: a line was deleted, inserted or moved", l.seq, n)}
		}
		if l.prev != prev {
			reason := "has a prev_hash that is not the genesis hash"
			if n > 1 {
				reason = fmt.Sprintf("has a prev_hash that does not match the hash of line %d", n-1)
			}
			return s, &ChainError{Line: n, Reason: reason}
		}
		s.Unsigned++
		if isCheckpoint(line) {
			if len(keys) > 0 {
				cp, err := parseCheckpoint(line)
				if err == nil {
					err = checkCheckpoint(cp, n, prev, trusted)
				}
				if err != nil {
					return s, &ChainError{Line: n, Reason: err.Error()}
				}
				s.Last = cp
			}
			s.Checkpoints++
			s.Unsigned = 0
		}
		s.Lines = n
		prev = l.hash
	}
	if len(keys) > 0 && s.Checkpoints == 0 {
		return s, ErrNoCheckpoint
	}
	return s, nil
}

// VerifyFile runs Verify on the file at path.
func VerifyFile(path string) (lines int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return Verify(f)
}
