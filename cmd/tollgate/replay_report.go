package main

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/replay"
)

// replayReport is what replay prints: the counts and the calls worth a
// look (changed and undetermined).
type replayReport struct {
	Audit, Policy string
	Summary       *replay.Summary
	Calls         []replay.Call
}

func (r *replayReport) keep(c *replay.Call) error {
	if c.Status == replay.Changed || c.Status == replay.Undetermined {
		r.Calls = append(r.Calls, *c)
	}
	return nil
}

func (r *replayReport) unchanged() int {
	s := r.Summary
	return s.Total - s.Changed - s.Undetermined - s.Skipped
}

func (r *replayReport) writeText(w io.Writer) error {
	s := r.Summary
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "Replayed %s against %s: %d call(s) in %d line(s): %d changed, %d undetermined, %d skipped, %d unchanged\n",
		r.Audit, r.Policy, s.Total, s.Lines, s.Changed, s.Undetermined, s.Skipped, r.unchanged())
	if moves := s.SortedMoves(); len(moves) > 0 {
		fmt.Fprintf(bw, "\nMoves:\n")
		for _, m := range moves {
			fmt.Fprintf(bw, "  %-11s %d\n", m.Key, m.N)
		}
		fmt.Fprintf(bw, "\nBy tool and the rule now deciding:\n")
		for _, m := range s.SortedByRule() {
			fmt.Fprintf(bw, "  %s  %s  %s  %d\n", m.Key.Tool, decider(m.Key.Rule, m.Key.Stage), m.Key.Move, m.N)
		}
	}
	for _, status := range []replay.Status{replay.Changed, replay.Undetermined} {
		first := true
		for i := range r.Calls {
			c := &r.Calls[i]
			if c.Status != status {
				continue
			}
			if first {
				fmt.Fprintf(bw, "\n%s:\n", map[replay.Status]string{replay.Changed: "Changed", replay.Undetermined: "Undetermined"}[status])
				first = false
			}
			if status == replay.Changed {
				fmt.Fprintf(bw, "  %s: %s %s: %s → %s\n", where(c), c.Agent, c.Tool, verdictText(c.Old), verdictText(c.New))
			} else {
				fmt.Fprintf(bw, "  %s: %s %s: was %s; %s\n", where(c), c.Agent, c.Tool, verdictText(c.Old), c.Why)
			}
		}
	}
	return bw.Flush()
}

// where names a call's first record: line, seq when chained, correlation id.
func where(c *replay.Call) string {
	s := "line " + strconv.Itoa(c.Line)
	if c.Seq != 0 {
		s += ", seq " + strconv.FormatUint(c.Seq, 10)
	}
	if c.CorrelationID != "" {
		s += ", correlation " + c.CorrelationID
	}
	return s
}

func verdictText(v replay.Verdict) string {
	return string(v.Decision) + " (" + decider(v.Rule, v.Stage) + ")"
}

// decider names what decided: the rule, a stage after the policy, or no
// rule at all.
func decider(rule string, stage tollgate.Stage) string {
	switch {
	case rule != "":
		return "rule " + rule
	case stage != "" && stage != tollgate.StagePolicy:
		return "stage " + string(stage)
	}
	return "no rule"
}

type jsonReplay struct {
	Audit        string     `json:"audit"`
	Policy       string     `json:"policy"`
	Lines        int        `json:"lines"`
	Total        int        `json:"total"`
	Changed      int        `json:"changed"`
	Undetermined int        `json:"undetermined"`
	Skipped      int        `json:"skipped"`
	Unchanged    int        `json:"unchanged"`
	Moves        []jsonMove `json:"moves"`
	ByRule       []jsonMove `json:"by_rule"`
	Calls        []jsonCall `json:"calls"`
}

type jsonMove struct {
	Tool  string `json:"tool,omitempty"`
	Rule  string `json:"rule,omitempty"`
	Stage string `json:"stage,omitempty"`
	From  string `json:"from"`
	To    string `json:"to"`
	Count int    `json:"count"`
}

