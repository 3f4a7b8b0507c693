package main

import (
	"bytes"
	"fmt"
	"io"

	"github.com/tollgate-go/tollgate/internal/yamlx"
)

// Size limits for what the commands read. Scenario files have their own
// (policytest.MaxFileSize, 32 MiB); audit logs are streamed and unlimited.
const (
	maxConfigSize = yamlx.MaxFileSize // policies and manifests: 8 MiB
	maxKeySize    = 64 << 10          // PEM keys, .sig files
	maxJWKSSize   = 1 << 20
)

// readFile reads a regular, non-empty file of at most limit bytes.
func readFile(path string, limit int64) ([]byte, error) {
	data, err := yamlx.ReadLimited(path, limit)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%s: file is empty", path)
	}
	return data, nil
}

// readInput reads path, or standard input when path is "-", up to limit
// bytes.
func (a *app) readInput(path string, limit int64) ([]byte, string, error) {
	if path != "-" {
		data, err := readFile(path, limit)
		return data, path, err
	}
	data, err := io.ReadAll(io.LimitReader(a.stdin, limit+1))
	if err != nil {
		return nil, "<stdin>", fmt.Errorf("<stdin>: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, "<stdin>", fmt.Errorf("<stdin>: input is larger than the %d-byte limit", limit)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, "<stdin>", fmt.Errorf("<stdin>: input is empty")
	}
	return data, "<stdin>", nil
}
