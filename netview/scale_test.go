package netview

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
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
