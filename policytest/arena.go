package policytest

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// nodeArena holds the nodes of the trees parseFastYAML builds, and their
// Content slices, in blocks that Reset recycles once the trees are no longer
// needed. Scenarios keep values, never nodes, so a worker resets its arena
// after decoding each piece and parsing allocates almost nothing.
type nodeArena struct {
	nodes slab[yaml.Node]
	ptrs  slab[*yaml.Node]

	// tags caches yaml.v3's tag resolution, which allocates, for the plain
	// scalars that recur in every scenario (keys, effects, decisions).
	tags map[string]string
}

// maxTags bounds the tag cache.
const maxTags = 4096

// tag returns the tag yaml.v3 gives the plain scalar n.
func (a *nodeArena) tag(n *yaml.Node) string {
	if t, ok := a.tags[n.Value]; ok {
		return t
	}
	t := n.ShortTag()
	if a.tags == nil {
		a.tags = make(map[string]string)
	}
	if len(a.tags) < maxTags {
		a.tags[strings.Clone(n.Value)] = t
	}
	return t
}

func (a *nodeArena) alloc() *yaml.Node { return &a.nodes.take(1)[0] }

// children returns a copy of src.
func (a *nodeArena) children(src []*yaml.Node) []*yaml.Node {
	if len(src) == 0 {
		return nil
	}
	out := a.ptrs.take(len(src))
	copy(out, src)
	return out
}

// Reset zeroes everything handed out, for reuse.
func (a *nodeArena) Reset() {
	a.nodes.reset()
	a.ptrs.reset()
}

// slab hands out runs of T from blocks that reset recycles.
type slab[T any] struct {
	blocks [][]T
	block  int // current block
	next   int // first free element in it
}

const slabBlock = 4096

// take returns n contiguous zero elements (capacity n, so appending to them
// never reaches a neighbour).
func (s *slab[T]) take(n int) []T {
	for {
		if s.block == len(s.blocks) {
			s.blocks = append(s.blocks, make([]T, max(slabBlock, n)))
		}
		if b := s.blocks[s.block]; s.next+n <= len(b) {
			out := b[s.next : s.next+n : s.next+n]
			s.next += n
			return out
		}
		s.block, s.next = s.block+1, 0
	}
}

func (s *slab[T]) reset() {
	for i := range s.blocks[:min(s.block+1, len(s.blocks))] {
		clear(s.blocks[i])
	}
	s.block, s.next = 0, 0
}
