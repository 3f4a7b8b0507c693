package sqlitestore

import (
	"database/sql"
	"math"
	"time"
)

// Times are stored as Unix nanoseconds, which keeps full precision (so
// grants.Compare orders stored grants exactly as it orders the values
// callers passed) and compares with plain integer operators in SQL.

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// storable reports whether t fits in int64 nanoseconds (years 1678 to
// 2262). Times outside that range are refused rather than wrapped around.
func storable(t time.Time) bool { return !t.Before(minTime) && !t.After(maxTime) }

// clampNanos converts a query bound, such as "now", saturating at the
// range ends. Clamping keeps comparisons right: every stored time lies
// within the range.
func clampNanos(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// fromNanos converts a stored time; NULL is the zero time.
func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64)
}

// nullNanos converts an optional stored time: zero becomes NULL.
func nullNanos(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}
