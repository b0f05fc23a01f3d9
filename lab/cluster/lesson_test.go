package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"podlab/internal/host1"
	"podlab/internal/kubetest"
	"podlab/internal/netnstest"
	"podlab/lab"
	"podlab/lab/iproute"
	"podlab/lab/sandbox"
	"podlab/netview"
)

func TestMain(m *testing.M) { host1.Main(m) }

// lessonSandbox is the BGP-mode sandbox every test of this package that
// needs one shares.
func lessonSandbox(t *testing.T) *sandbox.State {
	t.Helper()
	return host1.Sandbox(t, "plc", sandbox.Options{})
}

// registerSandbox tells the API server about the sandbox's nodes, pods
// (Running, with their real IPs and nodes) and blocks.
func registerSandbox(t *testing.T, s *kubetest.Server, st *sandbox.State) {
	t.Helper()
	for _, n := range st.Nodes {
		s.AddNode(t, n.Name, n.IP.String())
		s.AddBlockAffinity(t, n.Name, n.Block.String(), "confirmed")
	}
	for _, p := range st.Pods {
		app, _, _ := strings.Cut(p.Name, "-")
		s.AddPod(t, p.Namespace, p.Name, p.Node, p.IP.String(), map[string]string{"app": app}, corev1.PodRunning)
	}
}

// checkNamed: every local pod /32 on the host names its pod, and every
// remote block names its node, as the sandbox says.
func checkNamed(t *testing.T, st *sandbox.State, a netview.Analysis) {
	t.Helper()
	var local, remote int
	for _, rc := range a.Routes {
		if rc.Side != netview.SideHost {
			continue
		}
		switch rc.Class {
		case netview.ClassLocalPod:
			local++
			ip := rc.Route.Dst.Addr()
			i := slices.IndexFunc(st.Pods, func(p sandbox.PodInfo) bool { return p.IP == ip })
			if i < 0 {
				t.Errorf("local-pod route %s is no sandbox pod's", rc.Dst)
				continue
			}
			if want := st.Pods[i].Namespace + "/" + st.Pods[i].Name; rc.Peer != want {
				t.Errorf("local-pod %s: peer %q, want %q (%s)", rc.Dst, rc.Peer, want, rc.Reason)
			}
		case netview.ClassRemoteBlock:
			remote++
			i := slices.IndexFunc(st.Nodes, func(n sandbox.NodeInfo) bool { return n.Block == rc.Route.Dst })
			if i < 0 {
				t.Errorf("remote-block route %s is no sandbox node's block", rc.Dst)
				continue
			}
			if rc.Peer != st.Nodes[i].Name {
				t.Errorf("remote-block %s: peer %q, want %q (%s)", rc.Dst, rc.Peer, st.Nodes[i].Name, rc.Reason)
			}
		}
	}
	// node1 has five pods and two remote blocks (control's and node2's).
	if local != 5 || remote != 2 {
		t.Errorf("%d local-pod and %d remote-block routes, want 5 and 2: %+v", local, remote, a.Routes)
	}
	if !a.Veth.Agree {
		t.Errorf("veth pair does not agree: %s", a.Veth.Reason)
	}
}

// collectCustomer opens a lab with o, checks that it collects from where,
// and collects node1's customer pod.
func collectCustomer(ctx context.Context, t *testing.T, st *sandbox.State, o Options, where Where) (*Lab, *netview.Pair) {
	t.Helper()
	l, err := open(t, o)
	if err != nil {
		t.Fatal(err)
	}
	if l.Where() != where {
		t.Fatalf("where %q, want %q", l.Where(), where)
	}
	p, err := l.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	customerNS := st.PodNS(sandbox.CustomerNamespace, sandbox.CustomerPod)
	if p.Pod.NS.Name != customerNS || p.Host.NS.Name != st.NodeNS("node1") {
		t.Errorf("collected %q and %q, want pod %s and host %s", p.Pod.NS.Name, p.Host.NS.Name, customerNS, st.NodeNS("node1"))
	}
	return l, p
}

