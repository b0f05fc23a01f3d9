package cli

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"podlab/internal/netnstest"
	"podlab/lab"
	"podlab/netview"
)

// everyRouteNode builds a node namespace holding every form of route a
// real Calico node has (IPv4 and IPv6), wired to a pod namespace by a
// veth as Calico's CNI plugin does and to a fabric namespace standing in
// for the other nodes, and returns the node's and the pod's names.
func everyRouteNode(t *testing.T) (node, pod string) {
	t.Helper()
	node, pod, fab := netnstest.New(t, "evrn"), netnstest.New(t, "evrp"), netnstest.New(t, "evrf")
	in := func(ns string, lines ...string) {
		t.Helper()
		for _, l := range lines {
			netnstest.Run(t, ns, strings.Fields(l)...)
		}
	}
	// Addresses go in without duplicate address detection, so ip prints
	// no "tentative" that would change between two reads.
	in(node,
		"sysctl -qw net.ipv6.conf.default.accept_dad=0",
		"sysctl -qw net.ipv6.conf.all.accept_dad=0",
		"ip link set lo up",
		"ip link add eth0 type veth peer name fabric0 netns "+fab,
		"ip addr add 10.0.0.2/24 dev eth0",
		"ip addr add 2001:db8:f::2/64 dev eth0 nodad",
		"ip link set eth0 up",
		// The pod's host end, named and addressed as Calico's CNI plugin does.
		"ip link add cali1a2b3c4d5e6 type veth peer name eth0 netns "+pod,
		"ip link set cali1a2b3c4d5e6 address ee:ee:ee:ee:ee:ee",
		"ip link set cali1a2b3c4d5e6 up",
		// An OpenStack workload: Felix's interface prefix tap.
		"ip link add tap0f1e2d3c-4b type veth peer name tapvm0",
		"ip link set tap0f1e2d3c-4b up",
		"ip link set tapvm0 up",
		// eBPF mode's device pair.
		"ip link add bpfin.cali type veth peer name bpfout.cali",
		"ip link set bpfin.cali up",
		"ip link set bpfout.cali up",
		// VXLAN mode's device, beside plain routes: cross-subnet.
		"ip link add vxlan.calico type vxlan id 4096 dstport 4789 local 10.0.0.2 dev eth0",
		"ip addr add 10.65.0.0/32 dev vxlan.calico",
		"ip link set vxlan.calico up",
	)
	in(fab,
		"ip link set lo up",
		"ip addr add 10.0.0.1/24 dev fabric0",
		"ip addr add 10.0.0.3/24 dev fabric0",
		"ip addr add 10.0.0.4/24 dev fabric0",
		"ip addr add 2001:db8:f::3/64 dev fabric0 nodad",
		"ip addr add fe80::3/64 dev fabric0 nodad",
		"ip link set fabric0 up",
	)
	in(pod,
		"sysctl -qw net.ipv6.conf.all.accept_dad=0",
		"sysctl -qw net.ipv6.conf.default.accept_dad=0",
		"ip link set lo up",
		"ip addr add 10.65.0.5/32 dev eth0",
		"ip addr add 2001:db8:65::5/128 dev eth0 nodad",
		"ip link set eth0 up",
		"ip route add 169.254.1.1 dev eth0 scope link",
		"ip route add default via 169.254.1.1 dev eth0",
		"ip -6 route add default via fe80::ecee:eeff:feee:eeee dev eth0",
	)
	in(node,
		"ip route add default via 10.0.0.1 dev eth0",
		// Local pods, IPv4 and IPv6, and a tap workload.
		"ip route add 10.65.0.5/32 dev cali1a2b3c4d5e6 scope link",
		"ip -6 route add 2001:db8:65::5/128 dev cali1a2b3c4d5e6",
		"ip route add 10.65.0.9/32 dev tap0f1e2d3c-4b scope link",
		// The own blocks, blackholed: with local pods, and without.
		"ip route add blackhole 10.65.0.0/26 proto bird",
		"ip -6 route add blackhole 2001:db8:65::/122 proto bird",
		"ip route add blackhole 10.65.1.0/26 proto bird",
		// Other nodes' blocks over BGP, one IPv6 via a link-local address.
		"ip route add 10.65.2.0/26 via 10.0.0.3 dev eth0 proto bird",
		"ip -6 route add 2001:db8:65::40/122 via 2001:db8:f::3 dev eth0 proto bird",
		"ip -6 route add 2001:db8:65::80/122 via fe80::3 dev eth0 proto bird",
		// Borrowed addresses out of this node's block.
		"ip route add 10.65.0.20/32 via 10.0.0.3 dev eth0 proto bird",
		"ip -6 route add 2001:db8:65::14/128 via 2001:db8:f::3 dev eth0 proto bird",
		// A block learned over two paths (ECMP).
		"ip route add 10.65.3.0/26 proto bird nexthop via 10.0.0.3 dev eth0 weight 1 nexthop via 10.0.0.4 dev eth0 weight 1",
		"ip -6 route add 2001:db8:65::c0/122 proto bird nexthop via 2001:db8:f::3 dev eth0 weight 1 nexthop via fe80::3 dev eth0 weight 1",
		// VXLAN: another node's tunnel address and its block behind it.
		"ip route add 10.65.4.0/32 dev vxlan.calico scope link",
		"ip route add 10.65.4.0/26 via 10.65.4.0 dev vxlan.calico onlink proto 80",
		// eBPF mode's route of a service into the dataplane.
		"ip route add 10.96.0.10/32 via 169.254.1.1 dev bpfin.cali onlink",
		// What the sit module writes on any node where it is loaded.
		"ip -6 route add unreachable ::ffff:0.0.0.0/96 dev lo",
	)
	return node, pod
}

