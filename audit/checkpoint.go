package audit

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/identity"
)

// A checkpoint is a line of the chain like any other, in this exact form:
//
//	{"schema_version": "1.0", "kind": "checkpoint", "timestamp": "…", "checkpoint": {"seq": N, "hash": "<hex>", "key_id": "…", "signature": "<base64url>"}, "seq": N+1, "prev_hash": "<hex>", "hash": "<hex>"}
//
// It signs the head of the chain before it — seq N and hash of line N —
// so it is bound to that position: line N's hash covers every line up to
// it, and the checkpoint's own chain keys follow on.
const checkpointPrefix = `{"schema_version": "` + SchemaVersion + `", "kind": "checkpoint", `

// checkpointDomain starts every signed message, so that a checkpoint
// signature can never be taken for a signature over anything else the key
// signs (manifests, tokens).
const checkpointDomain = "tollgate/audit.checkpoint/v1\n"

// Checkpoint is a signed statement that line Seq of a log had hash Hash at
// time Time. Verify checks it against the chain with the public key whose
// identity.KeyID is KeyID.
type Checkpoint struct {
	Seq       uint64 // the last line it covers
	Hash      string // that line's hash (GenesisHash when Seq is 0)
	Time      time.Time
	KeyID     string
	Signature []byte // Ed25519 over signedMessage

	timestamp string // Time as written and signed
}

// signedMessage is what a checkpoint's signature covers.
func signedMessage(seq uint64, hash, timestamp, keyID string) []byte {
	msg := make([]byte, 0, len(checkpointDomain)+20+len(hash)+len(timestamp)+len(keyID)+4)
	msg = append(msg, checkpointDomain...)
	msg = strconv.AppendUint(msg, seq, 10)
	msg = append(msg, '\n')
	msg = append(msg, hash...)
	msg = append(msg, '\n')
	msg = append(msg, timestamp...)
	msg = append(msg, '\n')
	msg = append(msg, keyID...)
	return append(msg, '\n')
}

// checkpointer decides when the writer appends a checkpoint, and signs it.
// It is leader-only state, like the rest of the writer's chain state.
type checkpointer struct {
	key      ed25519.PrivateKey
	keyID    string
	every    int           // records between checkpoints; 0: no count trigger
	interval time.Duration // time between checkpoints; 0: no time trigger
	now      func() time.Time

	pending int       // records since the last checkpoint
	last    time.Time // when the last checkpoint was written (or the sink opened)
}

// due reports whether a checkpoint should follow the records written so
// far: after every records, or interval after the last one.
func (c *checkpointer) due(now time.Time) bool {
	return c.pending > 0 && (c.every > 0 && c.pending >= c.every || c.interval > 0 && now.Sub(c.last) >= c.interval)
}

// appendLine appends the checkpoint JSON (without chain keys, like an
// event) for the head seq/hash, signed at now.
func (c *checkpointer) appendLine(dst []byte, seq uint64, hash []byte, now time.Time) []byte {
	ts := string(appendTimestamp(nil, now))
	sig := ed25519.Sign(c.key, signedMessage(seq, string(hash), ts, c.keyID))
	dst = append(dst, checkpointPrefix...)
	dst = append(dst, `"timestamp": "`...)
	dst = append(dst, ts...)
	dst = append(dst, `", "checkpoint": {"seq": `...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `, "hash": "`...)
	dst = append(dst, hash...)
	dst = append(dst, `", "key_id": "`...)
	dst = append(dst, c.keyID...)
	dst = append(dst, `", "signature": "`...)
	dst = base64.RawURLEncoding.AppendEncode(dst, sig)
	return append(dst, `"}}`...)
}

// isCheckpoint reports whether a chain line is a checkpoint. Only lines in
// the exact form the writer uses count: an event line always starts with
// schema_version then timestamp.
func isCheckpoint(line []byte) bool { return bytes.HasPrefix(line, []byte(checkpointPrefix)) }

// parseCheckpoint decodes a checkpoint line, refusing any other shape.
func parseCheckpoint(line []byte) (*Checkpoint, error) {
	v, err := tollgate.DecodeJSON(line)
	if err != nil {
		return nil, fmt.Errorf("is not valid JSON: %v", err)
	}
	obj, _ := v.(tollgate.Params)
	if !hasKeys(obj, "schema_version", "kind", "timestamp", "checkpoint", "seq", "prev_hash", "hash") {
		return nil, errors.New("is a checkpoint with other keys than schema_version, kind, timestamp, checkpoint, seq, prev_hash, hash")
	}
	body, _ := obj[3].Value.(tollgate.Params)
	if !hasKeys(body, "seq", "hash", "key_id", "signature") {
		return nil, errors.New(`is a checkpoint whose "checkpoint" is not an object of seq, hash, key_id, signature`)
	}
	cp := &Checkpoint{}
	cp.timestamp, _ = obj[2].Value.(string)
	if cp.Time, err = time.Parse(time.RFC3339Nano, cp.timestamp); err != nil {
		return nil, errors.New("is a checkpoint without a valid timestamp")
	}
	num, _ := body[0].Value.(json.Number)
	if cp.Seq, err = strconv.ParseUint(string(num), 10, 64); err != nil {
		return nil, errors.New("is a checkpoint without a valid seq")
	}
	cp.Hash, _ = body[1].Value.(string)
	cp.KeyID, _ = body[2].Value.(string)
	sig, _ := body[3].Value.(string)
	if !isHexHash(cp.Hash) || cp.KeyID == "" {
		return nil, errors.New("is a checkpoint without a valid hash or key_id")
	}
	if cp.Signature, err = base64.RawURLEncoding.DecodeString(sig); err != nil || len(cp.Signature) != ed25519.SignatureSize {
		return nil, errors.New("is a checkpoint whose signature is not a base64url Ed25519 signature")
	}
	return cp, nil
}

// hasKeys reports whether p has exactly these keys, in this order.
func hasKeys(p tollgate.Params, keys ...string) bool {
	if len(p) != len(keys) {
		return false
	}
	for i, k := range keys {
		if p[i].Key != k {
			return false
		}
	}
	return true
}

// checkCheckpoint checks a parsed checkpoint found on chain line n whose
// prev_hash is prev: it must sign exactly the line before it, with one of
// keys.
func checkCheckpoint(cp *Checkpoint, n int, prev string, keys map[string]ed25519.PublicKey) error {
	if cp.Seq != uint64(n-1) || cp.Hash != prev {
		return fmt.Errorf("is a checkpoint for line %d with hash %.12s…, but it follows line %d with hash %.12s…: the lines it covers were changed, or it was moved", cp.Seq, cp.Hash, n-1, prev)
	}
	pub, ok := keys[cp.KeyID]
	if !ok {
		return fmt.Errorf("is a checkpoint signed by key %q, which is not a trusted key", cp.KeyID)
	}
	if !ed25519.Verify(pub, signedMessage(cp.Seq, cp.Hash, cp.timestamp, cp.KeyID), cp.Signature) {
		return errors.New("is a checkpoint whose signature does not verify: it was forged or changed")
	}
	return nil
}

// keyIDs indexes trusted keys by their identity.KeyID.
func keyIDs(keys []ed25519.PublicKey) map[string]ed25519.PublicKey {
	m := make(map[string]ed25519.PublicKey, len(keys))
	for _, k := range keys {
		m[identity.KeyID(k)] = k
	}
	return m
}
