package identity

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tollgate-go/tollgate"
)

// FuzzDecodeClaims feeds arbitrary payloads to the strict claim decoder
// (and headers to checkHeader). It must never panic, and whatever it
// accepts must say one thing: encoding/json — which golang-jwt and most
// Go services use, last value wins, names matched case-insensitively —
// must read every claim exactly as decodeClaims did.
func FuzzDecodeClaims(f *testing.F) {
	for _, seed := range []string{
		`{"iss":"https://issuer.example","sub":"worker-agent","aud":["tickets"],"iat":1772600767,"nbf":1772600767,"exp":1772601067,"jti":"j-1","ver":"2.1.0","owner":"ops-team"}`,
		`{"sub":"w","aud":"tickets","exp":1772601067.5,"act":{"sub":"router","act":{"sub":"orchestrator"}},"meta":{"role":"support","tags":["a",{"b":1.5e300}]}}`,
		`{"sub":"w","exp":1,"meta":null,"act":null,"scope":["a","a"],"x":{"n":1e400}}`,
		`{"sub":"worker","sub":"admin"}`,
		`{"sub":"worker","\u0073ub":"admin"}`,
		`{"sub":"worker","SUB":"admin"}`,
		`{"sub":"worker","ſub":"admin","K":1,"k":2}`,
		`{"sub":"","AuD":""}`,
		`{"sub":"w","Meta":{"role":"admin"}}`,
		`{"exp":1,"exp":99999999999}`,
		`{"exp":"1772601067"}`,
		`{"exp":-1}`,
		`{"exp":1e300}`,
		`{"aud":5}`,
		`{"aud":["tickets",5]}`,
		`{"aud":null}`,
		`{"sub":7,"iss":true,"jti":[]}`,
		`{"meta":{"role":"support"},"meta":{"role":"admin"}}`,
		`{"meta":{"role":"support","role":"admin"}}`,
		`{"meta":{"Role":"a","role":"b"}}`,
		`{"act":{"sub":"a","act":{"sub":"b","sub":"c"}}}`,
		`{"act":{"sub":"a","iss":"x"}}`,
		`{"alg":"EdDSA","alg":"none","kid":"k"}`,
		`{"alg":"EdDSA","kid":"k","typ":1}`,
		"{\"owner\":\"ops\xff\"}",
		`[1]`, `"x"`, `{}`, `{} {}`, `{"a":[[[[[[[[[[]]]]]]]]]]}`, ``, `{`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = checkHeader(data) // must not panic
		rc, agent, err := decodeClaims(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("refused without a reason")
			}
			return
		}
		var lib tokenClaims
		if err := json.Unmarshal(data, &lib); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", data, err)
		}
		if lib.Issuer != rc.Issuer || lib.Subject != rc.Subject || lib.ID != rc.ID ||
			lib.Version != agent.Version || lib.Owner != agent.Owner || agent.ID != rc.Subject ||
			!slices.Equal(lib.Audience, rc.Audience) ||
			!sameDate(lib.ExpiresAt, rc.ExpiresAt) || !sameDate(lib.NotBefore, rc.NotBefore) || !sameDate(lib.IssuedAt, rc.IssuedAt) {
			t.Fatalf("%q reads two ways:\n strict:        %+v %+v\n encoding/json: %+v", data, rc, agent, lib)
		}
		if meta := libValue(t, lib.Meta); !reflect.DeepEqual(meta, anyParams(agent.Metadata)) {
			t.Fatalf("%q: meta reads two ways: %v and %v", data, agent.Metadata, meta)
		}
		if chain, err := parseActChain(libValue(t, lib.Act)); err != nil || !slices.Equal(chain, agent.DelegatedBy) {
			t.Fatalf("%q: act reads two ways: %q and %q (%v)", data, agent.DelegatedBy, chain, err)
		}
	})
}

func sameDate(a, b *jwt.NumericDate) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(b.Time)
}

// libValue decodes the raw member encoding/json kept (absent: nil).
func libValue(t *testing.T, raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	v, err := tollgate.DecodeJSON(raw)
	if err != nil {
		t.Fatalf("member %s: %v", raw, err)
	}
	return v
}

// anyParams turns decoded metadata back into the value libValue returns
// for it, so nil metadata compares equal to an absent or null member.
func anyParams(p tollgate.Params) any {
	if p == nil {
		return nil
	}
	return p
}
