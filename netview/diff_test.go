package netview

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// changedRoutesBySets is what changedRoutes must answer, the plain way.
func changedRoutesBySets(a, b []RouteKey) (removed, added []RouteKey) {
	key := func(rc RouteKey) string { return fmt.Sprint(rc.Host, " ", rc.Dst) }
	has := func(list []RouteKey) map[string]bool {
		m := map[string]bool{}
		for _, rc := range list {
			m[key(rc)] = true
		}
		return m
	}
	inA, inB := has(a), has(b)
	for _, rc := range a {
		if !inB[key(rc)] {
			removed = append(removed, rc)
		}
	}
	for _, rc := range b {
		if !inA[key(rc)] {
			added = append(added, rc)
		}
	}
	return removed, added
}

func TestChangedRoutes(t *testing.T) {
	rc := func(spec string) []RouteKey {
		var out []RouteKey
		for i := 0; i < len(spec); i++ {
			out = append(out, RouteKey{Host: spec[i] < 'a', Dst: string(spec[i] | 0x20)})
		}
		return out
	}
	cases := []struct{ name, a, b string }{
		{"same", "ABCD", "ABCD"},
		{"both empty", "", ""},
		{"from nothing", "", "ABC"},
		{"to nothing", "ABC", ""},
		{"one added in the middle", "ABDE", "ABCDE"},
		{"one removed at the head", "ABCD", "BCD"},
		{"one removed at the tail", "ABCD", "ABC"},
		{"one replaced", "ABCD", "ABXD"},
		{"moved, not changed", "ABCD", "ADBC"},
		{"a duplicate goes, its twin stays", "ABBC", "ABC"},
		{"a duplicate's twin is elsewhere", "AXBCX", "ABCX"},
		{"same destination, other side", "aB", "AB"},
		{"reversed", "ABCDE", "EDCBA"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := rc(c.a), rc(c.b)
			gr, ga := changedRoutes(a, b)
			wr, wa := changedRoutesBySets(a, b)
			if !slices.Equal(keyStrings(gr), keyStrings(wr)) || !slices.Equal(keyStrings(ga), keyStrings(wa)) {
				t.Errorf("removed %v added %v; want removed %v added %v", gr, ga, wr, wa)
			}
		})
	}
	t.Run("random edits", func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for range 2000 {
			a := rc(randomSpec(r, r.IntN(12)))
			b := randomEdits(r, a, func() RouteKey { return rc(randomSpec(r, 1))[0] })
			gr, ga := changedRoutes(a, b)
			wr, wa := changedRoutesBySets(a, b)
			if !slices.Equal(keyStrings(gr), keyStrings(wr)) || !slices.Equal(keyStrings(ga), keyStrings(wa)) {
				t.Fatalf("%v -> %v: removed %v added %v; want removed %v added %v", a, b, gr, ga, wr, wa)
			}
		}
	})
}

// randomEdits is a copy of list with up to three things inserted,
// deleted or replaced (one makes a new element) at random places.
func randomEdits[T any](r *rand.Rand, list []T, one func() T) []T {
	out := slices.Clone(list)
	for range r.IntN(4) {
		switch i := r.IntN(len(out) + 1); r.IntN(3) {
		case 0:
			out = slices.Insert(out, i, one())
		case 1:
			if i < len(out) {
				out = slices.Delete(out, i, i+1)
			}
		case 2:
			if i < len(out) {
				out[i] = one()
			}
		}
	}
	return out
}

func randomSpec(r *rand.Rand, n int) string {
	const letters = "ABCDEFGHab"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[r.IntN(len(letters))]
	}
	return string(b)
}

func keyStrings(list []RouteKey) []string {
	out := make([]string, 0, len(list))
	for _, rc := range list {
		out = append(out, fmt.Sprint(rc.Host, " ", rc.Dst))
	}
	return out
}

