package identity

import "testing"

// FuzzParseJWKS feeds arbitrary documents to the JWKS parser, which reads
// what a key server sends: it must never panic, and every key it returns
// must be usable exactly as its algorithm says.
func FuzzParseJWKS(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"If4x36FUomE","alg":"EdDSA","use":"sig"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","kid":"e","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"r"},{"kty":"OKP","crv":"Ed25519","x":"","d":"x"}]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := parseJWKS(data)
		if err != nil {
			return
		}
		if len(keys) == 0 {
			t.Fatal("parsed a JWKS without keys")
		}
		for kid, k := range keys {
			alg, err := keyAlgorithm(k.Public)
			if err != nil || alg != k.Algorithm || kid == "" || kid != k.ID {
				t.Fatalf("key %q: %+v (algorithm from key: %q, %v)", kid, k, alg, err)
			}
		}
	})
}
