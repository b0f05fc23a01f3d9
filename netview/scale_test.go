package netview

import (
	"fmt"
	"maps"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// scalePair is the lesson's pair with the node grown to routes routes in
// its main table: the lesson's own, then other nodes' /26 blocks via the
// uplink's gateway as BIRD installs them.
func scalePair(t testing.TB, routes int) *Pair {
	t.Helper()
	p := loadLesson(t).Pair
	h := &p.Host
	gw := defaultRoute(h)
	if gw == nil {
		t.Fatal("the lesson's node has no default route")
	}
	for b := 0; len(h.Routes) < routes; b++ {
		h.Routes = append(h.Routes, Route{
			Family: 4, Table: TableMain, Type: "unicast",
			Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(64 + b/1024), byte(b / 4), byte(b % 4 * 64)}), 26),
			Gw:  gw.Gw, Dev: gw.Dev, DevIndex: gw.DevIndex, Scope: "universe", Protocol: ProtoBird,
		})
	}
	return &p
}

var scales = []int{1000, 20000}

func BenchmarkAnalyzeScale(b *testing.B) {
	for _, n := range scales {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			p := scalePair(b, n)
			b.ReportAllocs()
			for b.Loop() {
				Analyze(p)
			}
		})
	}
}

// BenchmarkRenderScale times the node's route view, the one that grows.
func BenchmarkRenderScale(b *testing.B) {
	for _, n := range scales {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			p := scalePair(b, n)
			a := Analyze(p)
			b.ReportAllocs()
			for b.Loop() {
				Render(SideHost, ViewRoute, &p.Host, &a)
			}
		})
	}
}

// A node's thousands of remote blocks behind one next hop share their
// words: an analysis holds one set of them (and one reason), not one
// each, whether it was worked out whole or by an Analyzer.
func TestRemoteBlockWordsShared(t *testing.T) {
	p := scalePair(t, 2000)
	var z Analyzer
	z.Analyze(p)
	q := clonePair(p)
	q.Host.Routes = q.Host.Routes[:len(q.Host.Routes)-1]
	for _, a := range []Analysis{Analyze(p), z.Analyze(q)} {
		reasons := map[*byte]string{}
		words := map[*RouteWords]bool{}
		blocks := 0
		for _, rc := range a.Routes {
			if rc.Class == ClassRemoteBlock {
				blocks++
				reasons[unsafe.StringData(rc.Reason)] = rc.Reason
				words[rc.RouteWords] = true
			}
		}
		if blocks < 1900 || len(reasons) > 4 || len(words) > 4 {
			t.Fatalf("%d remote blocks hold %d reasons and %d sets of words, want at most 4: %v", blocks, len(reasons), len(words), slices.Collect(maps.Values(reasons)))
		}
	}
}

// A node with routes of both families renders its ip route view from its
// analysis pairing route and class one by one, as an IPv4-only node's
// does: the IPv6 routes (every link's fe80::/64 at least) are passed
// over, not a reason to look all 20,000 classes up in a map built for it.
func TestRenderBothFamiliesPairsInOrder(t *testing.T) {
	alloc := func(p *Pair, view View) (uint64, []Line) {
		a := Analyze(p)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		lines := Render(SideHost, view, &p.Host, &a)
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc, lines
	}
	v4 := scalePair(t, 5000)
	both := scalePair(t, 5000)
	for _, dst := range []string{"fe80::/64", "fd00:198::/64"} {
		both.Host.Routes = append(both.Host.Routes, Route{Family: 6, Table: TableMain, Type: "unicast",
			Dst: netip.MustParsePrefix(dst), Dev: "eth0", DevIndex: 2, Scope: "universe", Protocol: ProtoKernel, Metric: 256})
	}
	base, want := alloc(v4, ViewRoute)
	got, lines := alloc(both, ViewRoute)
	if Plain(lines) != Plain(want) || tagged(lines) != tagged(want) {
		t.Fatal("the IPv4 view changed with IPv6 routes beside it")
	}
	if got > base+base/10 {
		t.Errorf("the IPv4 view of a node with IPv6 routes allocates %d bytes, the same node without them %d", got, base)
	}
	if _, l6 := alloc(both, ViewRoute6); !strings.Contains(Plain(l6), "fd00:198::/64 dev eth0 proto kernel") {
		t.Errorf("the IPv6 view lost its routes:\n%s", Plain(l6))
	}
}
