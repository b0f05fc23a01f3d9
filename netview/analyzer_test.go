package netview

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"testing"
)

// An Analyzer gives what Analyze gives, whatever changed since its last
// call: each step below changes the pair of the step before it.
func TestAnalyzerEqualsAnalyze(t *testing.T) {
	base := loadLesson(t).Pair
	edit := func(p *Pair, f func(p *Pair)) *Pair {
		q := clonePair(p)
		f(q)
		return q
	}
	remote := Route{Family: 4, Table: TableMain, Type: "unicast", Dst: netip.MustParsePrefix("198.19.21.128/26"),
		Gw: netip.MustParseAddr("198.19.0.3"), Dev: "eth0", DevIndex: 2, Scope: "universe", Protocol: ProtoBird}
	// reused says whether the memo must have served some routes (true)
	// or none (false: what the classes hang on changed).
	steps := []struct {
		name   string
		f      func(p *Pair)
		reused bool
	}{
		{"unchanged", func(p *Pair) {}, true},
		{"a remote block learned", func(p *Pair) { p.Host.Routes = append(p.Host.Routes, remote) }, true},
		{"its next hop moves", func(p *Pair) { p.Host.Routes[len(p.Host.Routes)-1].Gw = netip.MustParseAddr("198.19.0.1") }, true},
		{"it gets a flag", func(p *Pair) { p.Host.Routes[len(p.Host.Routes)-1].Flags = []string{"onlink"} }, true},
		{"it goes", func(p *Pair) { p.Host.Routes = p.Host.Routes[:len(p.Host.Routes)-1] }, true},
		{"a multipath route learned", func(p *Pair) {
			p.Host.Routes = append(p.Host.Routes, Route{Family: 4, Table: TableMain, Type: "unicast", Dst: netip.MustParsePrefix("198.19.21.128/26"),
				Scope: "universe", Protocol: ProtoBird, NextHops: []NextHop{
					{Gw: netip.MustParseAddr("198.19.0.1"), Dev: "eth0", DevIndex: 2, Weight: 1},
					{Gw: netip.MustParseAddr("198.19.0.3"), Dev: "eth0", DevIndex: 2, Weight: 1}}})
		}, true},
		{"a next hop of it moves", func(p *Pair) {
			r := &p.Host.Routes[len(p.Host.Routes)-1]
			r.NextHops = slices.Clone(r.NextHops)
			r.NextHops[1].Gw = netip.MustParseAddr("198.19.0.2")
		}, true},
		{"an IPv6 block learned", func(p *Pair) {
			p.Host.Routes = append(p.Host.Routes, Route{Family: 6, Table: TableMain, Type: "unicast", Dst: netip.MustParsePrefix("fd00:19::2140/122"),
				Gw: netip.MustParseAddr("fe80::3"), Dev: "eth0", DevIndex: 2, Scope: "universe", Protocol: ProtoBird, Metric: 1024})
		}, true},
		{"the cluster becomes dual-stack", func(p *Pair) {
			p.Pod.Routes = slices.Clone(p.Pod.Routes)
			p.Pod.Addrs = slices.Clone(p.Pod.Addrs)
			p.Pod.Neighs = slices.Clone(p.Pod.Neighs)
			p.Host.Addrs = slices.Clone(p.Host.Addrs)
			p.Facts.Pods = slices.Clone(p.Facts.Pods)
			p.Facts.Nodes = slices.Clone(p.Facts.Nodes)
			dualStack(p)
		}, false},
		{"a block changes hands", func(p *Pair) { p.Facts.Blocks[0].Node = "node9" }, false},
		{"a node is renamed", func(p *Pair) { p.Facts.Nodes[0].Name = "control-0" }, false},
		{"the pod's name changes", func(p *Pair) { p.Facts.Pod.Name = "customer-x" }, false},
		{"a local pod's route goes", func(p *Pair) {
			p.Host.Routes = slices.DeleteFunc(p.Host.Routes, func(r Route) bool { return r.Dst == netip.MustParsePrefix("198.19.22.130/32") })
		}, true},
		{"the host end is renamed", func(p *Pair) {
			for i := range p.Host.Links {
				if p.Host.Links[i].Name == "caliea2aa288365" {
					p.Host.Links[i].Name = "calixxxxxxxxxxx"
				}
			}
			for i := range p.Host.Routes {
				if p.Host.Routes[i].Dev == "caliea2aa288365" {
					p.Host.Routes[i].Dev = "calixxxxxxxxxxx"
				}
			}
		}, false},
		{"the default route's gateway moves", func(p *Pair) {
			if d := defaultRoute(&p.Host); d != nil {
				d.Gw = netip.MustParseAddr("198.19.0.1")
			}
		}, false},
		{"the node's block is no longer blackholed", func(p *Pair) {
			p.Host.Routes = slices.DeleteFunc(p.Host.Routes, func(r Route) bool { return r.Type == "blackhole" })
		}, true},
		{"everything at once is the lesson again", func(p *Pair) { *p = *clonePair(&base) }, false},
	}
	var z Analyzer
	p := clonePair(&base)
	if got, want := z.Analyze(p), Analyze(p); !reflect.DeepEqual(got, want) {
		t.Fatalf("first analysis differs from Analyze")
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			p = edit(p, st.f)
			hits := z.memo.hits
			got, want := z.Analyze(p), Analyze(p)
			if reused := z.memo.hits > hits; reused != st.reused {
				t.Errorf("the memo served %d routes; want some: %v", z.memo.hits-hits, st.reused)
			}
			if !reflect.DeepEqual(got, want) {
				for i := range max(len(got.Routes), len(want.Routes)) {
					if i >= len(got.Routes) || i >= len(want.Routes) || !reflect.DeepEqual(got.Routes[i], want.Routes[i]) {
						t.Fatalf("route %d differs:\n got  %+v\n want %+v", i, at(got.Routes, i), at(want.Routes, i))
					}
				}
				t.Fatalf("analysis differs:\n got  %+v\n want %+v", got, want)
			}
		})
	}
}

