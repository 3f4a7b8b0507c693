package policytest

import (
	"bufio"
	"encoding/json"
	"io"
	"math"
	"time"
)

// JSON writes JSON Lines: one object per scenario, in order, then one
// summary object. Each object has a "type" key ("scenario" or "summary") so
// that a consumer can tell them apart while streaming:
//
//	{"type":"scenario","index":0,"name":"Allow reads","file":"s.yaml","line":3,"passed":true,
//	 "expected":{"decision":"ALLOW","policy_id":"allow_reads"},
//	 "actual":{"decision":"ALLOW","reason":"Read operations are safe","policy_id":"allow_reads","policy_version":"1.0"},
//	 "errors":[],"duration_ms":0.004}
//	{"type":"summary","total":1,"passed":1,"failed":0,"all_passed":true,"duration_ms":0.1}
//
// (each object on one line). policy_id is null when no rule decided.
type JSON struct{}

type jsonScenario struct {
	Type       string       `json:"type"`
	Index      int          `json:"index"`
	Name       string       `json:"name"`
	File       string       `json:"file,omitempty"`
	Line       int          `json:"line,omitempty"`
	Passed     bool         `json:"passed"`
	Expected   jsonExpected `json:"expected"`
	Actual     jsonActual   `json:"actual"`
	Errors     []string     `json:"errors"`
	DurationMS float64      `json:"duration_ms"`
}

type jsonExpected struct {
	Decision       string `json:"decision"`
	ReasonContains string `json:"reason_contains,omitempty"`
	PolicyID       string `json:"policy_id,omitempty"`
}

type jsonActual struct {
	Decision      string  `json:"decision"`
	Reason        string  `json:"reason"`
	PolicyID      *string `json:"policy_id"`
	PolicyVersion string  `json:"policy_version,omitempty"`
}

type jsonSummary struct {
	Type       string  `json:"type"`
	Total      int     `json:"total"`
	Passed     int     `json:"passed"`
	Failed     int     `json:"failed"`
	AllPassed  bool    `json:"all_passed"`
	DurationMS float64 `json:"duration_ms"`
}

// Report writes the report.
func (JSON) Report(w io.Writer, r *Result) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i := range r.Scenarios {
		sr := &r.Scenarios[i]
		errs := sr.Errors
		if errs == nil {
			errs = []string{}
		}
		out := jsonScenario{
			Type: "scenario", Index: sr.Index, Name: sr.Name, File: sr.File, Line: sr.Line, Passed: sr.Passed,
			Expected: jsonExpected{
				Decision:       string(sr.Expected.Decision),
				ReasonContains: sr.Expected.ReasonContains,
				PolicyID:       sr.Expected.PolicyID,
			},
			Actual: jsonActual{
				Decision:      string(sr.Actual.Type),
				Reason:        sr.Actual.Reason,
				PolicyID:      nullable(sr.Actual.PolicyID),
				PolicyVersion: sr.Actual.PolicyVersion,
			},
			Errors:     errs,
			DurationMS: ms(sr.Duration),
		}
		if err := enc.Encode(&out); err != nil {
			return err
		}
	}
	err := enc.Encode(jsonSummary{
		Type: "summary", Total: r.Total(), Passed: r.Passed, Failed: r.Failed,
		AllPassed: r.AllPassed(), DurationMS: ms(r.Duration),
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ms is d in milliseconds, rounded to the microsecond.
func ms(d time.Duration) float64 {
	return math.Round(float64(d)/1e3) / 1e3
}
