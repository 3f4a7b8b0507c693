package policy

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// largePolicySource writes n rules shaped like a big real policy: most
// rules name one of many tools (a few rules per tool, different effects,
// actions and conditions), and one rule in ten names no tool (an action,
// effect, agent or intent rule that every tool must still try, in file
// order). At 10,000 rules the file is about 700 KiB.
func largePolicySource(n int) []byte {
	var src strings.Builder
	src.WriteString("version: large\nrules:\n")
	effects := []string{"read", "write", "delete", "notify"}
	for i := range n {
		tool := i / 3 // three rules per tool
		switch i % 10 {
		case 0:
			fmt.Fprintf(&src, "  - {id: any_%d, action: act_%d, decision: DENY, reason: no act_%d}\n", i, i%97, i%97)
		case 5:
			fmt.Fprintf(&src, "  - {id: any_%d, effect: %s, agent: {role: r%d}, decision: ASK}\n", i, effects[i%4], i%13)
		case 3, 7:
			fmt.Fprintf(&src, "  - {id: t_%d, tool: \"svc:%d\", effect: %s, when: {tier: {\"==\": gold}}, decision: ALLOW}\n", i, tool, effects[i%4])
		default:
			fmt.Fprintf(&src, "  - {id: t_%d, tool: \"svc:%d\", action: a%d, effect: %s, decision: ALLOW}\n", i, tool, i%5, effects[i%4])
		}
	}
	return []byte(src.String())
}

// BenchmarkPolicyLoadLarge measures loading a large policy and the heap the
// loaded Policy keeps (retained-MiB, after a GC). Compilation must stay
// linear in rules: tool-less rules are not copied into every tool's list.
func BenchmarkPolicyLoadLarge(b *testing.B) {
	for _, n := range []int{1000, 10_000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			data := largePolicySource(n)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse("large.yaml", data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(retainedMiB(b, data), "retained-MiB")
		})
	}
}

// retainedMiB is how much live heap one policy compiled from data holds.
func retainedMiB(b *testing.B, data []byte) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p, err := Parse("large.yaml", data)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(p)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
}
