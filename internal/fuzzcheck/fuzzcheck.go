// Package fuzzcheck holds what the fuzz targets of podlab's parsers of
// outside input assert of what they parse. (It sits apart from
// internal/hostile, which netview's own tests import.)
package fuzzcheck

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"podlab/internal/hostile"
	"podlab/netview"
)

// Snapshot fails t unless a parsed snapshot holds no control
// character, renders every view of both sides without one, and encodes
// to JSON that decodes and encodes again to the same bytes: what a fuzz
// target of a parser of outside input asserts.
func Snapshot(t testing.TB, s *netview.Snapshot) {
	t.Helper()
	if dirty := hostile.Unclean(s); len(dirty) > 0 {
		t.Fatalf("control characters in %v", dirty)
	}
	p := &netview.Pair{Pod: *s, Host: *s}
	a := netview.Analyze(p)
	for _, side := range []netview.Side{netview.SidePod, netview.SideHost} {
		for _, v := range []netview.View{netview.ViewAddr, netview.ViewAddr6, netview.ViewLink, netview.ViewRoute, netview.ViewRoute6, netview.ViewNeigh} {
			for _, l := range netview.Render(side, v, s, &a) {
				if err := hostile.Check(l.String(), false); err != nil || strings.Contains(l.String(), "\n") {
					t.Fatalf("%s %s renders %q: %v", side, v, l.String(), err)
				}
			}
		}
	}
	one, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back netview.Snapshot
	if err := json.Unmarshal(one, &back); err != nil {
		t.Fatalf("the snapshot's JSON does not decode: %v", err)
	}
	two, err := json.Marshal(&back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(one, two) {
		t.Fatalf("re-encoding changed the snapshot:\n%s\n%s", one, two)
	}
}
