package tower

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/ratelimit"
)

// Every line the pipeline writes — executed, refused at each kind of stage
// (a front door's included), failed — matches the published schema in specs/jsonschema.
func TestAuditLinesMatchPublishedSchema(t *testing.T) {
	schema := compileAuditSchema(t)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	sink, err := audit.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lim, _ := ratelimit.NewSlidingWindow([]ratelimit.Rule{{AgentID: "*", Tool: "api:delete", MaxCalls: 1, Window: time.Hour}})
	ask := approvals.ApproverFunc(func(context.Context, approvals.Request) (approvals.Result, error) {
		return approvals.Result{Outcome: approvals.OutcomeApproved}, nil
	})
	tw, _ := newTower(t, &Config{Policy: fixed(tollgate.Ask), Limiter: lim}, WithAuditSink(sink), WithApprover(ask),
		WithVerifier(identity.NewLegacyHMAC([]byte("k"))))
	signed := identity.SignLegacy(agent, []byte("k"))
	ctx := context.Background()
	_, _ = tw.Execute(ctx, signed, intent, req("api:delete", tollgate.Field{Key: "id", Value: "u-1"}), ok)                // authorized + executed
	_, _ = tw.Execute(ctx, signed, intent, req("api:delete"), ok)                                                         // rate limited
	_, _ = tw.Execute(ctx, agent, intent, req("mock:run"), ok)                                                            // identity refused
	_, _ = tw.Execute(ctx, signed, intent, req("api:write_file", tollgate.Field{Key: "path", Value: "/etc"}), ok)         // schema refused
	_, _ = tw.Execute(ctx, signed, intent, req("mock:write"), func(context.Context) (any, error) { return nil, errTool }) // failed
	// refused by a front door
	_ = tw.Refuse(ctx, Call{Credentials: identity.Credentials{Claimed: signed}, Intent: intent, Request: req("mock:run")},
		&tollgate.Error{Reason: tollgate.ReasonMessageTooLarge, Message: "Message too large."})
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines++
		v, err := jsonschema.UnmarshalJSON(bytesReader(sc.Bytes()))
		if err != nil {
			t.Fatalf("line %d: %v", lines, err)
		}
		if err := schema.Validate(v); err != nil {
			t.Errorf("line %d does not match specs/jsonschema/audit_event.schema.json: %v\n%s", lines, err, sc.Bytes())
		}
	}
	if lines != 8 {
		t.Errorf("audit lines = %d, want 8", lines)
	}
}

func compileAuditSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	files, err := filepath.Glob("../specs/jsonschema/*.schema.json")
	if err != nil || len(files) != 5 {
		t.Fatalf("schemas: %v %v", files, err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytesReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := c.AddResource("mem://specs/"+filepath.Base(name), doc); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile("mem://specs/audit_event.schema.json")
	if err != nil {
		t.Fatal(errors.Join(errors.New("compile"), err))
	}
	return s
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
