package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	ckptPub, ckptKey   = mustKey()
	otherPub, otherKey = mustKey()
)

func mustKey() (ed25519.PublicKey, ed25519.PrivateKey) {
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = byte(len(seedsUsed))
	seedsUsed = append(seedsUsed, seed[0])
	priv := ed25519.NewKeyFromSeed(seed)
	return priv.Public().(ed25519.PublicKey), priv
}

var seedsUsed []byte

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// ckptSink is a FileSink on a fake file with checkpoints and a fake clock.
func ckptSink(t *testing.T, tick <-chan time.Time, opts ...Option) (*FileSink, *fakeFile, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: testTime}
	cfg := defaultFileConfig()
	for _, o := range append([]Option{WithCheckpointKey(ckptKey), WithCheckpointClock(clock.now)}, opts...) {
		o.applyFile(&cfg)
	}
	ck, err := cfg.checkpointer()
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeFile{}
	w := newWriter(f, 0, link{hash: GenesisHash}, DurabilityOS)
	w.ckpt = ck
	return startFileSink(w, cfg, ticks{checkpoint: tick}), f, clock
}

func emitN(t *testing.T, s *FileSink, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		if err := s.Emit(ctx, testEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
}

// kinds returns "e" for an event line and "C" for a checkpoint, per line.
func kinds(log []byte) string {
	var b strings.Builder
	for _, l := range bytes.SplitAfter(log, []byte("\n")) {
		switch {
		case len(l) == 0:
		case isCheckpoint(l):
			b.WriteByte('C')
		default:
			b.WriteByte('e')
		}
	}
	return b.String()
}

func TestCheckpointsEveryNRecordsAndOnClose(t *testing.T) {
	s, f, _ := ckptSink(t, nil, WithCheckpointEvery(3, 0))
	emitN(t, s, 1, 7)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	log := f.bytes()
	if got := kinds(log); got != "eeeCeeeCeC" {
		t.Fatalf("lines %s, want eeeCeeeCeC", got)
	}
	sum, err := VerifyCheckpoints(bytes.NewReader(log), ckptPub)
	if err != nil || sum.Lines != 10 || sum.Checkpoints != 3 || sum.Unsigned != 0 || sum.Last.Seq != 9 || !sum.Last.Time.Equal(testTime.Truncate(time.Microsecond)) {
		t.Fatalf("VerifyCheckpoints = %+v, %v", sum, err)
	}
	// Without a key the chain still verifies, as before.
	if n, err := Verify(bytes.NewReader(log)); n != 10 || err != nil {
		t.Errorf("Verify = %d, %v", n, err)
	}
	// Event lines keep Tollgate's layout: checkpoints only add lines.
	for i, l := range strings.Split(strings.TrimSuffix(string(log), "\n"), "\n") {
		if isCheckpoint([]byte(l)) {
			if !strings.Contains(l, `"key_id": "`+ckptKeyID()+`"`) {
				t.Errorf("line %d: %s", i+1, l)
			}
			continue
		}
		if !strings.HasPrefix(l, `{"schema_version": "1.0", "timestamp": "`) {
			t.Errorf("line %d is not an event line: %s", i+1, l)
		}
	}
	// Read returns checkpoints as such.
	var cps int
	if err := Read(bytes.NewReader(log), func(r *Record) error {
		if r.Checkpoint != nil {
			cps++
			if r.Checkpoint.Seq != r.Seq-1 || r.Checkpoint.Hash != r.PrevHash {
				t.Errorf("line %d: checkpoint %+v", r.Line, r.Checkpoint)
			}
		}
		return nil
	}); err != nil || cps != 3 {
		t.Errorf("Read: %v, %d checkpoints", err, cps)
	}
}

func ckptKeyID() string { return keyIDsOf(ckptPub) }

func keyIDsOf(pub ed25519.PublicKey) string {
	for id := range keyIDs([]ed25519.PublicKey{pub}) {
		return id
	}
	return ""
}

func TestCheckpointsAfterAnInterval(t *testing.T) {
	tick := make(chan time.Time)
	s, f, clock := ckptSink(t, tick, WithCheckpointEvery(0, time.Minute))
	emitN(t, s, 1, 2)
	clock.advance(time.Minute)
	emitN(t, s, 3, 3) // due on this write
	emitN(t, s, 4, 4)
	if got := kinds(f.bytes()); got != "eeeCe" {
		t.Fatalf("lines %s, want eeeCe", got)
	}
	// An idle log is signed by the timer, without another Emit.
	tick <- time.Time{}
	tick <- time.Time{} // received once the first tick is handled
	if got := kinds(f.bytes()); got != "eeeCeC" {
		t.Fatalf("after a tick: lines %s, want eeeCeC", got)
	}
	// A tick with nothing unsigned writes nothing; Close neither.
	tick <- time.Time{}
	tick <- time.Time{}
	s.Close()
	if got := kinds(f.bytes()); got != "eeeCeC" {
		t.Fatalf("lines %s, want eeeCeC", got)
	}
}

// rechain rewrites every line's prev_hash and hash from line from on, as a
// forger with write access would after editing.
func rechain(lines []string, from int) {
	prev := GenesisHash
	if from > 0 {
		l, _, _ := parseTail([]byte(strings.TrimSuffix(lines[from-1], "\n")))
		prev = l.hash
	}
	for i := from; i < len(lines); i++ {
		l, _, _ := parseTail([]byte(strings.TrimSuffix(lines[i], "\n")))
		line := strings.Replace(lines[i], `"prev_hash": "`+l.prev, `"prev_hash": "`+prev, 1)
		lines[i] = rehash(line)
		nl, _, _ := parseTail([]byte(strings.TrimSuffix(lines[i], "\n")))
		prev = nl.hash
	}
}

func signedLog(t *testing.T) []string {
	t.Helper()
	s, f, _ := ckptSink(t, nil, WithCheckpointEvery(3, 0))
	emitN(t, s, 1, 7)
	s.Close()
	l := strings.SplitAfter(string(f.bytes()), "\n")
	return l[:len(l)-1] // eeeCeeeCeC
}

func TestVerifyCheckpointsDetectsForgery(t *testing.T) {
	for _, c := range []struct {
		name   string
		forge  func(l []string) []string
		line   int
		reason string
	}{
		{"record edited and chain recomputed", func(l []string) []string {
			l[4] = strings.Replace(l[4], "corr-4", "corr-X", 1)
			rechain(l, 4)
			return l
		}, 8, "the lines it covers were changed"},
		{"checkpoint hash edited too", func(l []string) []string {
			l[4] = strings.Replace(l[4], "corr-4", "corr-X", 1)
			rechain(l, 4)
			hash := l[6][strings.LastIndex(l[6], hashKey)+len(hashKey):][:64]
			old := l[7][strings.Index(l[7], `"checkpoint": {"seq": 7, "hash": "`)+34:][:64]
			l[7] = strings.Replace(l[7], old, hash, 1)
			rechain(l, 7)
			return l
		}, 8, "signature does not verify"},
		{"checkpoint moved", func(l []string) []string {
			l[3], l[4] = l[4], l[3]
			l[3] = strings.Replace(l[3], `"seq": 5,`, `"seq": 4,`, 1)
			l[4] = strings.Replace(l[4], `"seq": 4, "prev_hash"`, `"seq": 5, "prev_hash"`, 1)
			rechain(l, 3)
			return l
		}, 5, "or it was moved"},
		{"signed by another key", func(l []string) []string {
			cp, _ := parseCheckpoint([]byte(strings.TrimSuffix(l[3], "\n")))
			c := checkpointer{key: otherKey, keyID: keyIDsOf(otherPub)}
			body := string(c.appendLine(nil, cp.Seq, []byte(cp.Hash), cp.Time))
			l[3] = body[:len(body)-1] + l[3][strings.Index(l[3], `, "seq": 4,`):]
			rechain(l, 3)
			return l
		}, 4, "not a trusted key"},
		{"checkpoint reshaped", func(l []string) []string {
			l[3] = strings.Replace(l[3], `", "checkpoint": {`, `", "extra": 1, "checkpoint": {`, 1)
			rechain(l, 3)
			return l
		}, 4, "other keys"},
	} {
		t.Run(c.name, func(t *testing.T) {
			log := strings.Join(c.forge(signedLog(t)), "")
			if n, err := Verify(strings.NewReader(log)); err != nil {
				t.Fatalf("the forgery breaks the plain chain (%d, %v): the test does not forge well", n, err)
			}
			_, err := VerifyCheckpoints(strings.NewReader(log), ckptPub)
			var ce *ChainError
			if !errors.As(err, &ce) || ce.Line != c.line || !strings.Contains(ce.Reason, c.reason) {
				t.Errorf("VerifyCheckpoints = %v; want line %d %q", err, c.line, c.reason)
			}
		})
	}
}

func TestVerifyCheckpointsUnsignedAndTail(t *testing.T) {
	unsigned := chainBytes(t, 4)
	if _, err := VerifyCheckpoints(bytes.NewReader(unsigned), ckptPub); !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("unsigned log with a key: %v, want ErrNoCheckpoint", err)
	}
	if s, err := VerifyCheckpoints(bytes.NewReader(unsigned)); err != nil || s.Unsigned != 4 || s.Checkpoints != 0 {
		t.Errorf("unsigned log without a key: %+v, %v", s, err)
	}
	// Cutting the log after a checkpoint still verifies: the tail is only
	// chained, and the summary says how much of it there is.
	l := signedLog(t)
	s, err := VerifyCheckpoints(strings.NewReader(strings.Join(l[:9], "")), ckptPub)
	if err != nil || s.Unsigned != 1 || s.Last.Seq != 7 {
		t.Errorf("truncated log: %+v, %v", s, err)
	}
	s, err = VerifyCheckpoints(strings.NewReader(strings.Join(l, "")))
	if err != nil || s.Checkpoints != 3 || s.Last != nil {
		t.Errorf("no key: %+v, %v (checkpoints counted, not checked)", s, err)
	}
}

