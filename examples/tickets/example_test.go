package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// Example is `go run ./examples/tickets`: the table below is what the
// README promises.
func Example() {
	dir, err := os.MkdirTemp("", "tickets-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	if _, err := runDemo(context.Background(), os.Stdout, dir, filepath.Join(dir, "audit.jsonl")); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Tollgate tickets example: gRPC and Connect on one port, one pipeline; the admin API on another.
	//
	// #   client   call                                                     decision              status              details
	// 1   grpc-go  GetTicket T-1001                                         ALLOW                 OK                  Printer on fire
	// 2   connect  GetTicket T-1002                                         ALLOW                 OK                  Invoice sent twice
	// 3   connect  WatchTickets support (server stream)                     ALLOW                 OK                  3 tickets
	// 4   grpc-go  AssignTicket T-1001 (not in manifest)                    DENY                  PermissionDenied    POLICY_DENIED
	// 5   grpc-go  CloseTicket T-1001                                       ASK → approved        OK                  solved
	// 6   connect  CloseTicket T-2002 (VIP customer)                        ASK → denied          PermissionDenied    APPROVAL_DENIED
	// 7   connect  DeleteTicket T-1004                                      ASK → deferred        FailedPrecondition  APPROVAL_PENDING; approvalId in ErrorInfo
	// 8   admin    Approve it with support-bot's own token                  not an admin          Unauthenticated     admin credentials are missing or invalid
	// 9   admin    Approve it as alice (admin role)                         approved              OK                  by alice@example.com
	// 10  connect  DeleteTicket T-1004, with the approval id                ASK → approved        OK                  deleted
	// 11  grpc-go  DeleteTicket T-1004, same approval id again              ASK → used up         PermissionDenied    APPROVAL_DENIED
	// 12  grpc-go  CloseTicket "T-1 OR 1=1"                                 DENY                  InvalidArgument     PARAMS_INVALID; field ticket_id
	// 13  connect  GetTicket T-1003 (3rd this minute)                       ALLOW                 OK                  Password reset
	// 14  grpc-go  GetTicket T-2002 (4th this minute)                       DENY                  ResourceExhausted   RATE_LIMITED; retry in 60s
	// 15  connect  FetchAttachment http://169.254.169.254/latest/meta-data  DENY                  PermissionDenied    NETWORK_BLOCKED; field url
	// 16  grpc-go  FetchAttachment …/T-1001/log.txt                         ALLOW                 OK                  28 bytes
	// 17  grpc-go  FetchAttachment …/archive/1.pdf                          ALLOW, handler fails  Unavailable         the attachment archive is unavailable
	// 18  grpc-go  FetchAttachment …/archive/2.pdf                          ALLOW, handler fails  Unavailable         the attachment archive is unavailable
	// 19  grpc-go  FetchAttachment …/archive/3.pdf                          ALLOW, handler fails  Unavailable         the attachment archive is unavailable
	// 20  grpc-go  FetchAttachment …/T-1001/log.txt                         DENY                  Unavailable         CIRCUIT_OPEN; retry in 30s
	// 21  grpc-go  BulkUpdate pending, deleted, solved (bidi)               ALLOW, then DENY      InvalidArgument     CONSTRAINT_VIOLATED; field status; 1 of 3 updated
	// 22  connect  GetTicket T-1001, token from an unknown key              DENY                  Unauthenticated     IDENTITY_INVALID
	//
	// BadRequest field violations:
	//  12  params.ticket_id: value does not match pattern '^T-[0-9]{4,8}$'
	//  15  Parameter 'url': URL 'http://169.254.169.254/latest/meta-data' blocked by network policy (cloud metadata address 169.254.169.254)
	//  15  Parameter 'url': URL 'http://169.254.169.254/latest/meta-data' not in network policy allowlist
	//  21  Parameter 'status': value 'deleted' not in allowed_values ['open', 'pending', 'solved']
	//
	// audit: 33 records, hash chain verified
	// all 22 calls ended as expected
}