func at(rs []RouteClass, i int) any {
	if i < len(rs) {
		return rs[i]
	}
	return "(none)"
}

// clonePair copies a pair deeply enough that editing the copy's routes,
// links and facts leaves the original alone.
func clonePair(p *Pair) *Pair {
	q := *p
	for _, s := range []*Snapshot{&q.Pod, &q.Host} {
		s.Routes = slices.Clone(s.Routes)
		s.Links = slices.Clone(s.Links)
	}
	q.Facts.Pods = slices.Clone(q.Facts.Pods)
	q.Facts.Nodes = slices.Clone(q.Facts.Nodes)
	q.Facts.Blocks = slices.Clone(q.Facts.Blocks)
	return &q
}

// The memo tells routes apart by every field of Route: a new field must
// join routeEqual, or two routes that differ in it would share a class
// and words.
func TestRouteEqualCoversEveryField(t *testing.T) {
	full := Route{Family: 4, Table: 254, Type: "unicast", Dst: netip.MustParsePrefix("10.0.0.0/8"),
		Gw: netip.MustParseAddr("10.0.0.1"), Dev: "eth0", DevIndex: 2, Scope: "link", Protocol: 12,
		Src: netip.MustParseAddr("10.0.0.2"), Metric: 5, Flags: []string{"onlink"},
		NextHops: []NextHop{{Gw: netip.MustParseAddr("10.0.0.3"), Dev: "eth1", DevIndex: 3, Weight: 2, Flags: []string{"onlink"}}}}
	v := reflect.ValueOf(full)
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		t.Run(name, func(t *testing.T) {
			other := full
			f := reflect.ValueOf(&other).Elem().Field(i)
			if f.IsZero() {
				t.Fatalf("the test's route leaves %s unset: set it", name)
			}
			f.SetZero()
			if routeEqual(&full, &other) {
				t.Errorf("routeEqual does not look at %s", name)
			}
		})
	}
	hop := full.NextHops[0]
	h := reflect.ValueOf(hop)
	for i := range h.NumField() {
		name := "NextHop." + h.Type().Field(i).Name
		t.Run(name, func(t *testing.T) {
			other := full
			other.NextHops = []NextHop{hop}
			f := reflect.ValueOf(&other.NextHops[0]).Elem().Field(i)
			if f.IsZero() {
				t.Fatalf("the test's next hop leaves %s unset: set it", name)
			}
			f.SetZero()
			if routeEqual(&full, &other) {
				t.Errorf("routeEqual does not look at %s", name)
			}
		})
	}
}

// BenchmarkAnalyzerScale is a live node's analysis: one route more or
// less than the last time.
func BenchmarkAnalyzerScale(b *testing.B) {
	for _, n := range scales {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			p := scalePair(b, n)
			q := clonePair(p)
			q.Host.Routes = q.Host.Routes[:len(q.Host.Routes)-1]
			pairs := []*Pair{p, q}
			var z Analyzer
			z.Analyze(q)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				z.Analyze(pairs[i%2])
			}
		})
	}
}

// Routes coming and going anywhere, a few or many at a time, never make
// the Analyzer answer other than Analyze; and it keeps its place.
func TestAnalyzerRandomEdits(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	p := scalePair(t, 300)
	var z Analyzer
	z.Analyze(p)
	for round := range 200 {
		q := clonePair(p)
		rs := editScaleRoutes(t, r, q.Host.Routes, false)
		q.Host.Routes = rs
		hits := z.memo.hits
		got, want := z.Analyze(q), Analyze(q)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: the Analyzer's analysis differs from Analyze's", round)
		}
		if z.memo.hits-hits < len(want.Routes)/2 {
			t.Fatalf("round %d: the memo served %d of %d routes: it lost its place", round, z.memo.hits-hits, len(want.Routes))
		}
		p = q
	}
}

