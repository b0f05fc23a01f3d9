package netview

import (
	"slices"
	"strings"
	"testing"
)

// A refresh says what changed since the pair it is compared with, once;
// a burst of reads keeps comparing with the pair from before it.
func TestRefreshNext(t *testing.T) {
	before := lessonRecording().Pair
	an := Analyze(&before)
	gone := ""
	for _, rc := range an.Routes {
		if rc.Side == SideHost && rc.Class == ClassLocalPod {
			gone = rc.Dst
			break
		}
	}
	if gone == "" {
		t.Fatal("the lesson's node has no pod /32")
	}
	// after: the pod gone, its /32 with it.
	after := before
	after.Host.Routes = slices.DeleteFunc(slices.Clone(before.Host.Routes), func(r Route) bool { return DstString(r.Dst) == gone })
	again := after

	var none *Refresh
	z := &Analyzer{}
	first := none.Next(z, &before, false)
	if first.Prev != nil || first.Changes.String() != "" || first.Gone != nil {
		t.Fatalf("the first refresh compares with something: prev %v, changes %q, gone %v", first.Prev != nil, first.Changes, first.Gone)
	}
	second := first.Next(z, &after, false)
	want := "route " + gone + " removed"
	tests := []struct {
		name     string
		r        *Refresh
		prev     *Pair
		changes  string
		goneAddr []string
	}{
		{"the change", second, &before, want, []string{gone}},
		{"the next read of a burst keeps it", second.Next(z, &again, true), &before, want, []string{gone}},
		{"a timed read compares with the last", second.Next(z, &again, false), &after, "", nil},
		{"back again", second.Next(z, &before, false), &after, "route " + gone + " added", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.r.Prev != tt.prev {
				t.Errorf("compared with the wrong pair")
			}
			if got := tt.r.Changes.String(); got != tt.changes {
				t.Errorf("changes %q, want %q", got, tt.changes)
			}
			if !slices.Equal(tt.r.Gone, tt.goneAddr) {
				t.Errorf("gone %v, want %v", tt.r.Gone, tt.goneAddr)
			}
		})
	}
}

// A lookup answers with the route's class from the same analysis.
func TestRefreshLookup(t *testing.T) {
	p := lessonRecording().Pair
	var none *Refresh
	r := none.Next(&Analyzer{}, &p, false)
	rt, rc, ok := r.Lookup(ma("198.19.21.70"))
	if !ok || rc == nil || rc.Class != ClassRemoteBlock {
		t.Fatalf("lookup of a remote pod: %v %v %v", rt, rc, ok)
	}
	if !strings.Contains(DstString(rt.Dst), "/") {
		t.Errorf("a block route's destination %q reads as a host", DstString(rt.Dst))
	}
}

// What changed reads routes before links, gone before come, four at most.
func TestChangesString(t *testing.T) {
	c := Changes{AddedRoutes: []RouteKey{{Dst: "a"}, {Dst: "b"}, {Dst: "c"}}, RemovedLinks: []string{"x", "y"}}
	if got, want := c.String(), "route a added, route b added, route c added, link x removed, and 1 more"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}
