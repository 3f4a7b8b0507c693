// Package identity turns the credentials a caller presents into the
// tollgate.Agent the rest of the pipeline trusts.
//
// A Verifier receives Credentials (the agent context the caller asserted,
// its request headers and its TLS state) and returns the verified Agent, or
// an error wrapping ErrNoCredentials (this verifier found nothing it
// understands) or ErrInvalid (it found credentials and they are wrong). Any
// error refuses the call; Chain uses ErrNoCredentials to let several
// verifiers coexist during a migration, for example the legacy HMAC
// signature and a token verifier.
//
// NewLegacyHMAC reproduces Tollgate 1.4.0's agent signature
// (HMAC-SHA256 over "agent_id|version|owner", hex, in
// metadata["_signature"]) so that existing agents keep working. It is weak
// and meant for migration only: the signature never expires, it does not
// cover the delegation chain or the metadata, and every verifier holding the
// shared secret can mint identities.
//
// The verified Agent travels through the request in the context
// (NewContext, FromContext), so that later stages and handlers read the
// identity that was checked, never the one that was claimed.
package identity
