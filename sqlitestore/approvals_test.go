package sqlitestore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/sqlitestore"
)

const secret = "s3cret-value-7f1d"

func secretRequest() approvals.Request {
	return approvals.Request{
		Agent: tollgate.Agent{ID: "agent-1", Metadata: tollgate.Params{{Key: "Password", Value: secret}}},
		ToolRequest: tollgate.ToolRequest{
			Tool: "api:call", Effect: tollgate.EffectWrite,
			Params: tollgate.Params{
				{Key: "resource_id", Value: "r-1"},
				{Key: "auth", Value: tollgate.Params{{Key: "api_token", Value: secret}}},
			},
		},
		ExpiresAt: time.Now().Add(time.Hour),
	}
}

func bindingOf(r approvals.Request) string {
	return approvals.BindingHash(r.Agent, r.Intent, r.ToolRequest)
}

func TestApprovalsRedactSecretsAtRest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "redact.db")
	r := secretRequest()
	db, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	id, err := db.Approvals().Create(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, f := range []string{path, path + "-wal"} {
		data, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("%s holds the secret in clear", filepath.Base(f))
		}
	}

	s := openPath(t, path).Approvals()
	rec, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	token, _ := rec.Request.ToolRequest.Params[1].Value.(tollgate.Params).Get("api_token")
	pw, _ := rec.Request.Agent.Metadata.Get("Password")
	resource, _ := rec.Request.ToolRequest.Params.Get("resource_id")
	if token != audit.Redacted || pw != audit.Redacted || resource != "r-1" {
		t.Errorf("stored request: api_token %v, Password %v, resource_id %v; want the secrets redacted, the rest kept", token, pw, resource)
	}
	// The binding is of the call as made, so the real call still matches.
	if rec.BindingHash != bindingOf(r) {
		t.Error("the stored binding hash is not the hash of the unredacted call")
	}
	if err := s.Decide(t.Context(), id, approvals.Decision{Outcome: approvals.OutcomeApproved, By: "alice", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.Consume(t.Context(), id, bindingOf(rec.Request), time.Now()); !errors.Is(err, approvals.ErrMismatch) {
		t.Errorf("Consume by the redacted call: %v, want ErrMismatch", err)
	}
	if err := s.Consume(t.Context(), id, bindingOf(r), time.Now()); err != nil {
		t.Errorf("Consume by the real call: %v", err)
	}
}

func TestApprovalsWithoutRedaction(t *testing.T) {
	s := openDB(t, sqlitestore.WithRedactor(audit.NewRedactor())).Approvals()
	r := secretRequest()
	id, err := s.Create(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := s.Get(t.Context(), id)
	if err != nil || bindingOf(rec.Request) != bindingOf(r) {
		t.Fatalf("Get = %+v, %v; want the request unchanged", rec.Request, err)
	}
}

// A waiter on one handle learns of a decision made through another handle
// (another process, in production) by polling.
func TestApprovalsWaitSeesDecisionsFromOtherHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wait.db")
	deciding := openPath(t, path).Approvals()
	waiting := openPath(t, path, sqlitestore.WithPollInterval(5*time.Millisecond)).Approvals()
	id, err := deciding.Create(t.Context(), secretRequest())
	if err != nil {
		t.Fatal(err)
	}
	// The deadline only bounds a broken store.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	done := make(chan approvals.Record, 1)
	go func() {
		rec, err := waiting.Wait(ctx, id)
		if err != nil {
			t.Error(err)
		}
		done <- rec
	}()
	if err := deciding.Decide(t.Context(), id, approvals.Decision{Outcome: approvals.OutcomeApproved, By: "bob", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if rec := <-done; rec.Outcome != approvals.OutcomeApproved || rec.DecidedBy != "bob" || ctx.Err() != nil {
		t.Fatalf("Wait = %+v (deadline hit: %v); want bob's approval", rec, ctx.Err() != nil)
	}
}

func TestApprovalsKeepNilAndEmptyApart(t *testing.T) {
	s := openDB(t, sqlitestore.WithRedactor(audit.NewRedactor())).Approvals()
	conf := 0.25
	for name, r := range map[string]approvals.Request{
		"nil params":   {ToolRequest: tollgate.ToolRequest{Tool: "t", Params: nil}},
		"empty params": {ToolRequest: tollgate.ToolRequest{Tool: "t", Params: tollgate.Params{}}},
		"empty nested": {ToolRequest: tollgate.ToolRequest{Tool: "t", Params: tollgate.Params{{Key: "o", Value: tollgate.Params{}}, {Key: "a", Value: []any{}}}}},
		"everything": {
			Agent:       tollgate.Agent{ID: "a", Version: "2", Owner: "o", DelegatedBy: []string{"root", "mid"}},
			Intent:      tollgate.Intent{Action: "x", Reason: "y", Confidence: &conf, Metadata: tollgate.Params{}},
			ToolRequest: tollgate.ToolRequest{Tool: "t", Action: "a", ResourceType: "r", Effect: tollgate.EffectDelete, Metadata: tollgate.Params{{Key: "n", Value: nil}}, ManifestVersion: "1"},
			RequestHash: "h", Reason: "why", PolicyID: "p",
		},
	} {
		r.ExpiresAt = time.Now().Add(time.Hour)
		id, err := s.Create(t.Context(), r)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rec, err := s.Get(t.Context(), id)
		got := rec.Request
		if err != nil || bindingOf(got) != bindingOf(r) || got.RequestHash != r.RequestHash || got.Reason != r.Reason ||
			got.PolicyID != r.PolicyID || (r.Intent.Confidence != nil && (got.Intent.Confidence == nil || *got.Intent.Confidence != conf)) ||
			(r.Intent.Metadata == nil) != (got.Intent.Metadata == nil) {
			t.Errorf("%s: stored %+v, %v; created from %+v", name, got, err, r)
		}
	}
}

func TestApprovalsRefuseUnstorableRequests(t *testing.T) {
	s := openDB(t).Approvals()
	deep := tollgate.Params{}
	for range tollgate.MaxDepth + 1 {
		deep = tollgate.Params{{Key: "k", Value: deep}}
	}
	nan := math.NaN()
	for name, r := range map[string]approvals.Request{
		"expiry after 2262": {ExpiresAt: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"too deep":          {ExpiresAt: time.Now().Add(time.Hour), ToolRequest: tollgate.ToolRequest{Params: deep}},
		"bad number":        {ExpiresAt: time.Now().Add(time.Hour), ToolRequest: tollgate.ToolRequest{Params: tollgate.Params{{Key: "n", Value: json.Number("1e")}}}},
		"NaN confidence":    {ExpiresAt: time.Now().Add(time.Hour), Intent: tollgate.Intent{Confidence: &nan}},
	} {
		if _, err := s.Create(t.Context(), r); !errors.Is(err, approvals.ErrInvalidRequest) {
			t.Errorf("%s: err = %v, want ErrInvalidRequest", name, err)
		}
	}
	if recs, err := s.List(t.Context(), false); err != nil || len(recs) != 0 {
		t.Errorf("after refused creates: List = %d records, %v", len(recs), err)
	}
	id, err := s.Create(t.Context(), secretRequest())
	if err != nil {
		t.Fatal(err)
	}
	err = s.Decide(t.Context(), id, approvals.Decision{Outcome: approvals.OutcomeDenied, By: "a", At: time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)})
	if !errors.Is(err, approvals.ErrInvalidDecision) {
		t.Errorf("Decide in the year 1000: %v, want ErrInvalidDecision", err)
	}
}

func TestApprovalsCreatedAtComesFromTheClock(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	s := openDB(t, sqlitestore.WithClock(func() time.Time { return at })).Approvals()
	id, err := s.Create(t.Context(), secretRequest())
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := s.Get(t.Context(), id); err != nil || !rec.CreatedAt.Equal(at) {
		t.Errorf("CreatedAt = %v, %v; want %v", rec.CreatedAt, err, at)
	}
}

func TestApprovalsReportDamagedRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "damaged.db")
	s := openPath(t, path).Approvals()
	id, err := s.Create(t.Context(), secretRequest())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rawDB(t, path).Exec(`UPDATE tollgate_approvals SET request = '{"tool_request":{"params":[1]}}'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(t.Context(), id); err == nil {
		t.Error("Get of a damaged row succeeded")
	}
	if _, err := s.List(t.Context(), true); err == nil {
		t.Error("List over a damaged row succeeded")
	}
	if _, err := s.Wait(t.Context(), id); err == nil {
		t.Error("Wait on a damaged row succeeded")
	}
}
