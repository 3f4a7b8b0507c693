package audit

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/tollgate-go/tollgate"
)

// SlogMessage and SlogConfigMessage are the messages of a SlogSink's lines:
// one per call, and one per configuration change.
const (
	SlogMessage       = "tollgate decision"
	SlogConfigMessage = "tollgate config"
)

// SlogOption configures NewSlogSink.
type SlogOption interface{ applySlog(*slogConfig) }

type slogConfig struct {
	level    slog.Level
	redactor *Redactor
}

type slogOption func(*slogConfig)

func (f slogOption) applySlog(c *slogConfig) { f(c) }

// WithLevel sets the level of a SlogSink's decision lines (default
// slog.LevelInfo). A logger whose handler is not enabled at that level
// drops them before any field is built.
func WithLevel(l slog.Level) SlogOption {
	return slogOption(func(c *slogConfig) { c.level = l })
}

// WithSlogRedactor sets the Redactor whose Text runs on the free text a
// SlogSink writes — the intent reason, the decision reason, the result
// summary, a shadow decision's reason and a rejected configuration's
// reason (default DefaultRedactor; nil means DefaultRedactor). Params and
// metadata are never written, so no key redaction is needed.
func WithSlogRedactor(r *Redactor) SlogOption {
	return slogOption(func(c *slogConfig) { c.redactor = r })
}

// SlogSink writes a structured decision log through log/slog: one line per
// call, with the audit record's fields minus params and metadata (see
// NewSlogSink). It is a view for log pipelines, not the record of truth:
// pair it with a FileSink through Composite.
//
// SlogSink is safe for concurrent use when its handler is (slog's are).
type SlogSink struct {
	handler  slog.Handler
	level    slog.Level
	redactor *Redactor
}

// NewSlogSink returns a Sink that logs each call's final record to logger
// as one line at WithLevel's level (default Info), message SlogMessage,
// stamped with the event's timestamp, with these keys:
//
//	correlation_id, request_hash,
//	agent.agent_id, agent.version, agent.owner, agent.delegated_by (when delegated),
//	intent.action, intent.reason,
//	tool, action, effect, resource_type,
//	decision, reason, policy_id, policy_version, outcome,
//	stage, reason_code, approval_id, grant_id, result_summary, manifest_version,
//	shadow.decision, shadow.rule, shadow.reason (shadow mode, when it disagreed),
//	trace_id, span_id
//
// Keys from stage on, and policy_id and policy_version, are left out when
// empty (they are null or absent in the audit record). Params, their
// metadata and agent and intent metadata are never logged; the free-text
// fields go through the Redactor's Text (WithSlogRedactor), and every
// string is cut as a file record's is (DefaultMaxValueSize).
//
// The pre-execution "authorized" record is skipped: every call that ran
// has a final record (executed, failed, timeout, canceled) a moment later,
// so a call is one line. config_loaded and config_rejected records are
// logged too, message SlogConfigMessage, key kind, and config.policy.path,
// config.policy.sha256, … per file (loaded) or config.file, config.line,
// config.reason (rejected; at Warn when the chosen level is lower).
//
// Emit returns an error only for a nil event. A slog.Handler's error is
// dropped, as slog.Logger drops it: a decision log that cannot be written
// must not refuse calls the audit file records.
func NewSlogSink(logger *slog.Logger, opts ...SlogOption) (*SlogSink, error) {
	if logger == nil {
		return nil, errors.New("audit: NewSlogSink: logger is nil")
	}
	cfg := slogConfig{level: slog.LevelInfo, redactor: defaultRedactor}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("audit: NewSlogSink: nil option")
		}
		o.applySlog(&cfg)
	}
	if cfg.redactor == nil {
		cfg.redactor = defaultRedactor
	}
	return &SlogSink{handler: logger.Handler(), level: cfg.level, redactor: cfg.redactor}, nil
}

// slogAttrs is room for a decision line's attributes: enough that building
// one never grows the slice.
const slogAttrs = 24

