package content

import (
	"slices"
	"strings"
	"testing"

	"podlab/netview"
)

// TestPackChecks runs the built-in pack's lab checks on the lesson's lab
// with one piece broken at a time: exactly the checks named fail, each
// saying the words given.
func TestPackChecks(t *testing.T) {
	drop := func(s *netview.Snapshot, dsts ...string) {
		s.Routes = slices.DeleteFunc(s.Routes, func(r netview.Route) bool { return slices.Contains(dsts, r.Dst.String()) })
	}
	tests := []struct {
		name    string
		pair    func(t *testing.T) *netview.Pair
		edit    func(p *netview.Pair)
		failing map[string]string
	}{
		{"the lesson passes", lessonPair, nil, nil},
		{"the lesson passes dual-stack", dualStackLab, nil, nil},
		{"IPv6 routes do not stand in for the node's IPv4 ones", dualStackLab, func(p *netview.Pair) {
			p.Facts.Blocks = nil
			drop(&p.Host, "0.0.0.0/0", "198.19.0.0/20", "192.168.44.64/28", "198.19.22.128/26", "198.19.21.0/26", "198.19.21.64/26")
		}, map[string]string{"node-routes": "default", "blackhole": "this node's block", "remote-blocks": "another node's block", "gateway": "covering"}},
		{"the pod's /128 deleted", dualStackLab, func(p *netview.Pair) { drop(&p.Host, "fd00:19::2284/128") },
			map[string]string{"local-pods": "no route fd00:19::2284 dev cali"}},
		{"an IPv6 remote block missing", dualStackLab, func(p *netview.Pair) { drop(&p.Host, "fd00:19::2140/122") },
			map[string]string{"remote-blocks": "node2's block fd00:19::2140/122"}},
		{"a remote block's route deleted", lessonPair, func(p *netview.Pair) { drop(&p.Host, "198.19.21.64/26") },
			map[string]string{"remote-blocks": "node2's block 198.19.21.64/26"}},
		{"the blackhole deleted", lessonPair, func(p *netview.Pair) { drop(&p.Host, "198.19.22.128/26") },
			map[string]string{"blackhole": "198.19.22.128/26"}},
		{"the pod's /32 deleted", lessonPair, func(p *netview.Pair) { drop(&p.Host, "198.19.22.132/32") },
			map[string]string{"local-pods": "198.19.22.132"}},
		{"a remote block not from BIRD", lessonPair, func(p *netview.Pair) {
			for i := range p.Host.Routes {
				if p.Host.Routes[i].Dst.String() == "198.19.21.0/26" {
					p.Host.Routes[i].Protocol = netview.ProtoBoot
				}
			}
		}, map[string]string{"remote-blocks": "not bird"}},
		{"the pod not running", lessonPair, func(p *netview.Pair) { p.Facts.Pod.Phase = "Pending" }, map[string]string{"pod": "Pending"}},
		{"no default route in the pod", lessonPair, func(p *netview.Pair) { drop(&p.Pod, "0.0.0.0/0") }, map[string]string{"gateway": "default route"}},
		{"the node without a default route", lessonPair, func(p *netview.Pair) { drop(&p.Host, "0.0.0.0/0") },
			map[string]string{"node-routes": "default", "gateway": "covering"}},
		{"the host end's peer index wrong", lessonPair, func(p *netview.Pair) {
			for i := range p.Host.Links {
				if p.Host.Links[i].Name == "caliea2aa288365" {
					p.Host.Links[i].ParentIndex = 7
				}
			}
		}, map[string]string{"veth": "does not agree"}},
	}
	pk, err := Builtin(BuiltinName)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.pair(t)
			if tt.edit != nil {
				tt.edit(p)
			}
			a := netview.Analyze(p)
			got := pk.runChecks(p, &a)
			for _, c := range pk.Checks {
				missing := got[c.Name]
				word, want := tt.failing[c.Name]
				switch {
				case !want && len(missing) > 0:
					t.Errorf("%s failed: %v", c.Name, missing)
				case want && len(missing) == 0:
					t.Errorf("%s passed, want it to fail", c.Name)
				case want && !strings.Contains(strings.Join(missing, "; "), word):
					t.Errorf("%s: %v, want it to name %q", c.Name, missing, word)
				}
			}
		})
	}
}

// dualStackLab is dualStackPair as BIRD and the facts have it: the remote
// IPv6 block learned over BGP, the pod's IPv6 address among the pods'.
func dualStackLab(t *testing.T) *netview.Pair {
	p := dualStackPair(t)
	for i := range p.Host.Routes {
		if p.Host.Routes[i].Dst.String() == "fd00:19::2140/122" {
			p.Host.Routes[i].Protocol = netview.ProtoBird
		}
	}
	for i := range p.Facts.Pods {
		if p.Facts.Pods[i].Name == p.Facts.Pod.Name {
			p.Facts.Pods[i].IP6 = p.Facts.Pod.IP6
		}
	}
	return p
}
