package audit

import (
	"strconv"

	"github.com/tollgate-go/tollgate/internal/pycompat"
)

// Kinds of record that describe no call. A call's record has no kind (and
// no "kind" key), as in Tollgate; a checkpoint ("checkpoint") is written by
// the FileSink itself.
const (
	// KindConfigLoaded: a new policy and manifest passed every check and
	// are in force (Config.Files carries each file's SHA-256).
	KindConfigLoaded = "config_loaded"
	// KindConfigRejected: a new configuration failed to load; the last good
	// one stays in force (Config.File, Config.Line and Config.Reason say
	// why).
	KindConfigRejected = "config_rejected"
)

// ConfigChange is the body of a config_loaded or config_rejected record.
type ConfigChange struct {
	Files  []ConfigFile // config_loaded: the files now in force
	File   string       // config_rejected: the file at fault ("" when none is)
	Line   int          // config_rejected: its line, 0 when unknown
	Reason string       // config_rejected: the error
}

// ConfigFile is one configuration file as it was loaded.
type ConfigFile struct {
	Role   string // "policy", "manifest"
	Path   string
	SHA256 string // lower-case hex of the bytes loaded
}

// Shadow is a candidate policy's decision on a call where it disagrees
// with the enforced one (shadow mode). It changes nothing about the call.
type Shadow struct {
	Decision string // ALLOW, ASK or DENY
	Rule     string // the candidate's matching rule id, "" when none matched
	Reason   string
}

// appendKindRecord writes a record that describes no call, in the form
//
//	{"schema_version": "1.0", "kind": "config_loaded", "timestamp": "…", "config": {"files": [{"role": "policy", "path": "…", "sha256": "…"}]}}
//	{"schema_version": "1.0", "kind": "config_rejected", "timestamp": "…", "config": {"file": "…", "line": 3, "reason": "…"}}
//
// (the chain keys follow, as on every line).
func (e *Event) appendKindRecord(dst []byte) []byte {
	js := pycompat.Log
	dst = e.appendSchemaVersion(dst)
	dst = append(dst, `, "kind": `...)
	dst = js.AppendString(dst, e.Kind)
	dst = append(dst, `, "timestamp": "`...)
	dst = appendTimestamp(dst, e.Timestamp)
	dst = append(dst, `", "config": {`...)
	c := e.Config
	if c == nil {
		c = &ConfigChange{}
	}
	if e.Kind == KindConfigLoaded {
		dst = append(dst, `"files": [`...)
		for i, f := range c.Files {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = append(dst, `{"role": `...)
			dst = js.AppendString(dst, f.Role)
			dst = append(dst, `, "path": `...)
			dst = js.AppendString(dst, f.Path)
			dst = append(dst, `, "sha256": `...)
			dst = js.AppendString(dst, f.SHA256)
			dst = append(dst, '}')
		}
		return append(dst, "]}}"...)
	}
	dst = append(dst, `"file": `...)
	dst = appendNullable(dst, c.File)
	dst = append(dst, `, "line": `...)
	dst = strconv.AppendInt(dst, int64(c.Line), 10)
	dst = append(dst, `, "reason": `...)
	dst = js.AppendString(dst, c.Reason)
	return append(dst, "}}"...)
}

// appendShadow writes `, "shadow": {"decision": …, "rule": …, "reason": …}`.
func appendShadow(dst []byte, s *Shadow) []byte {
	js := pycompat.Log
	dst = append(dst, `, "shadow": {"decision": `...)
	dst = js.AppendString(dst, s.Decision)
	dst = append(dst, `, "rule": `...)
	dst = appendNullable(dst, s.Rule)
	dst = append(dst, `, "reason": `...)
	dst = js.AppendString(dst, s.Reason)
	return append(dst, '}')
}
