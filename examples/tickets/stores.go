package main

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate-go/tollgate/approvals"
	"github.com/tollgate-go/tollgate/grants"
	"github.com/tollgate-go/tollgate/killswitch"
	"github.com/tollgate-go/tollgate/redisstore"
)

// stores hold what admins change and calls consult: deferred approvals,
// grants and kill switches. In memory they die with the process and each
// replica has its own; in Redis (--redis) every replica shares them.
type stores struct {
	approvals approvals.Store
	grants    grants.Store
	kills     killswitch.Store
	// run keeps the kill switches fresh until ctx ends (nil in memory):
	// Redis announces changes other replicas make, and run re-reads them.
	run func(ctx context.Context, onError func(error)) error
	// close releases the stores' connections (nil in memory).
	close func() error
}

// memoryStores returns stores that live in this process.
func memoryStores() (stores, error) {
	kills, err := killswitch.NewMemory()
	if err != nil {
		return stores{}, err
	}
	return stores{approvals: approvals.NewMemoryStore(), grants: grants.NewMemory(), kills: kills}, nil
}

// redisPingTimeout bounds the start-up check that Redis answers.
const redisPingTimeout = 5 * time.Second

// redisStores returns stores kept in the Redis server at addr (HOST:PORT),
// after checking that it answers and reading the kill switches once, so
// that the first call is not refused as stale. Start run before serving
// and call close when done.
func redisStores(ctx context.Context, addr string) (stores, error) {
	client := redis.NewClient(&redis.Options{Addr: addr})
	ctx, cancel := context.WithTimeout(ctx, redisPingTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close() // nothing was sent through it: its error adds nothing
		return stores{}, fmt.Errorf("redis at %s is unreachable (--redis HOST:PORT): %w", addr, err)
	}
	s := redisstore.New(client)
	kills, err := s.KillSwitches()
	if err == nil {
		err = kills.Sync(ctx)
	}
	if err != nil {
		client.Close()
		return stores{}, fmt.Errorf("redis at %s: reading the kill switches: %w", addr, err)
	}
	return stores{approvals: s.Approvals(), grants: s.Grants(), kills: kills, run: kills.Run, close: client.Close}, nil
}

// start starts run, if the stores have one, until the returned stop is
// called; stop then waits for it to return and closes the stores.
// onError hears every failed read (Redis down, say): after
// killswitch.DefaultMaxStaleness without a good one, every call is
// refused until Redis answers again.
func (st stores) start(ctx context.Context, onError func(error)) (stop func() error) {
	if st.run == nil {
		return func() error { return nil }
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); st.run(ctx, onError) }()
	return func() error {
		cancel()
		<-done
		return st.close()
	}
}

// quietRedis drops go-redis's own log lines (redis.SetLogger): the server
// reports each Redis failure itself, as one line that says what failed.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}
