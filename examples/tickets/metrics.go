package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tollgate-go/tollgate/metrics"
)

// newMetrics registers Tollgate's metrics, with the gateway's breaker and
// stores behind the gauges, on a registry of the gateway's own.
func (g *gateway) newMetrics() (*metrics.Metrics, error) {
	g.metrics = prometheus.NewRegistry()
	if err := g.metrics.Register(collectors.NewGoCollector()); err != nil {
		return nil, err
	}
	if err := g.metrics.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, err
	}
	return metrics.New(g.metrics,
		metrics.WithBreakers(g.breaker),
		metrics.WithKillSwitches(g.stores.kills),
		metrics.WithApprovals(g.stores.approvals))
}

// serveMetrics serves the registry at /metrics on l (Prometheus text
// format, or protobuf with native histograms for a scraper that asks for
// it) until ctx ends.
func (g *gateway) serveMetrics(ctx context.Context, l net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g.metrics, promhttp.HandlerOpts{Registry: g.metrics}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		stop, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		_ = srv.Shutdown(stop)
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