// TestLessonOnNode: the sandbox's node1 namespace stands in for node1's
// host namespace; Open finds the customer pod through the API server, and
// Collect reads both namespaces with netlink.
func TestLessonOnNode(t *testing.T) {
	st := lessonSandbox(t)
	s := kubetest.Start(t)
	registerSandbox(t, s, st)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, p := collectCustomer(ctx, t, st, Options{Kubeconfig: s.Kubeconfig, HostNetns: st.NodeNS("node1")}, OnNode)
	customerNS := st.PodNS(sandbox.CustomerNamespace, sandbox.CustomerPod)
	if p.Facts.Mode != "bgp" {
		t.Errorf("mode %q", p.Facts.Mode)
	}
	a := netview.Analyze(p)
	checkNamed(t, st, a)
	if a.ExpectedHostIf != "caliea2aa288365" || a.Veth.HostIf != "caliea2aa288365" {
		t.Errorf("host end %q, expected %q", a.Veth.HostIf, a.ExpectedHostIf)
	}
	d := l.Describe()
	if !strings.Contains(d, "host namespace "+st.NodeNS("node1")+" standing in for node1, pod namespace "+customerNS) {
		t.Errorf("Describe does not say how it collects: %s", d)
	}

	t.Run("again", func(t *testing.T) {
		// The pod's namespace is remembered, and still checked.
		p2, err := l.Collect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p2.Pod.NS.Inode != p.Pod.NS.Inode {
			t.Errorf("second collect read another namespace")
		}
	})
	t.Run("changes", func(t *testing.T) {
		wctx, stop := context.WithCancel(ctx)
		defer stop()
		ch := l.Changes(wctx)
		// A neighbour entry of the test's own, in the sandbox pod's
		// namespace, added and removed.
		netnstest.Run(t, customerNS, "ip", "neigh", "add", "169.254.1.9", "lladdr", "02:00:00:00:00:09", "dev", "eth0")
		netnstest.Run(t, customerNS, "ip", "neigh", "del", "169.254.1.9", "dev", "eth0")
		select {
		case _, ok := <-ch:
			if !ok {
				t.Fatal("Changes closed its channel on the node")
			}
		case <-time.After(30 * time.Second):
			t.Fatal("no change signalled for a neighbour added in the pod's namespace")
		}
		// On the node the watch keeps the snapshots: Collect gives them,
		// with a route added in the node's namespace once it is notified.
		const dst = "198.19.99.0/24"
		netnstest.Run(t, st.NodeNS("node1"), "ip", "route", "add", "blackhole", dst)
		t.Cleanup(func() { netnstest.Run(t, st.NodeNS("node1"), "ip", "route", "del", "blackhole", dst) })
		deadline := time.Now().Add(30 * time.Second)
		for {
			p, err := l.Collect(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if slices.ContainsFunc(p.Host.Routes, func(r netview.Route) bool { return r.Dst.String() == dst }) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("Collect never gave the route %s added on the node", dst)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if _, watching := l.kept.Snapshots(lab.NSRef{Name: st.NodeNS("node1")}, l.podRef); !watching {
			t.Error("Collect on the node read afresh: the watch's snapshots were dropped")
		}
		if err := l.Resync(ctx); err != nil {
			t.Errorf("Resync: %v", err)
		}
		if n := l.Resyncs(); n != 0 {
			t.Errorf("%d resyncs for lost notifications, want 0", n)
		}
	})
	t.Run("route", func(t *testing.T) {
		cases := []struct {
			dst, dev, gw string
			typ          string
		}{
			{"198.19.22.132", "caliea2aa288365", "", "unicast"},
			{"198.19.21.66", "eth0", "198.19.0.3", "unicast"},
			{"198.19.22.150", "", "", "blackhole"}, // in node1's block, no pod
		}
		for _, c := range cases {
			r, err := l.Route(ctx, netip.MustParseAddr(c.dst))
			if err != nil {
				t.Errorf("Route %s: %v", c.dst, err)
				continue
			}
			var gw netip.Addr
			if c.gw != "" {
				gw = netip.MustParseAddr(c.gw)
			}
			if r.Dev != c.dev || r.Gw != gw || r.Type != c.typ {
				t.Errorf("Route %s: %+v, want dev %q via %q type %s", c.dst, r, c.dev, c.gw, c.typ)
			}
		}
	})
}

// ipJSON takes a namespace's snapshot through ip -j, as exec and ssh do.
func ipJSON(t *testing.T, ns string) *netview.Snapshot {
	t.Helper()
	var outs [][]byte
	for _, c := range iproute.Commands {
		args := append([]string{"-n", ns}, c[1:]...)
		out, err := exec.Command("ip", args...).Output()
		if err != nil {
			t.Fatalf("ip %v: %v", args, err)
		}
		outs = append(outs, out)
	}
	s, err := iproute.ParseIPJSON(outs[0], outs[1], outs[2], outs[3])
	if err != nil {
		t.Fatal(err)
	}
	sys, _ := exec.Command("ip", "netns", "exec", ns, "sh", "-c", iproute.SysctlScript).Output()
	iproute.ParseSysctls(s, sys)
	out, err := exec.Command("ip", "-n", ns, "-j", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if s.NS.NSIDs, err = iproute.NetnsNames(out); err != nil {
		t.Fatal(err)
	}
	s.NS.Name = ns
	return s
}

// TestIPJSONMatchesNetlink: ip -j output of the sandbox's namespaces,
// parsed, gives the analysis the netlink collector's snapshots give.
func TestIPJSONMatchesNetlink(t *testing.T) {
	st := lessonSandbox(t)
	facts := sandboxFacts(st, sandbox.CustomerNamespace, sandbox.CustomerPod)

	for _, c := range []struct{ pod, node string }{
		{sandbox.CustomerPod, "node1"},
		{"database-6c5db58d95-mzp4n", "node2"},
	} {
		t.Run(c.pod, func(t *testing.T) {
			f := facts
			pi := st.Pod("yaobank", c.pod)
			f.Pod = netview.PodFact{Namespace: pi.Namespace, Name: pi.Name, IP: pi.IP, Node: pi.Node}
			f.Node = c.node
			podNS, hostNS := pi.NS, st.NodeNS(c.node)

			nlPod, ipPod := quietReads(t, podNS)
			nlHost, ipHost := quietReads(t, hostNS)

			compareSnapshots(t, "pod", nlPod, ipPod)
			compareSnapshots(t, "host", nlHost, ipHost)

			want := netview.Analyze(&netview.Pair{Pod: *nlPod, Host: *nlHost, Facts: f})
			got := netview.Analyze(&netview.Pair{Pod: *ipPod, Host: *ipHost, Facts: f})
			wj, _ := json.MarshalIndent(want, "", " ")
			gj, _ := json.MarshalIndent(got, "", " ")
			if string(wj) != string(gj) {
				t.Errorf("analysis from ip -j differs from netlink's:\nnetlink: %s\nip -j:   %s", wj, gj)
			}
		})
	}
}

// quietReads reads namespace ns through netlink and through ip -j, at a
// moment it did not change between them: a node's neighbour entries move
// between STALE, DELAY and REACHABLE as BIRD's sessions talk, and two
// reads that straddle a move differ by what the kernel did, not by how
// they read it. Netlink reads before and after ip -j must agree.
func quietReads(t *testing.T, ns string) (nl, ip *netview.Snapshot) {
	t.Helper()
	read := func() *netview.Snapshot {
		s, err := lab.Collect(context.Background(), lab.NSRef{Name: ns})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	state := func(s *netview.Snapshot) string {
		b, _ := json.Marshal([]any{s.Links, s.Addrs, s.Routes, s.Neighs})
		return string(b)
	}
	for range 20 {
		before := read()
		ip = ipJSON(t, ns)
		if state(read()) == state(before) {
			return before, ip
		}
	}
	t.Fatalf("%s changed during each of 20 reads: cannot compare", ns)
	return nil, nil
}

// sandboxFacts are the facts the API server would give for a sandbox pod.
func sandboxFacts(st *sandbox.State, namespace, name string) netview.Facts {
	var f netview.Facts
	pi := st.Pod(namespace, name)
	f.Pod = netview.PodFact{Namespace: pi.Namespace, Name: pi.Name, IP: pi.IP, Node: pi.Node, Phase: "Running"}
	f.Node = pi.Node
	for _, p := range st.Pods {
		if p.Node == pi.Node {
			f.Pods = append(f.Pods, netview.PodFact{Namespace: p.Namespace, Name: p.Name, IP: p.IP, Node: p.Node, Phase: "Running"})
		}
	}
	for _, n := range st.Nodes {
		f.Nodes = append(f.Nodes, netview.NodeFact{Name: n.Name, InternalIP: n.IP})
		f.Blocks = append(f.Blocks, netview.Block{CIDR: n.Block, Node: n.Name})
	}
	return f
}

// compareSnapshots checks the fields podlab shows, item by item.
func compareSnapshots(t *testing.T, side string, nl, ip *netview.Snapshot) {
	t.Helper()
	linkKey := func(l netview.Link) string {
		return fmt.Sprintf("%d %s kind=%s flags=%v mtu=%d qdisc=%s oper=%s mac=%s parent=%d nsid=%d master=%d type=%s sysctls=%v",
			l.Index, l.Name, l.Kind, l.Flags, l.MTU, l.Qdisc, l.OperState, l.MAC, l.ParentIndex, l.LinkNetNSID, l.MasterIndex, l.LinkType, l.Sysctls)
	}
	addrKey := func(a netview.Addr) string {
		return fmt.Sprintf("%d %s %s peer=%s brd=%s scope=%s label=%s flags=%v", a.Index, a.Dev, a.Prefix, a.Peer, a.Broadcast, a.Scope, a.Label, a.Flags)
	}
	routeKey := func(r netview.Route) string {
		return fmt.Sprintf("%d t%d %s %s via=%s dev=%s/%d scope=%s proto=%d src=%s metric=%d flags=%v",
			r.Family, r.Table, r.Type, r.Dst, r.Gw, r.Dev, r.DevIndex, r.Scope, r.Protocol, r.Src, r.Metric, r.Flags)
	}
	neighKey := func(n netview.Neigh) string {
		return fmt.Sprintf("%d %s %s %s %v %v", n.Index, n.Dev, n.IP, n.MAC, n.State, n.Flags)
	}
	if len(nl.Links) < 2 || len(nl.Routes) < 3 || len(nl.Addrs) < 2 {
		t.Errorf("%s: netlink snapshot too small to compare: %d links, %d routes, %d addrs", side, len(nl.Links), len(nl.Routes), len(nl.Addrs))
	}
	diff(t, side+" links", mapKeys(nl.Links, linkKey), mapKeys(ip.Links, linkKey))
	diff(t, side+" addrs", mapKeys(nl.Addrs, addrKey), mapKeys(ip.Addrs, addrKey))
	diff(t, side+" routes", mapKeys(nl.Routes, routeKey), mapKeys(ip.Routes, routeKey))
	diff(t, side+" neighs", mapKeys(nl.Neighs, neighKey), mapKeys(ip.Neighs, neighKey))
	if fmt.Sprint(nl.Sysctls) != fmt.Sprint(ip.Sysctls) {
		t.Errorf("%s sysctls: netlink %v, ip %v", side, nl.Sysctls, ip.Sysctls)
	}
	if fmt.Sprint(nl.NS.NSIDs) != fmt.Sprint(ip.NS.NSIDs) {
		t.Errorf("%s nsids: netlink %v, ip %v", side, nl.NS.NSIDs, ip.NS.NSIDs)
	}
}

func mapKeys[T any](xs []T, key func(T) string) []string {
	var out []string
	for _, x := range xs {
		out = append(out, key(x))
	}
	slices.Sort(out)
	return out
}

func diff(t *testing.T, what string, want, got []string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("%s: netlink has, ip -j lacks: %s", what, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			t.Errorf("%s: ip -j has, netlink lacks: %s", what, g)
		}
	}
}

// TestShowCLI: `podlab show --lab cluster --host-netns NS --json`, the
// command a student on the node runs, through the real binary.
func TestShowCLI(t *testing.T) {
	st := lessonSandbox(t)
	s := kubetest.Start(t)
	registerSandbox(t, s, st)
	bin := podlabBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin+"/podlab", "show", "--lab", "cluster", "--kubeconfig", s.Kubeconfig,
		"--host-netns", st.NodeNS("node1"), "--json")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("podlab show: %v\n%s", err, stderr.String())
	}
	var got struct {
		Schema   string           `json:"schema"`
		Lab      string           `json:"lab"`
		Describe string           `json:"describe"`
		Pod      netview.Snapshot `json:"pod"`
		Host     netview.Snapshot `json:"host"`
		Facts    netview.Facts    `json:"facts"`
		Analysis netview.Analysis `json:"analysis"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("podlab show --json: %v\n%s", err, out)
	}
	if got.Lab != "cluster" || got.Facts.Pod.Name != sandbox.CustomerPod || got.Facts.Node != "node1" {
		t.Errorf("lab %q, pod %q on %q", got.Lab, got.Facts.Pod.Name, got.Facts.Node)
	}
	if !strings.Contains(got.Describe, "standing in for node1") {
		t.Errorf("describe %q", got.Describe)
	}
	// RouteClass.Route is not in the JSON: take the destination from Dst.
	for i := range got.Analysis.Routes {
		rc := &got.Analysis.Routes[i]
		if p, err := netip.ParsePrefix(rc.Dst); err == nil {
			rc.Route = &netview.Route{Dst: p}
		} else if a, err := netip.ParseAddr(rc.Dst); err == nil {
			rc.Route = &netview.Route{Dst: netip.PrefixFrom(a, 32)}
		}
	}
	checkNamed(t, st, got.Analysis)

	t.Run("errors", func(t *testing.T) {
		cases := []struct {
			args []string
			want string
		}{
			{[]string{"--selector", "app=nothing"}, "podlab: no pod matches -l app=nothing in namespace yaobank: check the namespace (-n) and selector (-l), or use --lab sandbox\n"},
			{[]string{"--context", "elsewhere"}, "podlab: context \"elsewhere\" is not in the kubeconfig: list them with kubectl config get-contexts and pass one with --context\n"},
		}
		for _, c := range cases {
			args := append([]string{"show", "--lab", "cluster", "--kubeconfig", s.Kubeconfig, "--host-netns", st.NodeNS("node1")}, c.args...)
			cmd := exec.CommandContext(ctx, bin+"/podlab", args...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Run(); err == nil {
				t.Errorf("%v succeeded", c.args)
			}
			if stderr.String() != c.want {
				t.Errorf("%v: stderr\n  %q\nwant\n  %q", c.args, stderr.String(), c.want)
			}
		}
	})
}
