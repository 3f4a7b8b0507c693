package approvals

import (
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"sync"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/pycompat"
)

// RequestHash is Tollgate 1.4.0's request_hash (§12.1): the lower-case hex
// SHA-256 of
//
//	agent_id|version|intent.action|tool|action|effect|resource_type|params|metadata
//
// where params and metadata are written as Python's
// json.dumps(sort_keys=True). It matches the hashes in Tollgate audit logs
// byte for byte. It is ambiguous (a "|" inside a field shifts the others)
// and leaves out the owner, the delegation chain and the intent reason;
// bind approvals with BindingHash instead.
//
// It runs on every call, so its only allocation is the returned string.
func RequestHash(agent tollgate.Agent, intent tollgate.Intent, req tollgate.ToolRequest) string {
	bp := hashBufs.Get().(*[]byte)
	buf := (*bp)[:0]
	for _, s := range [...]string{agent.ID, agent.Version, intent.Action, req.Tool, req.Action, string(req.Effect), req.ResourceType} {
		buf = append(buf, s...)
		buf = append(buf, '|')
	}
	buf = pycompat.Canonical.AppendParams(buf, req.Params)
	buf = append(buf, '|')
	buf = pycompat.Canonical.AppendParams(buf, req.Metadata)
	sum := sha256.Sum256(buf)
	if cap(buf) <= maxPooledHashBuf {
		*bp = buf
		hashBufs.Put(bp)
	}
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], sum[:])
	return string(out[:])
}

// hashBufs pools RequestHash's encoding buffers. Buffers grown past
// maxPooledHashBuf by a large call are left to the collector rather than
// kept for the rest of the process.
var hashBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

const maxPooledHashBuf = 64 << 10

// bindingDomain separates binding hashes from every other SHA-256 use and
// versions the encoding.
const bindingDomain = "tollgate/approvals.BindingHash/v1"

// BindingHash identifies a call for approval binding: the lower-case hex
// SHA-256 of an unambiguous encoding of the agent's ID, version, owner and
// delegation chain, the intent's action and reason, the tool, action,
// effect and resource type, the params and metadata, and the manifest
// version. Every string is length-prefixed and every value type-tagged, so
// no two different calls share an encoding ("a|b","c" and "a","b|c" differ;
// 1 and "1" differ; strings are hashed as raw bytes). Object keys are
// sorted, so key order does not matter; number text does ("1" and "1.0"
// differ).
//
// Agent metadata, intent confidence and intent metadata are left out: they
// may legitimately change between an approval and its use.
//
// A value outside the tollgate.Params model that encoding/json cannot
// encode, or nesting deeper than tollgate.MaxDepth, makes the hash random,
// so it matches nothing: such a call can never use an approval.
func BindingHash(agent tollgate.Agent, intent tollgate.Intent, req tollgate.ToolRequest) string {
	b := make([]byte, 0, 512)
	b = appendStr(b, bindingDomain)
	b = appendStr(b, agent.ID)
	b = appendStr(b, agent.Version)
	b = appendStr(b, agent.Owner)
	b = binary.AppendUvarint(b, uint64(len(agent.DelegatedBy)))
	for _, d := range agent.DelegatedBy {
		b = appendStr(b, d)
	}
	b = appendStr(b, intent.Action)
	b = appendStr(b, intent.Reason)
	b = appendStr(b, req.Tool)
	b = appendStr(b, req.Action)
	b = appendStr(b, string(req.Effect))
	b = appendStr(b, req.ResourceType)
	b = appendValue(b, req.Params, 0)
	b = appendValue(b, req.Metadata, 0)
	b = appendStr(b, req.ManifestVersion)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Type tags of appendValue.
const (
	tagNull   = 'z'
	tagTrue   = 't'
	tagFalse  = 'f'
	tagString = 's'
	tagNumber = 'n'
	tagArray  = 'a'
	tagObject = 'o'
	tagOther  = 'j' // encoding/json text of a value outside the model
	tagPoison = 'x' // random bytes: the value cannot be encoded
)

func appendValue(b []byte, v any, depth int) []byte {
	if depth > tollgate.MaxDepth {
		return appendPoison(b)
	}
	switch t := v.(type) {
	case nil:
		return append(b, tagNull)
	case bool:
		if t {
			return append(b, tagTrue)
		}
		return append(b, tagFalse)
	case string:
		return appendStr(append(b, tagString), t)
	case json.Number:
		return appendStr(append(b, tagNumber), string(t))
	case float64:
		return appendStr(append(b, tagNumber), strconv.FormatFloat(t, 'g', -1, 64))
	case int:
		return appendStr(append(b, tagNumber), strconv.Itoa(t))
	case int64:
		return appendStr(append(b, tagNumber), strconv.FormatInt(t, 10))
	case []string:
		b = binary.AppendUvarint(append(b, tagArray), uint64(len(t)))
		for _, s := range t {
			b = appendStr(append(b, tagString), s)
		}
		return b
	case []any:
		b = binary.AppendUvarint(append(b, tagArray), uint64(len(t)))
		for _, e := range t {
			b = appendValue(b, e, depth+1)
		}
		return b
	case tollgate.Params:
		fields := t
		if !slices.IsSortedFunc(t, byKey) {
			fields = slices.Clone(t)
			slices.SortStableFunc(fields, byKey)
		}
		b = binary.AppendUvarint(append(b, tagObject), uint64(len(fields)))
		for _, f := range fields {
			b = appendStr(b, f.Key)
			b = appendValue(b, f.Value, depth+1)
		}
		return b
	}
	text, err := json.Marshal(v)
	if err != nil {
		return appendPoison(b)
	}
	return appendStr(append(b, tagOther), string(text))
}

func byKey(a, b tollgate.Field) int { return cmp.Compare(a.Key, b.Key) }

func appendPoison(b []byte) []byte {
	var r [32]byte
	rand.Read(r[:])
	return append(append(b, tagPoison), r[:]...)
}
