// Package adminv1 is Tollgate's admin API (tollgate.admin.v1:
// ApprovalService, GrantService and KillSwitchService), generated from
// specs/proto/tollgate/admin/v1/admin.proto for grpc-go and, in
// adminv1connect, for connect-go. Package admin implements both services;
// `make generate` regenerates this code.
package adminv1

//go:generate protoc -I ../../specs/proto --go_out=../.. --go_opt=module=github.com/tollgate-go/tollgate --go-grpc_out=../.. --go-grpc_opt=module=github.com/tollgate-go/tollgate --connect-go_out=../.. --connect-go_opt=module=github.com/tollgate-go/tollgate ../../specs/proto/tollgate/admin/v1/admin.proto
