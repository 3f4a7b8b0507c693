package metrics_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/identity"
	"github.com/tollgate-go/tollgate/metrics"
	"github.com/tollgate-go/tollgate/policy"
	"github.com/tollgate-go/tollgate/registry"
	"github.com/tollgate-go/tollgate/tower"
)

func Example() {
	pol, err := policy.Parse("policy.yaml", []byte("version: \"1.0\"\nrules:\n  - {id: reads, effect: read, decision: ALLOW}\n  - {id: rest, decision: DENY}\n"))
	if err != nil {
		log.Fatal(err)
	}
	man, err := registry.Parse("manifest.yaml", []byte("version: \"1\"\ntools:\n  \"tickets:get\": {effect: read, resource_type: ticket}\n"))
	if err != nil {
		log.Fatal(err)
	}

	reg := prometheus.NewRegistry() // serve it with promhttp.HandlerFor(reg, ...)
	m, err := metrics.New(reg)
	if err != nil {
		log.Fatal(err)
	}
	t, err := tower.New(&tower.Config{Policy: pol, Manifest: man},
		tower.WithObserver(m), tower.WithAuditSink(m.Sink(audit.Discard)), tower.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}

	agent := identity.Credentials{Claimed: tollgate.Agent{ID: "support-bot", Version: "1", Owner: "support"}}
	for _, tool := range []string{"tickets:get", "tickets:get", "shell:exec"} {
		t.ExecuteCall(context.Background(), tower.Call{Credentials: agent, Request: tollgate.ToolRequest{Tool: tool, Action: "run"}},
			func(context.Context) (any, error) { return "ok", nil })
	}
	mfs, err := reg.Gather()
	if err != nil {
		log.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != metrics.CallsTotal {
			continue
		}
		for _, s := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range s.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			fmt.Printf("tool=%s decision=%s outcome=%s reason=%q: %v\n", l["tool"], l["decision"], l["outcome"], l["reason"], s.GetCounter().GetValue())
		}
	}
	// Output:
	// tool=tickets:get decision=ALLOW outcome=executed reason="": 2
	// tool=unknown decision=DENY outcome=blocked reason="POLICY_DENIED": 1
}
