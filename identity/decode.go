package identity

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tollgate-go/tollgate"
)

// maxNumericDate is 9999-12-31T23:59:59Z: a NumericDate past it (or before
// the epoch) is refused rather than wrapped into some other time.
const maxNumericDate = 253402300799

// unreadClaims is what the verifier hands the jwt parser as claims. The
// parser decodes the payload with encoding/json before it checks the
// signature, and encoding/json lets a repeated member take the last value
// and reads "exp": "1700000000" as a number; unreadClaims takes nothing
// from that decoding (so an unauthenticated payload costs only the
// parser's syntax scan). decodeClaims reads the signed bytes strictly once
// the signature holds. RegisteredClaims is embedded only to make it a
// jwt.Claims: it stays empty, and the parser is told not to validate it.
type unreadClaims struct{ jwt.RegisteredClaims }

func (*unreadClaims) UnmarshalJSON([]byte) error { return nil }

// The header members and claims this package reads: checkMembers refuses
// their names in another case.
var (
	headerNames = foldedNames("alg", "kid", "typ", "cty", "crit")
	claimNames  = foldedNames("iss", "sub", "aud", "exp", "nbf", "iat", "jti", "ver", "owner", "sid", "meta", "act")
)

// checkHeader refuses a JOSE header that could read two ways (see
// checkMembers) or whose members the verifier reads ("alg", "kid", "typ",
// "cty") are not strings.
func checkHeader(data []byte) error {
	h, err := decodeObject("header", data, headerNames)
	if err != nil {
		return err
	}
	for _, f := range h {
		switch f.Key {
		case "alg", "kid", "typ", "cty":
			if _, ok := f.Value.(string); !ok {
				return fmt.Errorf("header member %q is %s, want a string", f.Key, jsonKind(f.Value))
			}
		}
	}
	return nil
}

// decodeClaims reads a token's claims, exactly as signed, strictly: no
// member repeated anywhere (checkMembers), every claim this package reads
// of its JSON type — "iss", "sub", "jti", "ver", "owner" and "sid" strings,
// "exp", "nbf" and "iat" numbers, "aud" a string or an array of strings,
// "meta" and "act" objects (or null) — and the delegation chain and
// metadata well formed. Other members are ignored. It returns the
// registered claims, for the jwt validator, and the agent they name.
func decodeClaims(data []byte) (jwt.RegisteredClaims, tollgate.Agent, error) {
	var (
		rc jwt.RegisteredClaims
		a  tollgate.Agent
	)
	p, err := decodeObject("claims", data, claimNames)
	if err != nil {
		return rc, a, err
	}
	for _, f := range p {
		var err error
		switch f.Key {
		case "iss":
			rc.Issuer, err = stringClaim(f)
		case "sub":
			rc.Subject, err = stringClaim(f)
			a.ID = rc.Subject
		case "jti":
			rc.ID, err = stringClaim(f)
		case "ver":
			a.Version, err = stringClaim(f)
		case "owner":
			a.Owner, err = stringClaim(f)
		case "sid":
			a.SessionID, err = stringClaim(f)
		case "aud":
			rc.Audience, err = audienceClaim(f.Value)
		case "exp":
			rc.ExpiresAt, err = dateClaim(f)
		case "nbf":
			rc.NotBefore, err = dateClaim(f)
		case "iat":
			rc.IssuedAt, err = dateClaim(f)
		case "meta":
			a.Metadata, err = parseMeta(f.Value)
		case "act":
			a.DelegatedBy, err = parseActChain(f.Value)
		}
		if err != nil {
			return jwt.RegisteredClaims{}, tollgate.Agent{}, err
		}
	}
	return rc, a, nil
}

// decodeObject checks data with checkMembers and decodes it as a JSON
// object.
func decodeObject(what string, data []byte, known map[string]string) (tollgate.Params, error) {
	if err := checkMembers(what, data, known); err != nil {
		return nil, err
	}
	v, err := tollgate.DecodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	p, ok := v.(tollgate.Params)
	if !ok {
		return nil, fmt.Errorf("%s are %s, want a JSON object", what, jsonKind(v))
	}
	return p, nil
}

func stringClaim(f tollgate.Field) (string, error) {
	s, ok := f.Value.(string)
	if !ok {
		return "", fmt.Errorf("claim %q is %s, want a string", f.Key, jsonKind(f.Value))
	}
	return s, nil
}

// audienceClaim reads "aud": one string, or an array of strings (RFC 7519
// §4.1.3).
func audienceClaim(v any) (jwt.ClaimStrings, error) {
	switch v := v.(type) {
	case string:
		return jwt.ClaimStrings{v}, nil
	case []any:
		aud := make(jwt.ClaimStrings, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf(`claim "aud" has %s at index %d, want an array of strings only`, jsonKind(e), i)
			}
			aud[i] = s
		}
		return aud, nil
	}
	return nil, fmt.Errorf(`claim "aud" is %s, want a string or an array of strings`, jsonKind(v))
}

// dateClaim reads a NumericDate (RFC 7519 §2): a JSON number of seconds
// since the epoch, fractions allowed. A string holding a number is
// refused, although encoding/json (and so golang-jwt) would read it.
func dateClaim(f tollgate.Field) (*jwt.NumericDate, error) {
	n, ok := f.Value.(json.Number)
	if !ok {
		return nil, fmt.Errorf("claim %q is %s, want a JSON number (seconds since the epoch)", f.Key, jsonKind(f.Value))
	}
	secs, err := strconv.ParseFloat(string(n), 64)
	if err != nil || secs < 0 || secs > maxNumericDate {
		return nil, fmt.Errorf("claim %q is %s, want seconds since the epoch between 0 and %d", f.Key, n, maxNumericDate)
	}
	whole, frac := math.Modf(secs)
	return jwt.NewNumericDate(time.Unix(int64(whole), int64(frac*1e9))), nil
}

// jsonKind names the JSON type of a decoded value, with its article, for
// error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	default: // tollgate.Params: DecodeJSON yields nothing else
		return "an object"
	}
}
