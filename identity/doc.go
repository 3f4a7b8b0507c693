// Package identity turns the credentials a caller presents into the
// tollgate.Agent the rest of the pipeline trusts: policy, rate limits,
// grants and audit see only what a Verifier proved, never what a caller
// claimed.
//
// A Verifier receives Credentials (the agent context the caller asserted,
// its request headers and its TLS state) and returns the verified Agent, or
// an error wrapping ErrNoCredentials (this verifier found nothing it
// understands) or ErrInvalid (it found credentials and they are wrong).
// Other errors mean the verifier could not decide (a key server is down).
// Any error refuses the call; Chain tries verifiers in order, moving on only
// past ErrNoCredentials, so a call with no credentials at all is refused.
//
// # Agent tokens
//
// NewJWTVerifier checks signed agent tokens (JWTs, EdDSA or ES256) sent as
// "authorization: Bearer <token>". Claims documents the claims and the
// mapping of the delegation chain to RFC 8693 "act" claims. Keys come from a
// KeySet: NewJWKSFile (reloadable, for kid rotation), NewJWKSURL (an
// issuer's endpoint, cached, refreshed on an unknown kid at a bounded rate)
// or NewKeySet. Only the configured algorithms are accepted, and each key
// verifies only its own algorithm, so "alg": "none" and HMAC tokens keyed
// with a public key are refused. Once the signature holds, the header
// and claims are read strictly from the signed bytes: a member name
// repeated at any depth, top-level names differing only in case, bytes
// that are not UTF-8, and registered claims of the wrong JSON type are
// refused, because encoding/json (and so golang-jwt) would silently take
// the last value, or read "exp": "123" as a number. A token may live at
// most DefaultMaxTokenLifetime (WithMaxTokenLifetime, on the verifier and
// the Signer alike). A verified token is cached (bounded, by
// SHA-256 digest, never past its "exp"), so an agent reusing its token pays
// the signature check once; removing its key from the set revokes it at
// once. WithReplayCache makes tokens single-use (ReplayCache,
// MemoryReplayCache); single-use tokens bypass the cache.
//
// The client half is Signer: it mints short-lived tokens for one agent and
// re-mints them before they expire; its Token method is the token source
// of the interceptor package's client interceptors.
//
// # Workload identity
//
// NewSPIFFE maps the SPIFFE ID of a verified mTLS client certificate to an
// agent (SPIFFETable or a SPIFFEMapperFunc), for services in a mesh.
//
// # Legacy signatures
//
// NewLegacyHMAC reproduces Tollgate 1.4.0's agent signature
// (HMAC-SHA256 over "agent_id|version|owner", hex, in
// metadata["_signature"]) so that existing agents keep working during a
// migration. It is weak: the signature never expires, it does not cover
// the delegation chain or the metadata, and every verifier holding the
// shared secret can mint identities. The verified Agent never carries the
// signature, so it never reaches the audit log.
//
// The verified Agent travels through the request in the context
// (NewContext, FromContext), so that later stages and handlers read the
// identity that was checked, never the one that was claimed.
package identity
