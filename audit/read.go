package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/pycompat"
)

// Record is one parsed audit line.
type Record struct {
	Line int // 1-based line number
	Event
	// Seq, PrevHash and Hash are the chain keys; zero and empty on lines
	// written by Tollgate itself.
	Seq      uint64
	PrevHash string
	Hash     string
	// Checkpoint is set for a checkpoint line (WithCheckpointKey), whose
	// Event holds only SchemaVersion, Kind and Timestamp. Read does not check
	// its signature (see VerifyCheckpoints).
	Checkpoint *Checkpoint
}

// Read parses each line of an audit log — ours, Tollgate 1.4's, or the
// pre-1.2 form without schema_version, grant_id and agent.delegated_by —
// and calls fn with it. Missing keys and nulls give zero values; a key of
// the wrong type is an error naming the line and key. A number in
// policy_version (Tollgate passes YAML's `version: 1.1` through as a float)
// is kept as its Python spelling. Read does not check the hash chain (see
// Verify). It stops at the first error, including one returned by fn; the
// *Record is reused between calls.
func Read(r io.Reader, fn func(*Record) error) error {
	lr := newLineReader(r)
	var rec Record
	for {
		line, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		rec = Record{Line: lr.line}
		if err := parseLine(line, &rec); err != nil {
			return fmt.Errorf("audit: line %d: %w", lr.line, err)
		}
		if isCheckpoint(line) {
			cp, err := parseCheckpoint(line)
			if err != nil {
				return fmt.Errorf("audit: line %d %v", lr.line, err)
			}
			rec.Checkpoint = cp
		}
		if err := fn(&rec); err != nil {
			return err
		}
	}
}

func parseLine(line []byte, rec *Record) error {
	v, err := tollgate.DecodeJSON(line)
	if err != nil {
		return err
	}
	obj, ok := v.(tollgate.Params)
	if !ok {
		return errors.New("want a JSON object")
	}
	var derr error
	d := decoder{obj: obj, err: &derr}
	e := &rec.Event
	e.SchemaVersion = d.str("schema_version")
	if ts := d.str("timestamp"); ts != "" {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			d.fail("timestamp", "an ISO 8601 time")
		}
		e.Timestamp = t
	}
	e.CorrelationID = d.str("correlation_id")
	e.RequestHash = d.str("request_hash")

	a := d.sub("agent")
	e.Agent = tollgate.Agent{
		ID: a.str("agent_id"), Version: a.str("version"), Owner: a.str("owner"),
		Metadata: a.object("metadata"), DelegatedBy: a.strings("delegated_by"),
	}
	in := d.sub("intent")
	e.Intent = tollgate.Intent{
		Action: in.str("action"), Reason: in.str("reason"),
		Confidence: in.float("confidence"), Metadata: in.object("metadata"),
	}
	tr := d.sub("tool_request")
	e.ToolRequest = tollgate.ToolRequest{
		Tool: tr.str("tool"), Action: tr.str("action"), ResourceType: tr.str("resource_type"),
		Effect: tollgate.Effect(tr.str("effect")), Params: tr.object("params"),
		Metadata: tr.object("metadata"), ManifestVersion: tr.str("manifest_version"),
	}
	dec := d.sub("decision")
	e.Decision = tollgate.Decision{
		Type: tollgate.DecisionType(dec.str("decision")), Reason: dec.str("reason"),
		PolicyID: dec.str("policy_id"), PolicyVersion: dec.version("policy_version"),
		Metadata: dec.object("metadata"),
	}
	e.Outcome = tollgate.Outcome(d.str("outcome"))
	e.ApprovalID = d.str("approval_id")
	e.GrantID = d.str("grant_id")
	e.ResultSummary = d.str("result_summary")
	e.PolicyVersion = d.version("policy_version")
	e.ManifestVersion = d.str("manifest_version")
	e.Stage = tollgate.Stage(d.str("stage"))
	e.ReasonCode = tollgate.Reason(d.str("reason_code"))
	if d.get("shadow") != nil {
		sh := d.sub("shadow")
		e.Shadow = &Shadow{Decision: sh.str("decision"), Rule: sh.str("rule"), Reason: sh.str("reason")}
	}
	e.TraceID, e.SpanID = d.str("trace_id"), d.str("span_id")
	e.Kind = d.str("kind")
	if d.get("config") != nil {
		e.Config = d.sub("config").config()
	}
	rec.PrevHash = d.str("prev_hash")
	rec.Hash = d.str("hash")
	if n, ok := d.get("seq").(json.Number); ok {
		seq, err := strconv.ParseUint(string(n), 10, 64)
		if err != nil {
			d.fail("seq", "a non-negative integer")
		}
		rec.Seq = seq
	} else if d.get("seq") != nil {
		d.fail("seq", "a non-negative integer")
	}
	return derr
}

