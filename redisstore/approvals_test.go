package redisstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/internal/redistest"
)

func testRequest() approvals.Request {
	return approvals.Request{
		Agent:       tollgate.Agent{ID: "agent-1", DelegatedBy: []string{"orchestrator"}},
		ToolRequest: tollgate.ToolRequest{Tool: "api:delete", Effect: tollgate.EffectDelete, Params: tollgate.Params{{Key: "id", Value: "42"}}},
		ExpiresAt:   time.Now().Add(time.Hour),
	}
}

func approve(t *testing.T, as *ApprovalStore, id string) {
	t.Helper()
	if err := as.Decide(t.Context(), id, approvals.Decision{Outcome: approvals.OutcomeApproved, By: "alice", At: time.Now()}); err != nil {
		t.Fatalf("Decide: %v", err)
	}
}

type waited struct {
	rec approvals.Record
	err error
}

// startWait runs Wait in the background with a generous deadline that only
// a broken store reaches.
func startWait(t *testing.T, as *ApprovalStore, id string) (<-chan waited, context.Context) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	done := make(chan waited, 1)
	go func() {
		rec, err := as.Wait(ctx, id)
		done <- waited{rec, err}
	}()
	return done, ctx
}

func wantApproved(t *testing.T, w waited, ctx context.Context) {
	t.Helper()
	if w.err != nil || w.rec.Outcome != approvals.OutcomeApproved {
		t.Fatalf("Wait = %+v, %v; want the approval", w.rec, w.err)
	}
	if ctx.Err() != nil {
		t.Fatal("Wait returned only when its deadline passed")
	}
}

// A replica blocked in Wait is woken by a decision another replica makes
// through its own client: pub/sub, not a shared Go channel, carries it.
func TestRedisWaitWokenByOtherReplica(t *testing.T) {
	srv := redistest.Start(t)
	waiter := New(srv.Client(t), noRecheck).Approvals()
	decider := New(srv.Client(t), noRecheck).Approvals()
	id, err := waiter.Create(t.Context(), testRequest())
	if err != nil {
		t.Fatal(err)
	}
	subscribed := make(chan struct{})
	waiter.s.waitHook = func() { close(subscribed) }
	done, ctx := startWait(t, waiter, id)
	<-subscribed
	approve(t, decider, id)
	wantApproved(t, <-done, ctx)
}

// Tollgate read the record and then subscribed, so a decision made in
// between was never seen. Here the decision lands right after Wait's read
// found the request pending, and Wait must still wake, from pub/sub alone.
func TestRedisWaitSeesDecisionRightAfterItsRead(t *testing.T) {
	s, _ := newTestStore(t, noRecheck)
	as := s.Approvals()
	id, err := as.Create(t.Context(), testRequest())
	if err != nil {
		t.Fatal(err)
	}
	reads := 0
	s.waitHook = func() {
		if reads++; reads == 1 {
			approve(t, as, id)
		}
	}
	done, ctx := startWait(t, as, id)
	wantApproved(t, <-done, ctx)
}

// A decision whose message was lost (here: written without PUBLISH) is
// still found by the periodic re-read.
func TestRedisWaitRechecksWithoutMessage(t *testing.T) {
	s, c := newTestStore(t, WithWaitRecheck(10*time.Millisecond))
	as := s.Approvals()
	id, err := as.Create(t.Context(), testRequest())
	if err != nil {
		t.Fatal(err)
	}
	pending := make(chan struct{}, 1)
	s.waitHook = func() {
		select {
		case pending <- struct{}{}:
		default:
		}
	}
	done, ctx := startWait(t, as, id)
	<-pending
	if err := c.HSet(t.Context(), s.ApprovalKey(id), "outcome", "approved", "by", "alice", "decided", timeKey(time.Now())).Err(); err != nil {
		t.Fatal(err)
	}
	wantApproved(t, <-done, ctx)
}

