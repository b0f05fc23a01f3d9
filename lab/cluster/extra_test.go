package cluster

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"podlab/internal/hostile"
	"podlab/internal/kubetest"
	"podlab/internal/netnstest"
	"podlab/kubeproxy"
	"podlab/lab/bird"
	"podlab/netview"
)

func lessonBird() netview.BirdProtocols {
	return netview.BirdProtocols{
		{Name: "Mesh_198_19_0_1", Proto: "BGP", Table: "---", State: "up", Since: "10:02:11", Info: "Established",
			Channels: []netview.BirdChannel{{Name: "ipv4", State: "UP", Table: "master4"}}},
		{Name: "kernel1", Proto: "Kernel", Table: "master4", State: "up", Since: "10:02:09"},
	}
}

func lessonNAT() *kubeproxy.Table {
	t := &kubeproxy.Table{Mode: kubeproxy.ModeIPTables, Name: "nat"}
	c := t.AddChain("KUBE-SERVICES", "-")
	c.Rules = append(c.Rules, kubeproxy.Rule{Target: "KUBE-SVC-OIQIZJVJK6E34BR4", Text: "-d 198.19.34.135/32 -p tcp -j KUBE-SVC-OIQIZJVJK6E34BR4"})
	return t
}

// TestCheckRemote: what a node's collect sends beyond the snapshots is
// held to the reader's own bounds, whatever the node's podlab did: past
// one, the part is dropped and said; a part collect has no flag for is
// not taken.
func TestCheckRemote(t *testing.T) {
	many := make(netview.BirdProtocols, bird.DefaultLimits.Protocols+1)
	wide := lessonBird()
	wide[0].Channels = make([]netview.BirdChannel, bird.DefaultLimits.Channels+1)
	big := &kubeproxy.Table{Mode: kubeproxy.ModeIPTables, Name: "nat", Chains: []kubeproxy.Chain{{Name: "KUBE-SERVICES", Rules: make([]kubeproxy.Rule, kubeproxy.DefaultLimits.Rules+1)}}}
	tests := []struct {
		name       string
		in         collectOutput
		bird, nat  bool
		unread     map[string]string
		unreadWant []string
	}{
		{"within the bounds", collectOutput{Bird: lessonBird(), NAT: lessonNAT()}, true, true, nil, nil},
		{"too many protocols", collectOutput{Bird: many, NAT: lessonNAT()}, false, true, nil,
			[]string{netview.PartBird, fmt.Sprintf("more than %d BIRD protocols", bird.DefaultLimits.Protocols)}},
		{"too many channels", collectOutput{Bird: wide}, false, false, nil,
			[]string{netview.PartBird, fmt.Sprintf("more than %d channels", bird.DefaultLimits.Channels)}},
		{"too many rules", collectOutput{NAT: big}, false, false, nil,
			[]string{netview.PartNAT, fmt.Sprintf("more than %d NAT rules", kubeproxy.DefaultLimits.Rules)}},
		{"parts collect has no flag for", collectOutput{Unread: map[string]string{netview.PartResources: "x", netview.PartHost1: "y", netview.PartNAT: "no iptables-save"}},
			false, false, map[string]string{netview.PartNAT: "no iptables-save"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			co := tt.in
			checkRemote(&co)
			if (co.Bird != nil) != tt.bird || (co.NAT != nil) != tt.nat {
				t.Errorf("kept bird %v, nat %v; want %v, %v", co.Bird != nil, co.NAT != nil, tt.bird, tt.nat)
			}
			if tt.unreadWant != nil {
				if why := co.Unread[tt.unreadWant[0]]; !strings.Contains(why, tt.unreadWant[1]) {
					t.Errorf("unread %s: %q, want %q", tt.unreadWant[0], why, tt.unreadWant[1])
				}
			} else if fmt.Sprint(co.Unread) != fmt.Sprint(tt.unread) {
				t.Errorf("unread %v, want %v", co.Unread, tt.unread)
			}
		})
	}
}