// diffLinesBySets is what diffLines must answer, the plain way.
func diffLinesBySets(old, cur []Line) (added []bool, removed []string) {
	before, now := map[string]bool{}, map[string]bool{}
	for _, l := range old {
		before[l.String()] = true
	}
	for _, l := range cur {
		now[l.String()] = true
	}
	added = make([]bool, len(cur))
	for i, l := range cur {
		added[i] = !before[l.String()]
	}
	for _, l := range old {
		if !now[l.String()] {
			removed = append(removed, l.String())
		}
	}
	return added, removed
}

func TestDiffLines(t *testing.T) {
	// Each letter is a line; a line's text may come in spans cut
	// differently, which must not matter.
	lines := func(spec string) []Line {
		var out []Line
		for i := 0; i < len(spec); i++ {
			c := string(spec[i] | 0x20)
			if spec[i] < 'a' {
				out = append(out, Line{Spans: []Span{{Text: c + c}}})
			} else {
				out = append(out, Line{Spans: []Span{{Text: c}, {Text: c, Tag: TagGateway}}})
			}
		}
		return out
	}
	check := func(t *testing.T, old, cur []Line) {
		t.Helper()
		ga, gr := DiffLines(old, cur)
		wa, wr := diffLinesBySets(old, cur)
		if ga == nil {
			ga = make([]bool, len(cur))
		}
		if !slices.Equal(ga, wa) || !slices.Equal(gr, wr) {
			t.Fatalf("%v -> %v: added %v removed %q; want added %v removed %q", old, cur, ga, gr, wa, wr)
		}
	}
	cases := []struct{ name, old, cur string }{
		{"same", "ABCD", "ABCD"},
		{"same text, other spans", "ABCD", "AbCd"},
		{"both empty", "", ""},
		{"from nothing", "", "ABC"},
		{"to nothing", "ABC", ""},
		{"one added in the middle", "ABDE", "ABCDE"},
		{"one removed at the head", "ABCD", "BCD"},
		{"one replaced", "ABCD", "ABXD"},
		{"moved", "ABCD", "ADBC"},
		{"a duplicate goes", "ABBC", "ABC"},
		{"duplicates come", "ABC", "ABXXC"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { check(t, lines(c.old), lines(c.cur)) })
	}
	t.Run("random edits", func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		for range 2000 {
			old := lines(randomSpec(r, r.IntN(12)))
			cur := randomEdits(r, old, func() Line { return lines(randomSpec(r, 1))[0] })
			check(t, old, cur)
		}
	})
}

// diffRoutes answers as diffLines does on the views' drawn lines, whether
// a line's route is the same or only reads the same.
func TestDiffRoutes(t *testing.T) {
	// Each letter is a route; an upper-case one names its device, a
	// lower-case one only its index, which the snapshot's links name.
	snap := func(spec string) *Snapshot {
		s := &Snapshot{Links: []Link{{Index: 2, Name: "eth0"}}}
		for i := 0; i < len(spec); i++ {
			r := Route{Family: 4, Table: TableMain, Type: "unicast", Scope: "universe", Protocol: ProtoBird,
				Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, spec[i] | 0x20, 0}), 24), DevIndex: 2}
			if spec[i] < 'a' {
				r.Dev = "eth0"
			}
			s.Routes = append(s.Routes, r)
		}
		return s
	}
	r := rand.New(rand.NewPCG(5, 6))
	for round := range 2000 {
		old := NewRouteView(SideHost, snap(randomSpec(r, r.IntN(12))), nil)
		cur := NewRouteView(SideHost, snap(randomSpec(r, r.IntN(12))), nil)
		lines := func(v *RouteView) []Line {
			out := make([]Line, v.Len())
			for i := range out {
				out[i] = v.Line(i)
			}
			return out
		}
		ga, gr := DiffRoutes(old, cur)
		wa, wr := diffLinesBySets(lines(old), lines(cur))
		if ga == nil {
			ga = make([]bool, cur.Len())
		}
		if !slices.Equal(ga, wa) || !slices.Equal(gr, wr) {
			t.Fatalf("round %d: %v -> %v: added %v removed %q; want added %v removed %q", round, lines(old), lines(cur), ga, gr, wa, wr)
		}
	}
}
