package registry_test

import (
	"testing"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/registry"
)

// mustParse parses a manifest written in a test.
func mustParse(t testing.TB, src string) *registry.Manifest {
	t.Helper()
	m, err := registry.Parse("m.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return m
}

// mustTool parses src and resolves key.
func mustTool(t testing.TB, src, key string) *registry.Tool {
	t.Helper()
	tool, ok := mustParse(t, src).Resolve(key)
	if !ok {
		t.Fatalf("Resolve(%q): not found", key)
	}
	return tool
}

// params decodes a JSON object.
func params(t testing.TB, js string) tollgate.Params {
	t.Helper()
	p, err := tollgate.ParseParams([]byte(js))
	if err != nil {
		t.Fatalf("ParseParams(%s): %v", js, err)
	}
	return p
}

// descriptions lists the Description of each violation.
func descriptions(v []tollgate.Violation) []string {
	out := make([]string, len(v))
	for i := range v {
		out[i] = v[i].Description
	}
	return out
}
