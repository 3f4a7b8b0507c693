package redisstore

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// timeKeyLen is the length of a time key.
const timeKeyLen = 24

// timeKey encodes t exactly as 24 lower-case hex digits whose byte order is
// time order: the Unix seconds with the sign bit flipped (so negative
// seconds sort first), then the nanoseconds. Scripts compare time keys
// bytewise, and sorted sets order members that start with one, so no
// floating-point score ever rounds a time.
func timeKey(t time.Time) string {
	var raw [timeKeyLen / 2]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(t.Unix())^1<<63)
	binary.BigEndian.PutUint32(raw[8:], uint32(t.Nanosecond()))
	return hex.EncodeToString(raw[:])
}

var errBadTimeKey = errors.New("malformed time")

// parseTimeKey decodes a timeKey. Times come back in the local zone.
func parseTimeKey(s string) (time.Time, error) {
	var raw [timeKeyLen / 2]byte
	if len(s) != timeKeyLen {
		return time.Time{}, fmt.Errorf("%w %q: want %d hex digits", errBadTimeKey, s, timeKeyLen)
	}
	if _, err := hex.Decode(raw[:], []byte(s)); err != nil {
		return time.Time{}, fmt.Errorf("%w %q: %v", errBadTimeKey, s, err)
	}
	nsec := binary.BigEndian.Uint32(raw[8:])
	if nsec >= uint32(time.Second) {
		return time.Time{}, fmt.Errorf("%w %q: nanoseconds out of range", errBadTimeKey, s)
	}
	return time.Unix(int64(binary.BigEndian.Uint64(raw[:8])^1<<63), int64(nsec)), nil
}

// parseOptionalTimeKey decodes a timeKey, or "" as the zero time (a
// decision or use that has not happened).
func parseOptionalTimeKey(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return parseTimeKey(s)
}
