package integrity

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/internal/pycompat"
)

// checksum is Tollgate's: the SHA-256 hex of json.dumps(v, sort_keys=True).
// pycompat writes the same bytes Python does (key order, escapes, number
// spelling), so a checksum matches the one Tollgate 1.4.0 stores for the
// same value, and reordering a context's keys is not a change.
func checksum(buf []byte, v any) ([]byte, string) {
	buf = pycompat.Canonical.AppendJSON(buf[:0], v)
	sum := sha256.Sum256(buf)
	return buf, hex.EncodeToString(sum[:])
}

// digest is a context's checksums: the whole map's and each top-level
// field's, fields in the context's order.
type digest struct {
	sum    string
	names  []string
	fields map[string]string
}

// digestOf validates c and hashes it. Only the tollgate.Params value model
// is accepted, so every value has exactly one spelling: Tollgate's
// default=str has no counterpart, and a duplicate key would make "the"
// value of a field ambiguous.
func digestOf(c tollgate.Params, maxFields int) (digest, error) {
	if len(c) > maxFields {
		return digest{}, fmt.Errorf("integrity: context has %d fields, the limit is %d", len(c), maxFields)
	}
	if err := validate(c, 0); err != nil {
		return digest{}, err
	}
	d := digest{names: make([]string, len(c)), fields: make(map[string]string, len(c))}
	var buf []byte
	for i, f := range c {
		d.names[i] = f.Key
		buf, d.fields[f.Key] = checksum(buf, f.Value)
	}
	_, d.sum = checksum(buf, c)
	return d, nil
}

func validate(v any, depth int) error {
	if depth > tollgate.MaxDepth {
		return fmt.Errorf("integrity: context nests deeper than %d", tollgate.MaxDepth)
	}
	switch t := v.(type) {
	case nil, bool, string:
		return nil
	case json.Number:
		if t == "" || (t[0] != '-' && (t[0] < '0' || t[0] > '9')) || !json.Valid([]byte(t)) {
			return fmt.Errorf("integrity: %q is not a JSON number", string(t))
		}
		return nil
	case []any:
		for _, e := range t {
			if err := validate(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	case tollgate.Params:
		seen := make(map[string]struct{}, len(t))
		for _, f := range t {
			if _, dup := seen[f.Key]; dup {
				return fmt.Errorf("integrity: duplicate key %q", f.Key)
			}
			seen[f.Key] = struct{}{}
			if err := validate(f.Value, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("integrity: a %T is not a context value (want nil, bool, string, json.Number, []any or tollgate.Params)", v)
}