// Emit logs e (see NewSlogSink).
func (s *SlogSink) Emit(ctx context.Context, e *Event) error {
	if e == nil {
		return errors.New("audit: nil event")
	}
	if e.Kind == "" && e.Outcome == tollgate.OutcomeAuthorized {
		return nil
	}
	level := s.level
	if e.Kind == KindConfigRejected {
		level = max(level, slog.LevelWarn)
	}
	if !s.handler.Enabled(ctx, level) {
		return nil
	}
	t := e.Timestamp
	if t.IsZero() {
		t = time.Now()
	}
	var buf [slogAttrs]slog.Attr
	var r slog.Record
	if e.Kind != "" {
		r = slog.NewRecord(t, level, SlogConfigMessage, 0)
		r.AddAttrs(s.configAttrs(buf[:0], e)...)
	} else {
		r = slog.NewRecord(t, level, SlogMessage, 0)
		r.AddAttrs(s.callAttrs(buf[:0], e)...)
	}
	_ = s.handler.Handle(ctx, r) // dropped: see NewSlogSink
	return nil
}

// callAttrs appends a call's fields to a.
func (s *SlogSink) callAttrs(a []slog.Attr, e *Event) []slog.Attr {
	b := bounder{max: DefaultMaxValueSize}
	str := func(key, v string) slog.Attr { return slog.String(key, b.str(v)) }
	text := func(key, v string) slog.Attr { return slog.String(key, b.str(s.redactor.Text(v))) }
	opt := func(a []slog.Attr, key, v string) []slog.Attr {
		if v == "" {
			return a
		}
		return append(a, str(key, v))
	}

	agent := []slog.Attr{str("agent_id", e.Agent.ID), str("version", e.Agent.Version), str("owner", e.Agent.Owner)}
	if len(e.Agent.DelegatedBy) > 0 {
		ids := make([]string, len(e.Agent.DelegatedBy))
		for i, id := range e.Agent.DelegatedBy {
			ids[i] = b.str(id)
		}
		agent = append(agent, slog.Any("delegated_by", ids))
	}
	tr, d := &e.ToolRequest, &e.Decision
	a = append(a,
		str("correlation_id", e.CorrelationID),
		str("request_hash", e.RequestHash),
		slog.GroupAttrs("agent", agent...),
		slog.GroupAttrs("intent", str("action", e.Intent.Action), text("reason", e.Intent.Reason)),
		str("tool", tr.Tool),
		str("action", tr.Action),
		str("effect", string(tr.Effect)),
		str("resource_type", tr.ResourceType),
		str("decision", string(d.Type)),
		text("reason", d.Reason),
	)
	a = opt(a, "policy_id", d.PolicyID)
	a = opt(a, "policy_version", cmp.Or(e.PolicyVersion, d.PolicyVersion))
	a = append(a, str("outcome", string(e.Outcome)))
	a = opt(a, "stage", string(e.Stage))
	a = opt(a, "reason_code", string(e.ReasonCode))
	a = opt(a, "approval_id", e.ApprovalID)
	a = opt(a, "grant_id", e.GrantID)
	if e.ResultSummary != "" {
		a = append(a, text("result_summary", e.ResultSummary))
	}
	a = opt(a, "manifest_version", cmp.Or(e.ManifestVersion, tr.ManifestVersion))
	if sh := e.Shadow; sh != nil {
		a = append(a, slog.GroupAttrs("shadow",
			str("decision", sh.Decision), str("rule", sh.Rule), text("reason", sh.Reason)))
	}
	a = opt(a, "trace_id", e.TraceID)
	return opt(a, "span_id", e.SpanID)
}

// configAttrs appends a config_loaded or config_rejected record's fields
// to a.
func (s *SlogSink) configAttrs(a []slog.Attr, e *Event) []slog.Attr {
	b := bounder{max: DefaultMaxValueSize}
	a = append(a, slog.String("kind", b.str(e.Kind)))
	c := e.Config
	if c == nil {
		return a
	}
	var cfg []slog.Attr
	if e.Kind == KindConfigLoaded {
		for _, f := range c.Files {
			cfg = append(cfg, slog.GroupAttrs(b.str(f.Role),
				slog.String("path", b.str(f.Path)), slog.String("sha256", b.str(f.SHA256))))
		}
	} else {
		cfg = append(cfg, slog.String("file", b.str(c.File)), slog.Int("line", c.Line),
			slog.String("reason", b.str(s.redactor.Text(c.Reason))))
	}
	return append(a, slog.GroupAttrs("config", cfg...))
}
