package grpcload

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/tollgate-go/tollgate"
	"github.com/tollgate-go/tollgate/interceptor"
	testv1 "github.com/tollgate-go/tollgate/internal/testproto"
)

// LoadConfig is a ghz-style run: Workers concurrent callers sharing one
// connection make Calls calls in all, stopping early when Duration (if
// set) is up.
type LoadConfig struct {
	Addr     string
	Gated    bool // send the agent and intent headers the gate needs
	Workers  int
	Calls    int
	Duration time.Duration
}

// Result is what a run measured. Latencies are sorted.
type Result struct {
	Calls     int
	Elapsed   time.Duration
	Latencies []time.Duration
}

// PerSecond is the throughput.
func (r *Result) PerSecond() float64 { return float64(r.Calls) / r.Elapsed.Seconds() }

// Percentile returns the latency at or below which p percent of calls
// finished (nearest rank).
func (r *Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.Latencies))*p/100+0.5) - 1
	return r.Latencies[min(max(i, 0), len(r.Latencies)-1)]
}

// warmup calls are made before timing, to open the connection and let
// both sides reach a steady state.
const warmup = 200

// Load runs the load loop against cfg.Addr. Every call must succeed.
func Load(ctx context.Context, cfg LoadConfig) (*Result, error) {
	if cfg.Workers < 1 || (cfg.Calls < 1 && cfg.Duration <= 0) {
		return nil, fmt.Errorf("grpcload: want at least one worker and a number of calls or a duration, got %+v", cfg)
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if cfg.Gated {
		opts = append(opts, grpc.WithUnaryInterceptor(interceptor.UnaryClientInterceptor(
			interceptor.WithAgent(tollgate.Agent{ID: "load-agent", Version: "1.0", Owner: "bench"}),
			interceptor.WithIntent(tollgate.Intent{Action: "echo", Reason: "load test"}))))
	}
	cc, err := grpc.NewClient(cfg.Addr, opts...)
	if err != nil {
		return nil, err
	}
	defer cc.Close()
	client := testv1.NewToolServiceClient(cc)
	req := &testv1.EchoRequest{Message: "hello"}
	for range warmup {
		if _, err := client.Echo(ctx, req); err != nil {
			return nil, fmt.Errorf("grpcload: warm-up: %w", err)
		}
	}

	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	var (
		issued atomic.Int64 // calls handed out, bounded by cfg.Calls
		wg     sync.WaitGroup
		lat    = make([][]time.Duration, cfg.Workers)
		errs   = make([]error, cfg.Workers)
	)
	start := time.Now()
	for w := range cfg.Workers {
		wg.Go(func() {
			for cfg.Calls < 1 || issued.Add(1) <= int64(cfg.Calls) {
				t := time.Now()
				if _, err := client.Echo(ctx, req); err != nil {
					// The duration's end shows as the context's error, or
					// as DeadlineExceeded just before ctx.Err() is set
					// (seen under -race: grpc-go times the deadline too).
					if ctx.Err() == nil && (cfg.Duration <= 0 || status.Code(err) != codes.DeadlineExceeded) {
						errs[w] = err
					}
					return
				}
				lat[w] = append(lat[w], time.Since(t))
			}
		})
	}
	wg.Wait()
	r := &Result{Elapsed: time.Since(start), Latencies: slices.Concat(lat...)}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("grpcload: %w", err)
	}
	r.Calls = len(r.Latencies)
	slices.Sort(r.Latencies)
	return r, nil
}