// A reopened log continues after its last checkpoint, and the next
// checkpoint covers what was there.
func TestCheckpointsAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	for i := range 2 {
		s, err := OpenFile(path, WithDurability(DurabilityOS), WithCheckpointKey(ckptKey))
		if err != nil {
			t.Fatal(err)
		}
		emitN(t, s, 2*i+1, 2*i+2)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := os.ReadFile(path)
	if got := kinds(data); got != "eeCeeC" {
		t.Errorf("lines %s", got)
	}
	if s, err := VerifyCheckpoints(bytes.NewReader(data), otherPub, ckptPub); err != nil || s.Checkpoints != 2 {
		t.Errorf("VerifyCheckpoints = %+v, %v", s, err)
	}
}

func TestCheckpointOptionErrors(t *testing.T) {
	dir := t.TempDir()
	for name, opts := range map[string][]Option{
		"every without key": {WithCheckpointEvery(10, time.Second)},
		"short key":         {WithCheckpointKey(ckptKey[:10])},
		"nil clock":         {WithCheckpointKey(ckptKey), WithCheckpointClock(nil)},
	} {
		if _, err := OpenFile(filepath.Join(dir, "a.jsonl"), opts...); err == nil {
			t.Errorf("%s: OpenFile accepted it", name)
		}
	}
}

func TestReadCheckpointKey(t *testing.T) {
	dir := t.TempDir()
	der, _ := x509.MarshalPKCS8PrivateKey(ckptKey)
	good := filepath.Join(dir, "k.key")
	os.WriteFile(good, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	if k, err := ReadCheckpointKey(good); err != nil || !k.Equal(ckptKey) {
		t.Fatalf("ReadCheckpointKey = %v", err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(ckptPub)
	pub := filepath.Join(dir, "k.pub")
	os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600)
	for _, path := range []string{pub, filepath.Join(dir, "missing"), dir} {
		if _, err := ReadCheckpointKey(path); err == nil {
			t.Errorf("ReadCheckpointKey(%s) accepted it", path)
		}
	}
}
