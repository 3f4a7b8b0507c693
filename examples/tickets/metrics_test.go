package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"go.yaml.in/yaml/v3"

	"github.com/tollgate-go/tollgate"
	ticketsv1 "github.com/tollgate-go/tollgate/examples/tickets/gen/tickets/v1"
	"github.com/tollgate-go/tollgate/tower"
)

// meteredGateway is a gateway that has seen one call: refused at the
// identity stage (no token wins over the front door's own refusal), for
// a tool the manifest knows.
func meteredGateway(t *testing.T) *gateway {
	t.Helper()
	dir := t.TempDir()
	_, keys, err := newAgentKey()
	if err != nil {
		t.Fatal(err)
	}
	g, err := newGateway(dir, filepath.Join(dir, "audit.jsonl"), keys, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.audit.Close() })
	g.tower.Refuse(context.Background(), tower.Call{Request: tollgate.ToolRequest{Tool: ticketsv1.TicketService_GetTicket_FullMethodName}},
		&tollgate.Error{Reason: tollgate.ReasonParamsInvalid})
	return g
}

var metricName = regexp.MustCompile(`\btollgate_[a-z0-9_]+`)

// TestDashboardAndAlertsUseRealMetrics: every metric the Grafana dashboard
// and the alert rules query is one the gateway's registry has, and the
// dashboard graphs every Tollgate metric there is.
func TestDashboardAndAlertsUseRealMetrics(t *testing.T) {
	mfs, err := meteredGateway(t).metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	families := map[string]dto.MetricType{}
	for _, mf := range mfs {
		families[mf.GetName()] = mf.GetType()
	}
	// exists resolves a name as a query writes it: a histogram's series
	// are its name with _bucket, _sum or _count, or the name itself for
	// native histograms.
	exists := func(name string) (string, bool) {
		if _, ok := families[name]; ok {
			return name, true
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base, cut := strings.CutSuffix(name, suffix)
			if cut && families[base] == dto.MetricType_HISTOGRAM {
				return base, true
			}
		}
		return "", false
	}

	b, err := os.ReadFile("dashboards/tollgate.json")
	if err != nil {
		t.Fatal(err)
	}
	var dashboard struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dashboard); err != nil {
		t.Fatal(err)
	}
	graphed := map[string]bool{}
	for _, p := range dashboard.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			names := metricName.FindAllString(q.Expr, -1)
			if len(names) == 0 {
				t.Errorf("panel %q: query %q names no Tollgate metric", p.Title, q.Expr)
			}
			for _, n := range names {
				base, ok := exists(n)
				if !ok {
					t.Errorf("panel %q: %s is not in the registry", p.Title, n)
				}
				graphed[base] = true
			}
		}
	}
	for name := range families {
		if strings.HasPrefix(name, "tollgate_") && !graphed[name] {
			t.Errorf("the dashboard graphs no %s", name)
		}
	}

	b, err = os.ReadFile("alerts.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string
				Expr  string
			}
		}
	}
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			names := metricName.FindAllString(r.Expr, -1)
			if r.Alert == "" || len(names) == 0 {
				t.Errorf("rule %q: no name or no Tollgate metric in %q", r.Alert, r.Expr)
			}
			for _, name := range names {
				if _, ok := exists(name); !ok {
					t.Errorf("alert %s: %s is not in the registry", r.Alert, name)
				}
			}
		}
	}
	if n < 5 {
		t.Errorf("%d alert rules; want the starter set", n)
	}
}

// TestServeMetrics: --metrics serves the registry in Prometheus text
// format, with the calls the gateway has seen.
func TestServeMetrics(t *testing.T) {
	g := meteredGateway(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- g.serveMetrics(ctx, l) }()

	res, err := http.Get("http://" + l.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := `tollgate_calls_total{decision="DENY",outcome="blocked",reason="IDENTITY_INVALID",tool="` + ticketsv1.TicketService_GetTicket_FullMethodName + `"} 1`
	for _, w := range []string{want, "tollgate_kill_switches 0", "tollgate_approvals_pending 0", "go_goroutines"} {
		if !strings.Contains(string(body), w) {
			t.Errorf("/metrics lacks %s:\n%s", w, body)
		}
	}
	stop()
	if err := <-served; err != nil {
		t.Errorf("serveMetrics: %v", err)
	}
}

func TestMetricsNeedsServe(t *testing.T) {
	err := run(context.Background(), options{metricsAddr: "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "--metrics needs --serve") {
		t.Errorf("run = %v, want --metrics needs --serve", err)
	}
}
