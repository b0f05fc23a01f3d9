package lab

import (
	"context"
	"testing"

	"podlab/netview"
)

// The built-in recording must show every idea of the lesson, since it is
// what a student without root or a cluster sees.
func TestBuiltinShowsTheLesson(t *testing.T) {
	r, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	a := netview.Analyze(p)
	if !a.Veth.Agree || a.Veth.HostIf != "caliea2aa288365" || a.Veth.PodPeerIndex != a.Veth.HostIndex {
		t.Errorf("veth pair = %+v, want eth0 paired with caliea2aa288365", a.Veth)
	}
	if got := p.Facts.Pod.Name; got != "customer-574bd6cc75-2blnv" {
		t.Errorf("pod = %q, want the lesson's customer pod", got)
	}
	if !a.Gateway.DefaultRoute || !a.Gateway.LinkRoute || !a.Gateway.HostProxyARP {
		t.Errorf("gateway = %+v, want default and link routes and proxy_arp", a.Gateway)
	}
	count := map[netview.Class]int{}
	for _, rc := range a.Routes {
		count[rc.Class]++
	}
	want := map[netview.Class]int{
		netview.ClassPodDefault:          1,
		netview.ClassPodGateway:          1,
		netview.ClassLocalPod:            5,
		netview.ClassRemoteBlock:         2,
		netview.ClassLocalBlockBlackhole: 1,
		netview.ClassDefault:             1,
	}
	for c, n := range want {
		if count[c] != n {
			t.Errorf("%d %s routes, want %d (all: %v)", count[c], c, n, count)
		}
	}
}