// A RouteView answers what its drawn lines would, without drawing them:
// their text, their tags, and whether two lines read the same, on both
// sides, through random edits that bring the gateway into routes.
func TestRouteViewAnswersAsItsLines(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	p := scalePair(t, 300)
	tags := []Tag{TagNone, TagVethPod, TagVethHost, TagGateway, TagPodIP, TagIfName}
	for _, c := range []Class{ClassPodDefault, ClassPodGateway, ClassLocalPod, ClassLocalBlockBlackhole,
		ClassRemoteBlock, ClassRemotePod, ClassTunnelEndpoint, ClassDefault, ClassConnected, ClassOther} {
		tags = append(tags, RouteTag(c))
	}
	var z Analyzer
	prev := NewRouteView(SideHost, &p.Host, nil)
	for round := range 60 {
		q := clonePair(p)
		q.Host.Routes = editScaleRoutes(t, r, q.Host.Routes, true)
		a := z.Analyze(q)
		for _, side := range []Side{SidePod, SideHost} {
			s := &q.Host
			if side == SidePod {
				s = &q.Pod
			}
			rv := NewRouteView(side, s, &a)
			lines := Render(side, ViewRoute, s, &a)
			if rv.Len() != len(lines) {
				t.Fatalf("round %d, %s: %d lines, Render draws %d", round, side, rv.Len(), len(lines))
			}
			for i, l := range lines {
				if !reflect.DeepEqual(rv.Line(i), l) {
					t.Fatalf("round %d, %s, line %d: %#v, Render draws %#v", round, side, i, rv.Line(i), l)
				}
				if got := string(rv.AppendText(nil, i)); got != l.String() {
					t.Fatalf("round %d, %s, line %d: text %q, want %q", round, side, i, got, l.String())
				}
				for _, tag := range tags {
					if rv.HasTag(i, tag) != l.HasTag(tag) {
						t.Fatalf("round %d, %s, line %d %q: HasTag(%q) = %v", round, side, i, l.String(), tag, !l.HasTag(tag))
					}
				}
			}
		}
		// A next hop's line does not name its route: its line's key does.
		cur := NewRouteView(SideHost, &q.Host, nil)
		texts := map[string]bool{}
		for i := range cur.Len() {
			texts[cur.Line(i).Key+"|"+string(cur.AppendText(nil, i))] = true
		}
		for i := range prev.Len() {
			if want := texts[prev.Line(i).Key+"|"+string(prev.AppendText(nil, i))]; cur.Has(prev, i) != want {
				t.Fatalf("round %d: Has(line %d %q) = %v, the texts say %v", round, i, prev.AppendText(nil, i), !want, want)
			}
		}
		for range 200 {
			i, j := r.IntN(prev.Len()), r.IntN(cur.Len())
			if r.IntN(2) == 0 && j < prev.Len() {
				i = j // mostly equal routes
			}
			want := string(prev.AppendText(nil, i)) == string(cur.AppendText(nil, j))
			if prev.SameLine(i, cur, j) != want {
				t.Fatalf("round %d: SameLine(%d, %d) = %v, the texts say %v", round, i, j, !want, want)
			}
		}
		p, prev = q, cur
	}
}

