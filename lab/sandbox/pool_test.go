package sandbox

import (
	"strings"
	"testing"
)

// A state with the external pool is accepted, its pods' namespaces among
// those the sandbox makes; an external block the sandbox does not give
// that node, or one in a state without the pool, is refused.
func TestParseStateExternalPool(t *testing.T) {
	o := fuzzOptions
	o.ExternalPool = true
	tests := []struct {
		name string
		edit func(s *State)
		want string
	}{
		{"as recorded", func(s *State) {}, ""},
		{"a block without the pool", func(s *State) { s.ExternalPool = false }, "external block"},
		{"another node's block", func(s *State) { s.Nodes[1].ExtBlock = s.Nodes[2].ExtBlock }, `node "node1" has an external block 198.19.24.16/29`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fullState(o)
			tt.edit(s)
			_, err := parseState(marshalState(t, s), o)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	for _, bad := range []Options{
		{ExternalPool: true, Mode: "vxlan"},
		{ExternalPool: true, StaticRoutes: true},
		{ExternalPool: true, IPv6: true},
	} {
		if _, err := bad.checked(); err == nil {
			t.Errorf("%+v accepted: the sandbox builds the external pool in bgp mode with BIRD, IPv4 only", bad)
		}
	}
}

// The external pool's pods are on each node that runs pods, each with an
// address of its node's /29; with --control-plane, control has neither.
func TestExternalPods(t *testing.T) {
	for _, cp := range []bool{false, true} {
		b := newBuilder(Options{Prefix: "pt", ExternalPool: true, ControlPlane: cp}, "")
		nodes := map[string]bool{}
		for _, p := range b.pods() {
			if p.namespace != externalNamespace {
				continue
			}
			nodes[p.node] = true
			if blk := b.nodes[p.node].ExtBlock; !blk.Contains(p.ip) {
				t.Errorf("control-plane %v: %s/%s has %s, outside its node's block %s", cp, p.namespace, p.name, p.ip, blk)
			}
			if got := podLabels(p.namespace, p.name)["app"]; got != "nginx" {
				t.Errorf("%s: app=%q, want nginx", p.name, got)
			}
		}
		if want := !cp; nodes[controlNode] != want || b.nodes[controlNode].ExtBlock.IsValid() != want {
			t.Errorf("control-plane %v: control runs an external pod %v, has a /29 %v; want %v", cp, nodes[controlNode], b.nodes[controlNode].ExtBlock, want)
		}
		if !nodes["node1"] || !nodes["node2"] {
			t.Errorf("control-plane %v: external pods on %v, want node1 and node2", cp, nodes)
		}
	}
}
