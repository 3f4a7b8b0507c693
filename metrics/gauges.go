package metrics

import (
	"context"
	"math"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-go/tollgate/breaker"
)

// gauges are the state read at scrape time, from the stores and the
// breaker: nothing on the call path.
func (c *config) gauges(m *Metrics) []prometheus.Collector {
	var out []prometheus.Collector
	if c.kills != nil {
		kills := c.kills
		out = append(out,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: KillSwitches,
				Help: "Kill switches the pipeline checks calls against (one past its expiry counts until its store drops it).",
			}, func() float64 {
				ms, err := kills.Matcher()
				if err != nil {
					return math.NaN()
				}
				return float64(ms.Len())
			}),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: KillSwitchesStale,
				Help: "1 while the kill switch source cannot vouch for its switches, so every call is refused.",
			}, func() float64 {
				if _, err := kills.Matcher(); err != nil {
					return 1
				}
				return 0
			}))
	}
	if c.approvals != nil {
		store, now, timeout := c.approvals, c.now, c.timeout
		out = append(out, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: ApprovalsPending,
			Help: "Approval requests waiting for a human and not expired.",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			list, err := store.List(ctx, true)
			if err != nil {
				return math.NaN()
			}
			at, n := now(), 0
			for _, r := range list {
				if r.Pending() && at.Before(r.Request.ExpiresAt) {
					n++
				}
			}
			return float64(n)
		}))
	}
	if c.breakers != nil {
		out = append(out, &breakerCollector{m: m, b: c.breakers})
	}
	return out
}

var breakerDesc = prometheus.NewDesc(BreakerState,
	"Circuit state per tool the manifest knows: 1 for the state it is in (closed, open, half_open), 0 for the others.",
	[]string{"tool", "state"}, nil)

var breakerStates = [...]string{breaker.Closed, breaker.Open, breaker.HalfOpen}

type breakerCollector struct {
	m *Metrics
	b BreakerStates
}

func (c *breakerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- breakerDesc }

func (c *breakerCollector) Collect(ch chan<- prometheus.Metric) {
	for _, tool := range c.m.knownTools() {
		state := c.b.State(tool)
		for _, s := range breakerStates {
			v := 0.0
			if s == state {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(breakerDesc, prometheus.GaugeValue, v, tool, s)
		}
	}
}
