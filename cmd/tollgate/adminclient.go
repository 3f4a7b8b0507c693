package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tollgate-go/tollgate/admin/adminv1/adminv1connect"
	"github.com/tollgate-go/tollgate/interceptor"
)

// tokenEnv is the environment variable that holds the admin token when
// --token-file is not given.
const tokenEnv = "TOLLGATE_ADMIN_TOKEN"

// maxTokenFile bounds what --token-file may hold.
const maxTokenFile = 64 << 10

// adminFlags are the connection and output flags of the commands that
// talk to the admin API (approvals, grants, kill).
type adminFlags struct {
	addr      string
	protocol  string
	insecure  bool
	tokenFile string
	format    string
	timeout   time.Duration
}

const adminFlagsHelp = `
The admin API is reached at --addr over TLS (https), or with --insecure over
HTTP/2 without TLS (h2c), which is only allowed to a loopback address.
--protocol grpc reaches a grpc-go server; a connect-go server speaks both
grpc and connect (the default). The admin token (a JWT with the admin role, sent as
"authorization: Bearer") is read from --token-file, else from the
TOLLGATE_ADMIN_TOKEN environment variable; never from a flag value, which
would leak into shell history and process listings.

Exit codes: 0 done, 1 the server refused (not found, already decided, not an
admin...), 2 usage, token or connection error.`

func (f *adminFlags) register(cmd *cobra.Command) {
	fs := cmd.PersistentFlags()
	fs.StringVar(&f.addr, "addr", "", "admin API address `HOST:PORT` (required)")
	fs.StringVar(&f.protocol, "protocol", "connect", "wire protocol: connect or grpc")
	fs.BoolVar(&f.insecure, "insecure", false, "plaintext HTTP/2 (h2c), loopback addresses only")
	fs.StringVar(&f.tokenFile, "token-file", "", "read the admin token from `FILE` (default: $"+tokenEnv+")")
	fs.StringVar(&f.format, "format", "text", "output format: text or json")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "give up on a call after this long")
}

// adminClients are the services' clients, sharing one connection
// setup.
type adminClients struct {
	approvals adminv1connect.ApprovalServiceClient
	grants    adminv1connect.GrantServiceClient
	kills     adminv1connect.KillSwitchServiceClient
	addr      string
}

// dial checks the flags and returns clients. It does not connect yet: the
// first call does.
func (f *adminFlags) dial(cmd *cobra.Command) (*adminClients, error) {
	if err := oneOf(cmd, "protocol", f.protocol, "connect", "grpc"); err != nil {
		return nil, err
	}
	if err := oneOf(cmd, "format", f.format, "text", "json"); err != nil {
		return nil, err
	}
	if f.addr == "" {
		return nil, usageError(cmd, "--addr HOST:PORT is required")
	}
	host, _, err := net.SplitHostPort(f.addr)
	if err != nil {
		return nil, usageError(cmd, fmt.Sprintf("--addr %q: want HOST:PORT", f.addr))
	}
	if f.timeout <= 0 {
		return nil, usageError(cmd, "--timeout must be positive")
	}
	token, err := f.token()
	if err != nil {
		return nil, err
	}
	scheme, hc := "https://", &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	if f.insecure {
		if !isLoopback(host) {
			return nil, usageError(cmd, fmt.Sprintf("--insecure would send the admin token in clear text to %s; it is only allowed to a loopback address", host))
		}
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		scheme, hc = "http://", &http.Client{Transport: &http.Transport{Protocols: &p}}
	}
	opts := []connect.ClientOption{connect.WithInterceptors(interceptor.NewConnectClientInterceptor(
		interceptor.WithTokenSource(func(context.Context) (string, error) { return token, nil })))}
	if f.protocol == "grpc" {
		opts = append(opts, connect.WithGRPC())
	}
	base := scheme + f.addr
	return &adminClients{
		approvals: adminv1connect.NewApprovalServiceClient(hc, base, opts...),
		grants:    adminv1connect.NewGrantServiceClient(hc, base, opts...),
		kills:     adminv1connect.NewKillSwitchServiceClient(hc, base, opts...),
		addr:      f.addr,
	}, nil
}

// token reads the admin token from --token-file or the environment.
func (f *adminFlags) token() (string, error) {
	var token string
	if f.tokenFile != "" {
		file, err := os.Open(f.tokenFile)
		if err != nil {
			return "", err
		}
		defer file.Close()
		b, err := io.ReadAll(io.LimitReader(file, maxTokenFile+1))
		if err != nil {
			return "", fmt.Errorf("%s: %w", f.tokenFile, err)
		}
		if len(b) > maxTokenFile {
			return "", fmt.Errorf("%s: larger than %d KiB; a token file holds one token", f.tokenFile, maxTokenFile>>10)
		}
		token = strings.TrimSpace(string(b))
		if token == "" {
			return "", fmt.Errorf("%s: empty; it should hold the admin token", f.tokenFile)
		}
	} else if token = strings.TrimSpace(os.Getenv(tokenEnv)); token == "" {
		return "", fmt.Errorf("no admin token: pass --token-file FILE or set %s", tokenEnv)
	}
	if strings.ContainsFunc(token, unicode.IsSpace) {
		return "", errors.New("the admin token contains whitespace; it should be one JWT")
	}
	return token, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// context returns the context of one call, bounded by --timeout.
func (f *adminFlags) context(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return context.WithTimeout(cmd.Context(), f.timeout)
}

// callAdmin dials the admin API, makes one call and prints its answer: as
// JSON with --format json, else with text.
func callAdmin[T any, M interface {
	*T
	proto.Message
}](cmd *cobra.Command, f *adminFlags, call func(context.Context, *adminClients) (*connect.Response[T], error), text func(io.Writer, M)) error {
	c, err := f.dial(cmd)
	if err != nil {
		return err
	}
	ctx, cancel := f.context(cmd)
	defer cancel()
	resp, err := call(ctx, c)
	if err != nil {
		return c.callError(err)
	}
	if f.format == "json" {
		return printJSON(cmd.OutOrStdout(), M(resp.Msg))
	}
	text(cmd.OutOrStdout(), M(resp.Msg))
	return nil
}

// callError turns a failed call into the command's exit: 1 when the
// server answered with a refusal, 2 when it could not be reached.
func (c *adminClients) callError(err error) error {
	code := connect.CodeOf(err)
	msg := err.Error()
	var ce *connect.Error
	if errors.As(err, &ce) {
		msg = ce.Message()
	}
	switch code {
	case connect.CodeUnavailable, connect.CodeDeadlineExceeded, connect.CodeCanceled, connect.CodeUnknown:
		return fail(exitUsage, fmt.Errorf("admin API at %s: %s: %s", c.addr, code, msg))
	}
	return fail(exitFailed, fmt.Errorf("refused: %s: %s", code, msg))
}

// printJSON writes m as indented JSON with proto field names, the same on
// every run (protojson varies its spacing on purpose).
func printJSON(w io.Writer, m proto.Message) error {
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = out.WriteTo(w)
	return err
}

// printable renders text from the server (agent ids, reasons, params) so
// that it cannot drive the terminal: control and formatting characters
// (escape sequences, bidirectional overrides) are shown as \u escapes.
func printable(s string) string {
	if !strings.ContainsFunc(s, hidden) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if hidden(r) {
			fmt.Fprintf(&b, `\u%04x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func hidden(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }

// when renders a timestamp for text output: UTC, to the second; "-" when
// unset.
func when(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().UTC().Format(time.RFC3339)
}
