package replay

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
)

// record is the part of an audit line replay reads. It is decoded with
// encoding/json into fixed fields — several times faster than audit.Read's
// ordered decoding of every value — and the objects (params and metadata)
// are kept raw until the candidate needs them, so a million lines replay in
// seconds. Keys and types are audit.Read's; a null reads as empty. Unlike
// audit.Read, encoding/json lets the last of duplicated keys win and
// matches keys case-insensitively: a log written by the gateway has
// neither, and audit verify shows it was not edited since.
type record struct {
	Kind          string `json:"kind"`
	Seq           uint64 `json:"seq"`
	CorrelationID string `json:"correlation_id"`
	Agent         struct {
		ID          string          `json:"agent_id"`
		Version     string          `json:"version"`
		Owner       string          `json:"owner"`
		Metadata    json.RawMessage `json:"metadata"`
		DelegatedBy []string        `json:"delegated_by"`
	} `json:"agent"`
	Intent struct {
		Action   string          `json:"action"`
		Reason   string          `json:"reason"`
		Metadata json.RawMessage `json:"metadata"`
	} `json:"intent"`
	ToolRequest struct {
		Tool            string          `json:"tool"`
		Action          string          `json:"action"`
		ResourceType    string          `json:"resource_type"`
		Effect          string          `json:"effect"`
		Params          json.RawMessage `json:"params"`
		Metadata        json.RawMessage `json:"metadata"`
		ManifestVersion string          `json:"manifest_version"`
	} `json:"tool_request"`
	Decision struct {
		Decision string `json:"decision"`
		Reason   string `json:"reason"`
		PolicyID string `json:"policy_id"`
	} `json:"decision"`
	Outcome    string `json:"outcome"`
	Stage      string `json:"stage"`
	ReasonCode string `json:"reason_code"`

	line int
}

// lines reads an audit log line by line.
type lines struct {
	br   *bufio.Reader
	buf  []byte
	line int
}

// next returns the next line (valid until the next call) and its number;
// io.EOF after the last.
func (ls *lines) next() ([]byte, int, error) {
	ls.buf = ls.buf[:0]
	for {
		chunk, err := ls.br.ReadSlice('\n')
		ls.buf = append(ls.buf, chunk...)
		switch {
		case len(ls.buf) > audit.MaxLineSize+1:
			return nil, 0, fmt.Errorf("audit: line %d is longer than %d bytes", ls.line+1, audit.MaxLineSize)
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(ls.buf) == 0:
			return nil, 0, io.EOF
		case errors.Is(err, io.EOF):
			return nil, 0, fmt.Errorf("audit: line %d is incomplete (no trailing newline): the file was truncated or a write was torn", ls.line+1)
		case err != nil:
			return nil, 0, err
		}
		ls.line++
		return ls.buf, ls.line, nil
	}
}

// decode decodes line number n into rec.
func decode(line []byte, n int, rec *record) error {
	*rec = record{line: n}
	if err := json.Unmarshal(line, rec); err != nil {
		return fmt.Errorf("audit: line %d: %w", n, jsonError(err))
	}
	return nil
}

// newReader buffers src for lines.
func newReader(src io.Reader) *bufio.Reader { return bufio.NewReaderSize(src, 64<<10) }

// jsonError names the key of a type error as audit.Read does.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%q: want %s, got a JSON %s", te.Field, te.Type, te.Value)
	}
	return err
}

// object decodes a raw params or metadata object; null or absent is empty.
func object(raw json.RawMessage, what string, line int) (tollgate.Params, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "{}" {
		return nil, nil
	}
	v, err := tollgate.DecodeJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("audit: line %d: %q: %w", line, what, err)
	}
	p, ok := v.(tollgate.Params)
	if !ok {
		return nil, fmt.Errorf("audit: line %d: %q: want an object or null", line, what)
	}
	return p, nil
}