// showRoute is one route of show --json's analysis.
type showRoute struct {
	Side, Dst, Class, Reason, Peer string
	NextHops                       []struct{ Gateway, Dev string }
}

// TestShowEveryRouteForm: on a node namespace holding every form of
// route a real node has, show --json classes each of them for what it
// is, and show's ip-style views are ip's own text, byte for byte.
func TestShowEveryRouteForm(t *testing.T) {
	netnstest.RequireRoot(t)
	node, pod := everyRouteNode(t)
	routes := func(t *testing.T, extra ...string) map[string][]showRoute {
		t.Helper()
		args := append([]string{"show", "--json", "--lab", "netns", "--host-netns", node, "--pod-netns", pod}, extra...)
		code, out, stderr := podlab(t, args...)
		if code != 0 {
			t.Fatalf("show %v: exit %d: %s", extra, code, stderr)
		}
		var v struct {
			Analysis struct{ Routes []showRoute } `json:"analysis"`
		}
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatal(err)
		}
		// fe80::/64 is on every device: a destination may have several.
		m := map[string][]showRoute{}
		for _, r := range v.Analysis.Routes {
			if r.Side == "host" {
				m[r.Dst] = append(m[r.Dst], r)
			}
		}
		return m
	}
	type want struct {
		class  string
		reason []string // each in the reason
	}
	forms := map[string]want{
		"default":             {"default", nil},
		"10.0.0.0/24":         {"connected", nil},
		"10.65.0.5":           {"local-pod", []string{"cali1a2b3c4d5e6"}},
		"2001:db8:65::5":      {"local-pod", []string{"cali1a2b3c4d5e6"}},
		"10.65.0.0/26":        {"local-block-blackhole", nil},
		"2001:db8:65::/122":   {"local-block-blackhole", nil},
		"10.65.1.0/26":        {"local-block-blackhole", []string{"affine"}},
		"10.65.2.0/26":        {"remote-block", []string{"10.0.0.3"}},
		"2001:db8:65::40/122": {"remote-block", []string{"2001:db8:f::3"}},
		"2001:db8:65::80/122": {"remote-block", []string{"fe80::3"}},
		"10.65.0.20":          {"remote-pod", []string{"borrowed"}},
		"2001:db8:65::14":     {"remote-pod", []string{"borrowed"}},
		"10.65.3.0/26":        {"remote-block", []string{"2 next hops", "10.0.0.3", "10.0.0.4"}},
		"10.65.4.0":           {"tunnel-endpoint", []string{"VXLAN tunnel address"}},
		"10.65.4.0/26":        {"remote-block", []string{"VXLAN"}},
		"10.96.0.10":          {"other", []string{"Felix's, in eBPF mode"}},
		"::ffff:0.0.0.0/96":   {"other", []string{"IPv4-mapped"}},
		"10.65.0.9":           {"other", []string{"tap0f1e2d3c-4b", "start with cali"}},
		"2001:db8:f::/64":     {"connected", nil},
		"fe80::/64":           {"connected", nil},
	}
	check := func(t *testing.T, got map[string][]showRoute, forms map[string]want) {
		t.Helper()
		for dst, w := range forms {
			if len(got[dst]) == 0 {
				t.Errorf("no host route to %s", dst)
			}
			for _, r := range got[dst] {
				if r.Class != w.class {
					t.Errorf("%s is %s, want %s: %s", dst, r.Class, w.class, r.Reason)
				}
				for _, s := range w.reason {
					if !strings.Contains(r.Reason, s) {
						t.Errorf("%s: reason %q does not say %q", dst, r.Reason, s)
					}
				}
			}
		}
		// Nothing on the node is left unclassed, and nothing of Calico's
		// is called other but what is expected to be.
		for dst, rs := range got {
			for _, r := range rs {
				if r.Class == "" {
					t.Errorf("%s has no class", dst)
				}
				if _, known := forms[dst]; !known && r.Class == "other" {
					t.Errorf("%s is other: %s", dst, r.Reason)
				}
			}
		}
	}
	t.Run("cali", func(t *testing.T) {
		got := routes(t)
		check(t, got, forms)
		if ecmp := got["10.65.3.0/26"]; len(ecmp) != 1 || len(ecmp[0].NextHops) != 2 ||
			ecmp[0].NextHops[0].Gateway != "10.0.0.3" || ecmp[0].NextHops[1].Gateway != "10.0.0.4" {
			t.Errorf("the ECMP block is %+v, want one route via 10.0.0.3 and 10.0.0.4", ecmp)
		}
	})
	t.Run("tap", func(t *testing.T) {
		// With Felix's prefix tap the tap workload is the local pod, and
		// the cali end is none of Felix's.
		tap := map[string]want{}
		for k, v := range forms {
			tap[k] = v
		}
		tap["10.65.0.9"] = want{"local-pod", []string{"tap0f1e2d3c-4b", "starts with tap"}}
		tap["10.65.0.5"] = want{"other", nil}
		tap["2001:db8:65::5"] = want{"other", nil}
		check(t, routes(t, "--interface-prefix", "tap"), tap)
	})
	t.Run("views", func(t *testing.T) {
		compareShowViews(t, node, pod)
	})
	t.Run("node addr", func(t *testing.T) {
		// show prints no node addr view; the ui's pane does, from Render.
		for range 10 {
			before, before6 := ipText(t, node, "addr"), ipText(t, node, "-6", "addr")
			s, err := lab.Collect(context.Background(), lab.NSRef{Name: node})
			if err != nil {
				t.Fatal(err)
			}
			if ipText(t, node, "addr") != before || ipText(t, node, "-6", "addr") != before6 {
				continue
			}
			if got := netview.Plain(netview.Render(netview.SideHost, netview.ViewAddr, s, nil)); got != before {
				t.Errorf("podlab renders:\n%s\nip addr prints:\n%s", got, before)
			}
			if got := netview.Plain(netview.Render(netview.SideHost, netview.ViewAddr6, s, nil)); got != before6 {
				t.Errorf("podlab renders:\n%s\nip -6 addr prints:\n%s", got, before6)
			}
			return
		}
		t.Fatal("ip printed something different each of 10 times: cannot compare")
	})
}