// TestRemoteParts: a node's part that collect did not send is said in
// one clean line that names the node and what to change there.
func TestRemoteParts(t *testing.T) {
	l := &Lab{facts: netview.Facts{Node: "node1"}, wants: netview.Wants{Bird: true, NAT: true}}
	tests := []struct {
		name      string
		bird, nat bool // sent
		unread    map[string]string
		note      string
		want      map[string]string
	}{
		{"read", true, true, nil, "", nil},
		{"bird's socket missing", false, true, map[string]string{netview.PartBird: "cannot reach bird at /var/run/calico/bird.ctl: no such socket\x1b[2J"}, "",
			map[string]string{netview.PartBird: "node1: cannot reach bird at /var/run/calico/bird.ctl: no such socket"}},
		{"older sudoers line", false, false, nil, "sudo: a password is required",
			map[string]string{netview.PartBird: "sudo on node1 does not let podlab collect --bird --nat run", netview.PartNAT: SudoersCollectArgs}},
		{"older podlab", false, false, nil, "Error: unknown flag: --bird",
			map[string]string{netview.PartBird: "podlab on node1 does not know collect --bird --nat", netview.PartNAT: "install this podlab there"}},
		{"no answer", false, false, nil, "",
			map[string]string{netview.PartBird: "podlab collect on node1 sent no answer for it", netview.PartNAT: "install this podlab there"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var bp netview.BirdProtocols
			var nat *kubeproxy.Table
			if tt.bird {
				bp = lessonBird()
			}
			if tt.nat {
				nat = lessonNAT()
			}
			e := l.remoteParts(bp, nat, tt.unread, tt.note)
			e.Sanitize()
			for part, want := range tt.want {
				if why := e.Unread[part]; !strings.Contains(why, want) || strings.Contains(why, "\n") || hostile.Check(why, false) != nil {
					t.Errorf("unread %s: %q, want one clean line with %q", part, why, want)
				}
			}
			if len(e.Unread) != len(tt.want) {
				t.Errorf("unread %v, want %d parts", e.Unread, len(tt.want))
			}
		})
	}
}

// TestWantOnNode: on the node as root (node1's namespace standing in),
// the node's parts are read here: the nat table of the host namespace
// given, BIRD at calico-node's fixed path only (this machine has none
// there: it is said, the refresh succeeds); the cluster's objects come
// from the API server and host1 is this machine's own namespace.
func TestWantOnNode(t *testing.T) {
	netnstest.RequireCommand(t, "iptables-save", "apt-get install iptables")
	st := lessonSandbox(t)
	s := kubetest.Start(t)
	registerSandbox(t, s, st)
	addBGPLesson(t, s)
	if _, err := os.Stat(BirdSocket); err == nil {
		t.Fatalf("%s exists on this machine: the test expects calico-node's socket absent", BirdSocket)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, _ := collectCustomer(ctx, t, st, Options{Kubeconfig: s.Kubeconfig, HostNetns: st.NodeNS("node1")}, OnNode)
	l.Want(netview.Wants{Host1: true, Bird: true, NAT: true, Resources: true})
	p, err := l.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e := p.Extra
	if e == nil {
		t.Fatal("no Extra")
	}
	if why := e.Unread[netview.PartBird]; e.Bird != nil || !strings.Contains(why, "cannot reach bird at "+BirdSocket) {
		t.Errorf("bird %v, unread %q", e.Bird, why)
	}
	if e.NAT == nil || e.NAT.Mode != kubeproxy.ModeIPTables {
		t.Errorf("nat %+v, unread %q", e.NAT, e.Unread[netview.PartNAT])
	}
	if e.Resources == nil || len(e.Resources.Pools) != 3 || len(e.Resources.Peers) != 3 || e.Unread[netview.PartResources] != "" {
		t.Errorf("resources %+v, unread %q", e.Resources, e.Unread[netview.PartResources])
	}
	if e.Host1 == nil || e.Host1Facts == nil || len(e.Host1Facts.Resources.Pools) != 3 || e.Unread[netview.PartHost1] != "" {
		t.Errorf("host1 %v, facts %+v, unread %q", e.Host1 != nil, e.Host1Facts, e.Unread[netview.PartHost1])
	}
	if u := hostile.Unclean(e); len(u) > 0 {
		t.Errorf("unclean: %q", u)
	}
	if d := l.CollectTimeout(); d != l.opts.sshTimeout()+4*l.opts.Timeout {
		t.Errorf("CollectTimeout %s does not count the parts wanted", d)
	}
}

// TestHost1OnTheNode: podlab on the pod's node does not show the node's
// table as host1's.
func TestHost1OnTheNode(t *testing.T) {
	for _, where := range []Where{OnNode, OnNodeNoRoot} {
		t.Run(string(where), func(t *testing.T) {
			l := &Lab{where: where, facts: netview.Facts{Node: "node1"}}
			var e netview.Extra
			l.readHost1(context.Background(), &e, nil, false)
			if e.Host1 != nil || !strings.Contains(e.Unread[netview.PartHost1], "podlab runs on node1, the pod's node, not on host1") {
				t.Errorf("host1 %v, unread %q", e.Host1 != nil, e.Unread[netview.PartHost1])
			}
		})
	}
}
