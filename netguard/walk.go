package netguard

import (
	"sort"
	"strconv"

	"github.com/tollgate-go/tollgate"
)

// WalkStrings calls fn for every string value in params at any depth, in
// document order, with its path: "url" for a top-level key, "a.b" inside an
// object, "list[2]" inside an array. Besides the tollgate.Params model it
// descends into map[string]any (keys in sorted order) and []string, so
// values that went through tollgate.Plain are covered too. Keys are not
// visited, and values nested deeper than tollgate.MaxDepth are not visited
// (ParseParams never produces them; Guard.Check reports them).
func WalkStrings(params tollgate.Params, fn func(path, s string)) {
	var buf []byte
	for _, f := range params {
		buf = append(buf[:0], f.Key...)
		walkValue(f.Value, buf, 1, func(path []byte, s string) { fn(string(path), s) }, nil)
	}
}

// WalkURLs calls fn for every URL that FindURLs finds in any string value
// at any depth, in document order; paths are as in WalkStrings, u.Raw is
// how the URL appears in the string, and u is only valid during the call.
// URL-shaped text that is malformed is skipped: use WalkStrings with
// FindURLs to see it.
func WalkURLs(params tollgate.Params, fn func(path string, u *URL)) {
	WalkStrings(params, func(path, s string) {
		FindURLs(s, func(_ string, u *URL, err error) {
			if err == nil {
				fn(path, u)
			}
		})
	})
}

// walkValue calls fn for every string in v, whose location is path. The
// path slice is only valid during the call. When v nests deeper than
// tollgate.MaxDepth, tooDeep (if not nil) is called with the path where the
// walk stopped.
func walkValue(v any, path []byte, depth int, fn func(path []byte, s string), tooDeep func(path []byte)) {
	switch t := v.(type) {
	case string:
		fn(path, t)
		return
	case tollgate.Params, []any, []string, map[string]any:
	default:
		return
	}
	if depth > tollgate.MaxDepth {
		if tooDeep != nil {
			tooDeep(path)
		}
		return
	}
	switch t := v.(type) {
	case tollgate.Params:
		for _, f := range t {
			walkValue(f.Value, appendKey(path, f.Key), depth+1, fn, tooDeep)
		}
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walkValue(t[k], appendKey(path, k), depth+1, fn, tooDeep)
		}
	case []any:
		for i, e := range t {
			walkValue(e, appendIndex(path, i), depth+1, fn, tooDeep)
		}
	case []string:
		for i, e := range t {
			fn(appendIndex(path, i), e)
		}
	}
}

// appendKey and appendIndex extend path in place: siblings overwrite each
// other's bytes beyond len(path), which is safe because a path is only
// used during its own call.
func appendKey(path []byte, key string) []byte {
	return append(append(path, '.'), key...)
}

func appendIndex(path []byte, i int) []byte {
	return append(strconv.AppendInt(append(path, '['), int64(i), 10), ']')
}