type jsonCall struct {
	Line          int          `json:"line"`
	Seq           uint64       `json:"seq,omitempty"`
	CorrelationID string       `json:"correlation_id"`
	Agent         string       `json:"agent"`
	Tool          string       `json:"tool"`
	Status        string       `json:"status"`
	Old           jsonVerdict  `json:"old"`
	New           *jsonVerdict `json:"new,omitempty"`
	Why           string       `json:"why,omitempty"`
}

type jsonVerdict struct {
	Decision string `json:"decision"`
	Rule     string `json:"rule"`
	Stage    string `json:"stage"`
	Reason   string `json:"reason"`
}

func toJSONVerdict(v replay.Verdict) jsonVerdict {
	return jsonVerdict{Decision: string(v.Decision), Rule: v.Rule, Stage: string(v.Stage), Reason: v.Reason}
}

func (r *replayReport) writeJSON(w io.Writer) error {
	s := r.Summary
	out := jsonReplay{
		Audit: r.Audit, Policy: r.Policy, Lines: s.Lines, Total: s.Total, Changed: s.Changed,
		Undetermined: s.Undetermined, Skipped: s.Skipped, Unchanged: r.unchanged(),
		Moves: []jsonMove{}, ByRule: []jsonMove{}, Calls: make([]jsonCall, len(r.Calls)),
	}
	for _, m := range s.SortedMoves() {
		out.Moves = append(out.Moves, jsonMove{From: string(m.Key.From), To: string(m.Key.To), Count: m.N})
	}
	for _, m := range s.SortedByRule() {
		k := m.Key
		out.ByRule = append(out.ByRule, jsonMove{Tool: k.Tool, Rule: k.Rule, Stage: string(k.Stage), From: string(k.From), To: string(k.To), Count: m.N})
	}
	for i := range r.Calls {
		c := &r.Calls[i]
		jc := jsonCall{
			Line: c.Line, Seq: c.Seq, CorrelationID: c.CorrelationID, Agent: c.Agent, Tool: c.Tool,
			Status: string(c.Status), Old: toJSONVerdict(c.Old), Why: c.Why,
		}
		if c.Status == replay.Changed {
			v := toJSONVerdict(c.New)
			jc.New = &v
		}
		out.Calls[i] = jc
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

type replaySuites struct {
	XMLName  xml.Name    `xml:"testsuites"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Suite    replaySuite `xml:"testsuite"`
}

type replaySuite struct {
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Cases    []replayCase `xml:"testcase"`
}

type replayCase struct {
	Name      string         `xml:"name,attr"`
	Classname string         `xml:"classname,attr"`
	Failure   *replayFailure `xml:"failure,omitempty"`
}

type replayFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
}

// writeJUnit writes each changed or undetermined call as a failing test
// case (type "changed" or "undetermined"), and one passing case for the
// calls that did not change, so CI shows the counts.
func (r *replayReport) writeJUnit(w io.Writer) error {
	s := r.Summary
	suite := replaySuite{Name: r.Audit, Tests: len(r.Calls) + 1, Failures: len(r.Calls)}
	for i := range r.Calls {
		c := &r.Calls[i]
		f := &replayFailure{Type: string(c.Status)}
		if c.Status == replay.Changed {
			f.Message = verdictText(c.Old) + " → " + verdictText(c.New)
		} else {
			f.Message = "was " + verdictText(c.Old) + "; " + c.Why
		}
		suite.Cases = append(suite.Cases, replayCase{Name: where(c), Classname: c.Tool, Failure: f})
	}
	suite.Cases = append(suite.Cases, replayCase{
		Name:      fmt.Sprintf("%d call(s) unchanged, %d skipped", r.unchanged(), s.Skipped),
		Classname: "replay",
	})
	doc := replaySuites{Name: "tollgate replay " + r.Policy, Tests: suite.Tests, Failures: suite.Failures, Suite: suite}
	bw := bufio.NewWriter(w)
	bw.WriteString(xml.Header)
	enc := xml.NewEncoder(bw)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	bw.WriteByte('\n')
	return bw.Flush()
}
