package replay

import (
	"context"
	"strings"
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

// The built-in recording is of the sandbox, whose node1 has a veth for
// an uplink (eth0@if4 … link-netnsid 0): its description says so, that a
// student does not take the node for a pod.
func TestBuiltinSaysTheUplinkIsAVeth(t *testing.T) {
	r, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if up, ok := netview.HostUplink(p); !ok || !up.Veth || up.Name() != "eth0@if4" {
		t.Fatalf("node1's uplink = %+v, %v; want the veth eth0@if4", up, ok)
	}
	if d := r.Describe(); !strings.Contains(d, "a node's eth0 is a veth into the fabric namespace, where a real node has its NIC") {
		t.Errorf("the built-in recording's description does not say what its eth0 is: %q", d)
	}
}
