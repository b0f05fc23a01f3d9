package netview

import (
	"slices"
	"strings"
	"testing"
)

func dropRoute(s *Snapshot, dst string) {
	s.Routes = slices.DeleteFunc(s.Routes, func(r Route) bool { return r.Dst.String() == dst })
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name string
		edit func(p *Pair)
		// failing maps each check that must fail to a word its finding
		// must contain; every other check must pass.
		failing map[string]string
	}{
		{"the lesson passes", nil, nil},
		{"the lesson passes dual-stack", dualStack, nil},
		{"IPv6 routes do not stand in for the node's IPv4 ones", func(p *Pair) {
			dualStack(p)
			p.Facts.Blocks = nil
			for _, dst := range []string{"0.0.0.0/0", "198.19.0.0/20", "192.168.44.64/28", "198.19.22.128/26", "198.19.21.0/26", "198.19.21.64/26"} {
				dropRoute(&p.Host, dst)
			}
		}, map[string]string{CheckNodeRoutes: "default", CheckBlackhole: "this node's block", CheckRemoteBlock: "another node's block", CheckGateway: "covering"}},
		{"the pod's /128 deleted", func(p *Pair) {
			dualStack(p)
			dropRoute(&p.Host, "fd00:19::2284/128")
		}, map[string]string{CheckLocalPods: "no route fd00:19::2284 dev cali"}},
		{"an IPv6 remote block missing", func(p *Pair) {
			dualStack(p)
			dropRoute(&p.Host, "fd00:19::2140/122")
		}, map[string]string{CheckRemoteBlock: "node2's block fd00:19::2140/122"}},
		{"a remote block's route deleted", func(p *Pair) { dropRoute(&p.Host, "198.19.21.64/26") }, map[string]string{CheckRemoteBlock: "node2's block 198.19.21.64/26"}},
		{"the blackhole deleted", func(p *Pair) { dropRoute(&p.Host, "198.19.22.128/26") }, map[string]string{CheckBlackhole: "198.19.22.128/26"}},
		{"the pod's /32 deleted", func(p *Pair) { dropRoute(&p.Host, "198.19.22.132/32") }, map[string]string{CheckLocalPods: "198.19.22.132"}},
		{"a remote block not from BIRD", func(p *Pair) {
			for i := range p.Host.Routes {
				if p.Host.Routes[i].Dst.String() == "198.19.21.0/26" {
					p.Host.Routes[i].Protocol = ProtoBoot
				}
			}
		}, map[string]string{CheckRemoteBlock: "not bird"}},
		{"the pod not running", func(p *Pair) { p.Facts.Pod.Phase = "Pending" }, map[string]string{CheckPod: "Pending"}},
		{"no default route in the pod", func(p *Pair) { dropRoute(&p.Pod, "0.0.0.0/0") }, map[string]string{CheckGateway: "default route"}},
		{"the node without a default route", func(p *Pair) { dropRoute(&p.Host, "0.0.0.0/0") }, map[string]string{CheckNodeRoutes: "default", CheckGateway: "covering"}},
		{"the host end's peer index wrong", func(p *Pair) {
			for i := range p.Host.Links {
				if p.Host.Links[i].Name == "caliea2aa288365" {
					p.Host.Links[i].ParentIndex = 7
				}
			}
		}, map[string]string{CheckVeth: "does not agree"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := variant(t, tt.edit)
			a := Analyze(p)
			got := Verify(p, &a)
			for _, c := range []string{CheckPod, CheckVeth, CheckGateway, CheckNodeRoutes, CheckLocalPods, CheckBlackhole, CheckRemoteBlock} {
				v, ok := got[c]
				if !ok {
					t.Fatalf("no verdict for %s", c)
				}
				word, want := tt.failing[c]
				switch {
				case !want && !v.OK():
					t.Errorf("%s failed: %v", c, v.Missing)
				case want && v.OK():
					t.Errorf("%s passed, want it to fail", c)
				case want && !strings.Contains(strings.Join(v.Missing, "; "), word):
					t.Errorf("%s: %v, want it to name %q", c, v.Missing, word)
				}
			}
		})
	}
}

func TestChecksFor(t *testing.T) {
	tests := []struct {
		tags []string
		want []string
	}{
		{nil, nil},
		{[]string{"route-remote-pod"}, nil},
		{[]string{"gateway", "route-pod-default", "route-pod-gateway"}, []string{CheckGateway}},
		{[]string{"route-local-block-blackhole", "route-local-pod", "pod-ip"}, []string{CheckBlackhole, CheckLocalPods, CheckPod}},
		{[]string{"route-remote-block", "veth-host", "netnsid"}, []string{CheckRemoteBlock, CheckVeth}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.tags, ","), func(t *testing.T) {
			if got := ChecksFor(tt.tags); !slices.Equal(got, tt.want) {
				t.Errorf("ChecksFor(%v) = %v, want %v", tt.tags, got, tt.want)
			}
		})
	}
}
