// Package testv1 is the shared test service of Tollgate's front doors
// (tollgate.test.v1.ToolService): Echo and Fetch (unary), Watch (server
// streaming), Upload (client streaming) and Chat (bidirectional), generated
// for grpc-go and, in testv1connect, for connect-go. It exists so that every
// interceptor test and benchmark exercises each RPC shape the same way.
package testv1

//go:generate sh generate.sh