// compareShowViews holds each ip-style view show prints against what ip
// prints for the same namespace, byte for byte.
func compareShowViews(t *testing.T, node, pod string) {
	t.Helper()
	views := []struct {
		ns, heading string
		args        []string
	}{
		{pod, "ip addr", []string{"addr"}},
		{pod, "ip -6 addr", []string{"-6", "addr"}},
		{pod, "ip -c link show up", []string{"link", "show", "up"}},
		{pod, "ip route", []string{"route"}},
		{pod, "ip -6 route", []string{"-6", "route"}},
		{node, "ip -c link show up", []string{"link", "show", "up"}},
		{node, "ip route", []string{"route"}},
		{node, "ip -6 route", []string{"-6", "route"}},
	}
	all := func() []string {
		out := make([]string, len(views))
		for i, v := range views {
			out[i] = ipText(t, v.ns, v.args...)
		}
		return out
	}
	// Addresses and neighbours can change under us: compare only when ip
	// printed the same before and after.
	for range 10 {
		before := all()
		code, out, stderr := podlab(t, "show", "--plain", "--lab", "netns", "--host-netns", node, "--pod-netns", pod)
		if code != 0 {
			t.Fatalf("show: exit %d: %s", code, stderr)
		}
		if !equalStrings(before, all()) {
			continue
		}
		sections := showSections(out)
		if len(sections) != len(views)+1 {
			t.Fatalf("show prints %d views, want %d (the pod's neigh too): %s", len(sections), len(views)+1, out)
		}
		// show's order: the pod's addr, -6 addr, link, route, -6 route
		// and neigh, then the node's link, route and -6 route.
		sections = append(sections[:5], sections[6:]...)
		for i, v := range views {
			if !strings.HasSuffix(sections[i].head, " $ "+v.heading) {
				t.Errorf("view %d is %q, want %q", i, sections[i].head, v.heading)
			}
			if sections[i].text != before[i] {
				t.Errorf("%s: show prints:\n%s\nip -n %s %v prints:\n%s", sections[i].head, sections[i].text, v.ns, v.args, before[i])
			}
		}
		return
	}
	t.Fatal("ip printed something different each of 10 times: cannot compare")
}

// ipText is what `ip -n ns args...` prints.
func ipText(t *testing.T, ns string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).Output()
	if err != nil {
		t.Fatalf("ip %v: %v", args, err)
	}
	return string(out)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

type section struct{ head, text string }

// showSections splits show's plain output into its views: a heading
// ("pod $ ip route") and the view's text, each line ending in a newline.
func showSections(out string) []section {
	var secs []section
	var b strings.Builder
	head := ""
	for _, l := range strings.SplitAfter(out, "\n") {
		switch {
		case strings.Contains(l, " $ ip "):
			head = strings.TrimSuffix(l, "\n")
			b.Reset()
		case head != "" && l == "\n":
			secs = append(secs, section{head, b.String()})
			head = ""
		case head != "":
			b.WriteString(l)
		}
	}
	return secs
}