// decoder reads typed keys from one object, remembering the first error so
// the caller checks once. A missing key and null both give the zero value.
type decoder struct {
	obj  tollgate.Params
	path string // "" at the top level, "agent." inside agent, ...
	err  *error // shared by a decoder and its subs
}

func (d decoder) get(key string) any {
	v, _ := d.obj.Get(key)
	return v
}

func (d decoder) fail(key, want string) {
	if *d.err == nil {
		*d.err = fmt.Errorf("%q: want %s", d.path+key, want)
	}
}

func (d decoder) str(key string) string {
	switch v := d.get(key).(type) {
	case nil:
		return ""
	case string:
		return v
	}
	d.fail(key, "a string or null")
	return ""
}

// version reads a policy version: a string, or a number spelt as Python
// prints it.
func (d decoder) version(key string) string {
	if n, ok := d.get(key).(json.Number); ok {
		return pycompat.FormatNumber(n)
	}
	return d.str(key)
}

func (d decoder) float(key string) *float64 {
	switch v := d.get(key).(type) {
	case nil:
		return nil
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err == nil {
			return &f
		}
	}
	d.fail(key, "a number or null")
	return nil
}

func (d decoder) object(key string) tollgate.Params {
	switch v := d.get(key).(type) {
	case nil:
		return nil
	case tollgate.Params:
		return v
	}
	d.fail(key, "an object or null")
	return nil
}

func (d decoder) strings(key string) []string {
	switch v := d.get(key).(type) {
	case nil:
		return nil
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				d.fail(key, "a list of strings")
				return nil
			}
			out[i] = s
		}
		return out
	}
	d.fail(key, "a list of strings or null")
	return nil
}

// config reads the body of a config_loaded or config_rejected record.
func (d decoder) config() *ConfigChange {
	c := &ConfigChange{File: d.str("file"), Reason: d.str("reason")}
	if n, ok := d.get("line").(json.Number); ok {
		line, err := strconv.Atoi(string(n))
		if err != nil || line < 0 {
			d.fail("line", "a non-negative integer")
		}
		c.Line = line
	} else if d.get("line") != nil {
		d.fail("line", "a non-negative integer")
	}
	files, ok := d.get("files").([]any)
	if !ok && d.get("files") != nil {
		d.fail("files", "a list of objects")
	}
	for i, v := range files {
		obj, ok := v.(tollgate.Params)
		if !ok {
			d.fail("files", "a list of objects")
			break
		}
		f := decoder{obj: obj, path: d.path + "files." + strconv.Itoa(i) + ".", err: d.err}
		c.Files = append(c.Files, ConfigFile{Role: f.str("role"), Path: f.str("path"), SHA256: f.str("sha256")})
	}
	return c
}

// sub returns a decoder for the object under key (empty when missing).
func (d decoder) sub(key string) decoder {
	return decoder{obj: d.object(key), path: d.path + key + ".", err: d.err}
}