// The record lives until its expiry plus the grace period, then Redis
// deletes it; a request created already expired still gets the grace.
func TestRedisApprovalRecordTTL(t *testing.T) {
	const grace = 10 * time.Minute
	s, c := newTestStore(t, WithApprovalGrace(grace))
	as, ctx := s.Approvals(), t.Context()
	r := testRequest()
	r.ExpiresAt = time.Now().Add(time.Hour).Truncate(time.Millisecond)
	id, err := as.Create(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.PExpireTime(ctx, s.ApprovalKey(id)).Result(); err != nil || got != time.Duration(r.ExpiresAt.Add(grace).UnixMilli())*time.Millisecond {
		t.Errorf("PEXPIRETIME = %v, %v; want ExpiresAt + %v", got, err, grace)
	}

	r.ExpiresAt = time.Now().Add(-time.Hour)
	before := time.Now().Add(grace - time.Second)
	id, err = as.Create(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	ttl, err := c.PTTL(ctx, s.ApprovalKey(id)).Result()
	if err != nil || ttl <= 0 || time.Now().Add(ttl).Before(before) {
		t.Errorf("expired request: PTTL = %v, %v; want about %v", ttl, err, grace)
	}
	if rec, err := as.Get(ctx, id); err != nil || !rec.Pending() {
		t.Errorf("expired request not kept for the record: %+v, %v", rec, err)
	}
	if err := as.Decide(ctx, id, approvals.Decision{Outcome: approvals.OutcomeApproved, By: "alice", At: time.Now()}); !errors.Is(err, approvals.ErrExpired) {
		t.Errorf("Decide on an expired request: err = %v, want ErrExpired", err)
	}
}

// List drops index entries whose record Redis has deleted, so the indexes
// do not grow forever.
func TestRedisApprovalListPrunesDeletedRecords(t *testing.T) {
	s, c := newTestStore(t)
	as, ctx := s.Approvals(), t.Context()
	gone, _ := as.Create(ctx, testRequest())
	kept, err := as.Create(ctx, testRequest())
	if err != nil {
		t.Fatal(err)
	}
	// Simulate Redis expiring the first record: its deadline has passed
	// and its key is gone.
	c.ZAdd(ctx, s.keys.approvalDeadlines, redis.Z{Score: 1, Member: gone})
	c.Del(ctx, s.ApprovalKey(gone))
	recs, err := as.List(ctx, false)
	if err != nil || len(recs) != 1 || recs[0].Request.ID != kept {
		t.Fatalf("List = %v, %v; want only %s", recs, err, kept)
	}
	for _, key := range []string{s.keys.approvalOrder, s.keys.approvalDeadlines} {
		if n := zcard(t, c, key); n != 1 {
			t.Errorf("%s holds %d entries after pruning, want 1", key, n)
		}
	}
}

func TestRedisApprovalCreateRefusesUnstorableRequests(t *testing.T) {
	s, c := newTestStore(t)
	as := s.Approvals()
	deep := any("leaf")
	for range tollgate.MaxDepth + 1 {
		deep = []any{deep}
	}
	for name, mutate := range map[string]func(*approvals.Request){
		"too deep":       func(r *approvals.Request) { r.ToolRequest.Params = tollgate.Params{{Key: "v", Value: deep}} },
		"not JSON":       func(r *approvals.Request) { r.ToolRequest.Params = tollgate.Params{{Key: "v", Value: make(chan int)}} },
		"year 10000":     func(r *approvals.Request) { r.ExpiresAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"missing expiry": func(r *approvals.Request) { r.ExpiresAt = time.Time{} },
	} {
		r := testRequest()
		mutate(&r)
		if _, err := as.Create(t.Context(), r); !errors.Is(err, approvals.ErrInvalidRequest) {
			t.Errorf("%s: err = %v, want ErrInvalidRequest", name, err)
		}
	}
	if keys, _ := c.Keys(t.Context(), "*").Result(); len(keys) != 0 {
		t.Errorf("refused requests left keys: %v", keys)
	}
}

func TestRedisApprovalClockStampsCreatedAt(t *testing.T) {
	as := New(newClient(t), WithClock(func() time.Time { return testNow })).Approvals()
	id, err := as.Create(t.Context(), testRequest())
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := as.Get(t.Context(), id); err != nil || !rec.CreatedAt.Equal(testNow) {
		t.Errorf("CreatedAt = %v, %v; want %v", rec.CreatedAt, err, testNow)
	}
}

func TestRedisApprovalDamagedRecord(t *testing.T) {
	for field, value := range map[string]string{
		"request": "{not json", "created": "", "decided": "soon", "used": strings.Repeat("f", timeKeyLen),
		"required": "two", "decisions": `[{"by":"alice","outcome":"approved","at":"soon"}]`,
	} {
		t.Run(field, func(t *testing.T) {
			s, c := newTestStore(t)
			as := s.Approvals()
			id, err := as.Create(t.Context(), testRequest())
			if err != nil {
				t.Fatal(err)
			}
			c.HSet(t.Context(), s.ApprovalKey(id), field, value)
			if _, err := as.Get(t.Context(), id); err == nil || !strings.Contains(err.Error(), field) {
				t.Errorf("Get: err = %v, want one naming field %q", err, field)
			}
			if _, err := as.List(t.Context(), false); err == nil {
				t.Error("List succeeded over a damaged record")
			}
		})
	}
}

// Errors carry who decided and when, for the caller's audit line.
func TestRedisApprovalErrorDetails(t *testing.T) {
	as := New(newClient(t)).Approvals()
	ctx := t.Context()
	r := testRequest()
	hash := approvals.BindingHash(r.Agent, r.Intent, r.ToolRequest)
	id, _ := as.Create(ctx, r)
	if err := as.Decide(ctx, id, approvals.Decision{Outcome: approvals.OutcomeDenied, By: "bob", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	err := as.Consume(ctx, id, hash, time.Now())
	if !errors.Is(err, approvals.ErrNotApproved) || !strings.Contains(err.Error(), "denied by bob") {
		t.Errorf("Consume of a denied request: %v", err)
	}
	err = as.Decide(ctx, id, approvals.Decision{Outcome: approvals.OutcomeApproved, By: "eve", At: time.Now()})
	if !errors.Is(err, approvals.ErrAlreadyDecided) || !strings.Contains(err.Error(), "denied by bob") {
		t.Errorf("second Decide: %v", err)
	}

	r.ExpiresAt = time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	id, _ = as.Create(ctx, r)
	approve(t, as, id)
	err = as.Consume(ctx, id, hash, r.ExpiresAt)
	if !errors.Is(err, approvals.ErrExpired) || !strings.Contains(err.Error(), "2031-05-06T07:08:09Z") {
		t.Errorf("Consume at expiry: %v", err)
	}
	used := r.ExpiresAt.Add(-time.Minute)
	as.Consume(ctx, id, hash, used)
	err = as.Consume(ctx, id, hash, used)
	if !errors.Is(err, approvals.ErrUsed) || !strings.Contains(err.Error(), "2031-05-06T07:07:09Z") {
		t.Errorf("second Consume: %v", err)
	}
}

func TestRedisApprovalStoreUnavailable(t *testing.T) {
	c := newClient(t)
	as := New(c).Approvals()
	c.Close()
	ctx := t.Context()
	for name, err := range map[string]error{
		"Create":  err2(as.Create(ctx, testRequest())),
		"Get":     err2(as.Get(ctx, "a")),
		"Decide":  as.Decide(ctx, "a", approvals.Decision{Outcome: approvals.OutcomeApproved, By: "alice", At: time.Now()}),
		"Wait":    err2(as.Wait(ctx, "a")),
		"Consume": as.Consume(ctx, "a", "hash", time.Now()),
		"List":    err2(as.List(ctx, false)),
	} {
		if err == nil {
			t.Errorf("%s succeeded without a server", name)
		}
	}
}

func TestRedisApprovalStoreCanceledContext(t *testing.T) {
	as := New(newClient(t)).Approvals()
	ctx := canceled()
	for name, err := range map[string]error{
		"Create": err2(as.Create(ctx, testRequest())),
		"Get":    err2(as.Get(ctx, "a")),
		"Decide": as.Decide(ctx, "a", approvals.Decision{Outcome: approvals.OutcomeApproved, By: "alice", At: time.Now()}),
		"List":   err2(as.List(ctx, false)),
	} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", name, err)
		}
	}
}

// Secrets in params and metadata never reach Redis, while the approval
// stays bound to the real call.
func TestRedisApprovalRedactsStoredRequest(t *testing.T) {
	s, c := newTestStore(t)
	as, ctx := s.Approvals(), t.Context()
	r := testRequest()
	r.ToolRequest.Params = tollgate.Params{{Key: "resource_id", Value: "res-1"}, {Key: "api_token", Value: "s3cret-1"}}
	r.Agent.Metadata = tollgate.Params{{Key: "DB_Password", Value: "s3cret-2"}}
	id, err := as.Create(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := c.HGet(ctx, s.ApprovalKey(id), "request").Result()
	if err != nil || strings.Contains(raw, "s3cret") || !strings.Contains(raw, "res-1") {
		t.Fatalf("stored request %s (%v): want the secrets redacted and the rest kept", raw, err)
	}
	rec, err := as.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := rec.Request.ToolRequest.Params.Get("api_token"); v != audit.Redacted {
		t.Errorf("api_token = %v, want %s", v, audit.Redacted)
	}
	if rec.BindingHash != approvals.BindingHash(r.Agent, r.Intent, r.ToolRequest) {
		t.Error("the binding hash is not that of the unredacted call")
	}
	approve(t, as, id)
	if err := as.Consume(ctx, id, rec.BindingHash, time.Now()); err != nil {
		t.Errorf("Consume by the real call: %v", err)
	}

	keepAll := New(c, WithPrefix("all:"), WithRedactor(audit.NewRedactor())).Approvals()
	id, err = keepAll.Create(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	rec, err = keepAll.Get(ctx, id)
	if v, _ := rec.Request.ToolRequest.Params.Get("api_token"); err != nil || v != "s3cret-1" {
		t.Errorf("WithRedactor(audit.NewRedactor()): api_token = %v, %v; want the params as given", v, err)
	}
}

// TestRedisApprovalLegacyRecord: a record written before decision lists
// and approvals_required still reads (its one decision shown) and, when
// pending, is decided by one approval.
func TestRedisApprovalLegacyRecord(t *testing.T) {
	s, c := newTestStore(t)
	as := s.Approvals()
	at := time.Now()
	decided, pending := createTwo(t, as)
	approve(t, as, decided)
	for _, id := range []string{decided, pending} {
		if err := c.HDel(t.Context(), s.ApprovalKey(id), "required", "decisions").Err(); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := as.Get(t.Context(), decided)
	if err != nil || len(rec.Decisions) != 1 || rec.Decisions[0].By != "alice" || rec.Decisions[0].Outcome != approvals.OutcomeApproved {
		t.Fatalf("legacy decided record: %+v, %v; want its one decision", rec.Decisions, err)
	}
	if err := as.Decide(t.Context(), pending, approvals.Decision{Outcome: approvals.OutcomeApproved, By: "bob", At: at}); err != nil {
		t.Fatal(err)
	}
	if rec, err := as.Get(t.Context(), pending); err != nil || rec.Outcome != approvals.OutcomeApproved || len(rec.Decisions) != 1 {
		t.Fatalf("legacy pending record after one approval: %+v, %v; want approved", rec, err)
	}
}

// TestRedisApproverIDsCompareExactly: ids that JSON escapes (quotes, HTML
// characters, line separators) still count once, and ids that differ only
// in such characters are different approvers.
func TestRedisApproverIDsCompareExactly(t *testing.T) {
	as := New(newClient(t)).Approvals()
	r := testRequest()
	r.ApprovalsRequired = 3
	id, err := as.Create(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	vote := func(by string) error {
		return as.Decide(t.Context(), id, approvals.Decision{Outcome: approvals.OutcomeApproved, By: by, At: time.Now()})
	}
	odd := "al\"ice <&> \u2028"
	if err := vote(odd); err != nil {
		t.Fatal(err)
	}
	if err := vote(odd); !errors.Is(err, approvals.ErrDuplicateApprover) {
		t.Errorf("second approval by %q: %v, want ErrDuplicateApprover", odd, err)
	}
	if err := vote("al\"ice <&> \u2029"); err != nil {
		t.Errorf("a different approver: %v", err)
	}
	rec, err := as.Get(t.Context(), id)
	if err != nil || !rec.Pending() || len(rec.Approvers()) != 2 || rec.Approvers()[0] != odd {
		t.Fatalf("record %+v, %v; want two distinct approvers, still pending", rec.Decisions, err)
	}
}

func createTwo(t *testing.T, as *ApprovalStore) (string, string) {
	t.Helper()
	var ids [2]string
	for i := range ids {
		id, err := as.Create(t.Context(), testRequest())
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	return ids[0], ids[1]
}
