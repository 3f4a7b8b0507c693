package tollgate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Params is an ordered JSON object: tool arguments, request metadata, agent
// and intent metadata. Values are one of
//
//	nil, bool, string, json.Number, []any, Params
//
// json.Number keeps the number's text, so 5 and 5.0 stay distinct (Tollgate's
// schema rule "integer" rejects 5.0) and large integers are exact.
type Params []Field

// Field is one key of a Params object.
type Field struct {
	Key   string
	Value any
}

// Get returns the value stored under key.
func (p Params) Get(key string) (any, bool) {
	for i := range p {
		if p[i].Key == key {
			return p[i].Value, true
		}
	}
	return nil, false
}

// Set replaces the value under key, or appends it when absent.
func (p *Params) Set(key string, v any) {
	for i := range *p {
		if (*p)[i].Key == key {
			(*p)[i].Value = v
			return
		}
	}
	*p = append(*p, Field{key, v})
}

// Without returns a copy of p without key (p itself is not changed).
func (p Params) Without(key string) Params {
	out := make(Params, 0, len(p))
	for _, f := range p {
		if f.Key != key {
			out = append(out, f)
		}
	}
	return out
}

// Clone returns a deep copy of p: nested objects and arrays are copied too
// (nil stays nil).
func (p Params) Clone() Params {
	if p == nil {
		return nil
	}
	out := make(Params, len(p))
	for i, f := range p {
		out[i] = Field{Key: f.Key, Value: cloneValue(f.Value)}
	}
	return out
}

func cloneValue(v any) any {
	switch t := v.(type) {
	case Params:
		return t.Clone()
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v // nil, bool, string, json.Number: immutable
}

// MaxDepth bounds how deeply objects and arrays may nest in decoded JSON, so
// hostile input cannot exhaust the stack.
const MaxDepth = 100

// ErrDuplicateKey is returned when a JSON object repeats a key. Tollgate
// takes the last value; two readers disagreeing about which value counts is
// how checks get bypassed, so duplicates are refused.
var ErrDuplicateKey = errors.New("duplicate key")

// ParseParams decodes a JSON object, keeping key order and number text.
func ParseParams(data []byte) (Params, error) {
	v, err := DecodeJSON(data)
	if err != nil {
		return nil, err
	}
	p, ok := v.(Params)
	if !ok {
		return nil, fmt.Errorf("params: want a JSON object, got %s", kindOf(v))
	}
	return p, nil
}

// DecodeJSON decodes one JSON value into the Params value model. Duplicate
// object keys, trailing data and nesting deeper than MaxDepth are errors.
func DecodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("json: unexpected data after the value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil // nil, bool, string or json.Number
	}
	if depth >= MaxDepth {
		return nil, fmt.Errorf("json: nesting deeper than %d levels", MaxDepth)
	}
	switch d {
	case '{':
		obj := Params{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key := kt.(string) // the decoder only yields string keys here
			if _, dup := obj.Get(key); dup {
				return nil, fmt.Errorf("json: %w %q", ErrDuplicateKey, key)
			}
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			obj = append(obj, Field{key, v})
		}
		_, err = dec.Token() // '}'
		return obj, err
	default: // '['
		arr := []any{}
		for dec.More() {
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err = dec.Token() // ']'
		return arr, err
	}
}

// MarshalJSON writes p compactly in key order.
func (p Params) MarshalJSON() ([]byte, error) {
	if p == nil {
		return []byte("{}"), nil
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range p {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(f.Key)
		buf.Write(k)
		buf.WriteByte(':')
		v, err := json.Marshal(f.Value)
		if err != nil {
			return nil, err
		}
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// UnmarshalJSON decodes a JSON object (see ParseParams). JSON null gives nil.
func (p *Params) UnmarshalJSON(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		*p = nil
		return nil
	}
	v, err := ParseParams(data)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// Plain converts a value of the Params model into the plain model that
// encoding/json and JSON-schema validators use: Params become
// map[string]any, arrays are copied, everything else is kept.
func Plain(v any) any {
	switch t := v.(type) {
	case Params:
		m := make(map[string]any, len(t))
		for _, f := range t {
			m[f.Key] = Plain(f.Value)
		}
		return m
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = Plain(e)
		}
		return out
	}
	return v
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	}
	return "an object"
}