// editScaleRoutes makes up to 20 edits to a scale pair's routes past the
// lesson's own (which stay: with the default route gone, say, a memo
// rightly starts over): a route gone, one more (IPv4, IPv6 or multipath),
// one's metric changed, a multipath route's weight changed, and with gws
// one's next hop made the pod gateway's.
func editScaleRoutes(t *testing.T, r *rand.Rand, rs []Route, gws bool) []Route {
	t.Helper()
	own := len(loadLesson(t).Pair.Host.Routes)
	kinds := []int{0, 1, 2, 4, 5, 6}
	if gws {
		kinds = append(kinds, 3)
	}
	for range r.IntN(21) {
		i := own + r.IntN(len(rs)-own+1)
		switch kinds[r.IntN(len(kinds))] {
		case 0:
			if i < len(rs) {
				rs = slices.Delete(rs, i, i+1)
			}
		case 1:
			rs = slices.Insert(rs, i, Route{Family: 4, Table: TableMain, Type: "unicast",
				Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 200, byte(r.IntN(256)), 0}), 24),
				Gw:  netip.MustParseAddr("198.19.0.3"), Dev: "eth0", Scope: "universe", Protocol: ProtoBird})
		case 2:
			if i < len(rs) {
				rs[i].Metric++
			}
		case 3:
			if i < len(rs) {
				rs[i].Gw = netip.MustParseAddr("169.254.1.1")
			}
		case 4:
			rs = slices.Insert(rs, i, Route{Family: 4, Table: TableMain, Type: "unicast",
				Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 201, byte(r.IntN(256)), 0}), 26), Scope: "universe", Protocol: ProtoBird,
				NextHops: []NextHop{
					{Gw: netip.MustParseAddr("198.19.0.1"), Dev: "eth0", DevIndex: 2, Weight: 1},
					{Gw: netip.MustParseAddr("198.19.0.3"), Dev: "eth0", DevIndex: 2, Weight: 1 + r.IntN(2)},
				}})
		case 5:
			gw := []string{"fd00:198::3", "fe80::3"}[r.IntN(2)]
			rs = slices.Insert(rs, i, Route{Family: 6, Table: TableMain, Type: "unicast",
				Dst: netip.PrefixFrom(netip.AddrFrom16([16]byte{0xfd, 0, 0, 0x19, 14: byte(r.IntN(256)), 15: 0x40}), 122),
				Gw:  netip.MustParseAddr(gw), Dev: "eth0", Scope: "universe", Protocol: ProtoBird, Metric: 1024})
		case 6:
			if i < len(rs) && len(rs[i].NextHops) > 0 {
				hops := slices.Clone(rs[i].NextHops)
				hops[0].Weight++
				rs[i].NextHops = hops
			}
		}
	}
	return rs
}

// MayHaveRemotePods is false only where the analysis finds no other
// node's pod that the facts leave unnamed.
func TestMayHaveRemotePods(t *testing.T) {
	base := loadLesson(t).Pair
	borrowed := Route{Family: 4, Table: TableMain, Type: "unicast", Dst: netip.MustParsePrefix("198.19.21.200/32"),
		Gw: netip.MustParseAddr("198.19.0.3"), Dev: "eth0", Scope: "universe", Protocol: ProtoBird}
	cases := []struct {
		name string
		edit func(p *Pair)
		want bool
	}{
		{"the lesson's node", func(p *Pair) {}, false},
		{"another node's /32, its pod unnamed", func(p *Pair) { p.Host.Routes = append(p.Host.Routes, borrowed) }, true},
		{"the same, its pod named", func(p *Pair) {
			p.Host.Routes = append(p.Host.Routes, borrowed)
			p.Facts.Pods = append(p.Facts.Pods, PodFact{Namespace: "default", Name: "b", IP: borrowed.Dst.Addr()})
		}, false},
		{"through tunl0", func(p *Pair) {
			r := borrowed
			r.Gw, r.Dev = netip.Addr{}, "tunl0"
			p.Host.Routes = append(p.Host.Routes, r)
		}, true},
		{"a VXLAN tunnel endpoint", func(p *Pair) {
			r := borrowed
			r.Gw, r.Dev, r.Scope = netip.Addr{}, "vxlan.calico", "link"
			p.Host.Routes = append(p.Host.Routes, r)
		}, false},
		{"a /32 over two next hops", func(p *Pair) {
			r := borrowed
			r.Gw, r.Dev = netip.Addr{}, ""
			r.NextHops = []NextHop{{Gw: netip.MustParseAddr("198.19.0.3"), Dev: "eth0"}, {Gw: netip.MustParseAddr("198.19.0.1"), Dev: "eth0"}}
			p.Host.Routes = append(p.Host.Routes, r)
		}, true},
		{"an IPv6 /128 via a node", func(p *Pair) {
			p.Host.Routes = append(p.Host.Routes, Route{Family: 6, Table: TableMain, Type: "unicast", Dst: netip.MustParsePrefix("fd00:19::22a0/128"),
				Gw: netip.MustParseAddr("fe80::3"), Dev: "eth0", Scope: "universe", Protocol: ProtoBird, Metric: 1024})
		}, true},
		{"in another table", func(p *Pair) {
			r := borrowed
			r.Table = 100
			p.Host.Routes = append(p.Host.Routes, r)
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := clonePair(&base)
			c.edit(p)
			if got := MayHaveRemotePods(p); got != c.want {
				t.Errorf("MayHaveRemotePods = %v, want %v", got, c.want)
			}
			// Wherever the analysis finds an unnamed remote pod, it must
			// say true.
			for _, rc := range Analyze(p).Routes {
				if rc.Class == ClassRemotePod && rc.Pod == "" && !MayHaveRemotePods(p) {
					t.Errorf("the analysis finds %s, an unnamed remote pod, but MayHaveRemotePods is false", rc.Dst)
				}
			}
		})
	}
}
