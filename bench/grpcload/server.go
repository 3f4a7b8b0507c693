// Package grpcload measures unary gRPC over TCP loopback with and without
// Tollgate's interceptors, the way ghz does: a fixed number of concurrent
// workers share one client connection and call as fast as they can for a
// fixed number of calls or a bounded time, and the result is calls per
// second and latency percentiles. The gated server writes a real
// hash-chained audit file in the default durability mode.
//
// The service is Tollgate's test service (internal/testproto), Echo.
package grpcload

import (
	"context"
	"errors"
	"net"
	"path/filepath"

	"google.golang.org/grpc"

	"github.com/tollgate-go/tollgate/audit"
	"github.com/tollgate-go/tollgate/interceptor"
	testv1 "github.com/tollgate-go/tollgate/internal/testproto"
	"github.com/tollgate-go/tollgate/tower"
)

// Server is a running Echo server on 127.0.0.1.
type Server struct {
	Addr string
	srv  *grpc.Server
	sink *audit.FileSink
	done chan error
}

// ServerConfig says what to serve.
type ServerConfig struct {
	// Gated puts the Tollgate interceptors in front of the service, with
	// Dir/policy.yaml and Dir/manifest.yaml and an audit file at AuditPath
	// opened with audit.OpenFile's defaults, changed by AuditOptions.
	Gated        bool
	Dir          string
	AuditPath    string
	AuditOptions []audit.Option
}

// Start listens on a free loopback port and serves until Stop.
func Start(cfg ServerConfig) (*Server, error) {
	s := &Server{done: make(chan error, 1)}
	var opts []grpc.ServerOption
	if cfg.Gated {
		tc, err := tower.LoadFiles(tower.Files{
			Policy:   filepath.Join(cfg.Dir, "policy.yaml"),
			Manifest: filepath.Join(cfg.Dir, "manifest.yaml"),
		})
		if err != nil {
			return nil, err
		}
		if s.sink, err = audit.OpenFile(cfg.AuditPath, cfg.AuditOptions...); err != nil {
			return nil, err
		}
		tw, err := tower.New(tc, tower.WithAuditSink(s.sink))
		if err != nil {
			return nil, errors.Join(err, s.sink.Close())
		}
		opts = append(opts, grpc.UnaryInterceptor(interceptor.UnaryServerInterceptor(tw)))
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, s.closeSink(err)
	}
	s.Addr = lis.Addr().String()
	s.srv = grpc.NewServer(opts...)
	testv1.RegisterToolServiceServer(s.srv, echo{})
	go func() { s.done <- s.srv.Serve(lis) }()
	return s, nil
}

// Stop stops the server and closes the audit file.
func (s *Server) Stop() error {
	s.srv.Stop()
	err := <-s.done
	if errors.Is(err, grpc.ErrServerStopped) {
		err = nil
	}
	return s.closeSink(err)
}

func (s *Server) closeSink(err error) error {
	if s.sink == nil {
		return err
	}
	return errors.Join(err, s.sink.Close())
}

type echo struct {
	testv1.UnimplementedToolServiceServer
}

func (echo) Echo(_ context.Context, req *testv1.EchoRequest) (*testv1.EchoResponse, error) {
	return &testv1.EchoResponse{Message: req.GetMessage()}, nil
}
