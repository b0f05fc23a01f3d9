package lab

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"podlab/internal/netnstest"
	"podlab/netview"
)

func collect(t *testing.T, ref NSRef) *netview.Snapshot {
	t.Helper()
	s, err := Collect(context.Background(), ref)
	if err != nil {
		t.Fatalf("Collect(%v): %v", ref, err)
	}
	return s
}

func findRoute(s *netview.Snapshot, table int, dst string) *netview.Route {
	p := netip.MustParsePrefix(dst)
	for i, r := range s.Routes {
		if r.Table == table && r.Dst == p {
			return &s.Routes[i]
		}
	}
	return nil
}

func TestCollectCalicoWiring(t *testing.T) {
	c := buildCalico(t)
	pod := collect(t, NSRef{Name: c.Pod})
	host := collect(t, NSRef{Name: c.Host})

	eth0 := pod.LinkByName("eth0")
	cali := host.LinkByName(c.HostIf)
	if eth0 == nil || cali == nil {
		t.Fatalf("eth0 in pod: %v, %s in host: %v", eth0, c.HostIf, cali)
	}
	t.Run("veth pairing both ways", func(t *testing.T) {
		if eth0.ParentIndex != cali.Index || cali.ParentIndex != eth0.Index {
			t.Errorf("eth0 index %d @if%d, %s index %d @if%d", eth0.Index, eth0.ParentIndex, c.HostIf, cali.Index, cali.ParentIndex)
		}
		if eth0.Kind != "veth" || cali.Kind != "veth" {
			t.Errorf("kinds %q %q, want veth", eth0.Kind, cali.Kind)
		}
	})
	t.Run("link-netnsid and nsid maps", func(t *testing.T) {
		if eth0.LinkNetNSID < 0 || cali.LinkNetNSID < 0 {
			t.Fatalf("link-netnsid pod %d host %d", eth0.LinkNetNSID, cali.LinkNetNSID)
		}
		if got := host.NS.NSIDs[cali.LinkNetNSID]; got != c.Pod {
			t.Errorf("host nsid %d names %q, want %q (map %v)", cali.LinkNetNSID, got, c.Pod, host.NS.NSIDs)
		}
		if got := pod.NS.NSIDs[eth0.LinkNetNSID]; got != c.Host {
			t.Errorf("pod nsid %d names %q, want %q (map %v)", eth0.LinkNetNSID, got, c.Host, pod.NS.NSIDs)
		}
		if lo := pod.LinkByName("lo"); lo == nil || lo.LinkNetNSID != -1 {
			t.Errorf("lo link-netnsid should be -1: %+v", lo)
		}
	})
	t.Run("identity", func(t *testing.T) {
		if pod.NS.Name != c.Pod || host.NS.Name != c.Host {
			t.Errorf("names %q %q", pod.NS.Name, host.NS.Name)
		}
		var st syscallStat
		if err := statInode(netnstest.Path(c.Pod), &st); err != nil {
			t.Fatal(err)
		}
		if pod.NS.Inode != st.ino || pod.NS.Inode == host.NS.Inode {
			t.Errorf("pod inode %d, file %d, host %d", pod.NS.Inode, st.ino, host.NS.Inode)
		}
	})
	t.Run("pod eth0", func(t *testing.T) {
		want := netview.Link{Index: eth0.Index, Name: "eth0", Kind: "veth",
			Flags: []string{"BROADCAST", "MULTICAST", "UP", "LOWER_UP"}, MTU: 1410, Qdisc: "noqueue",
			OperState: "UP", Group: "default", TxQLen: 1000, LinkType: "ether", MAC: eth0.MAC,
			Broadcast: "ff:ff:ff:ff:ff:ff", ParentIndex: cali.Index, LinkNetNSID: eth0.LinkNetNSID}
		got := *eth0
		got.Sysctls = nil
		if !equalJSON(got, want) {
			t.Errorf("eth0\n got %+v\nwant %+v", got, want)
		}
		addrs := pod.AddrsOf(eth0.Index)
		var v4 []netview.Addr
		for _, a := range addrs {
			if a.Prefix.Addr().Is4() {
				v4 = append(v4, a)
			}
		}
		if len(v4) != 1 || v4[0].Prefix != netip.PrefixFrom(c.PodIP, 32) || v4[0].Scope != "global" ||
			v4[0].Dev != "eth0" || v4[0].ValidLft != netview.LifetimeForever || !slices.Contains(v4[0].Flags, "permanent") {
			t.Errorf("eth0 IPv4 addresses: %+v", v4)
		}
	})
	t.Run("pod routes", func(t *testing.T) {
		gw := findRoute(pod, netview.TableMain, "169.254.1.1/32")
		def := findRoute(pod, netview.TableMain, "0.0.0.0/0")
		if gw == nil || gw.Scope != "link" || gw.Dev != "eth0" || gw.DevIndex != eth0.Index || gw.Protocol != netview.ProtoBoot || gw.Gw.IsValid() || gw.Type != "unicast" {
			t.Errorf("gateway route %+v", gw)
		}
		if def == nil || def.Gw != netip.MustParseAddr("169.254.1.1") || def.Dev != "eth0" || def.Scope != "universe" || def.Protocol != netview.ProtoBoot || def.Family != 4 {
			t.Errorf("default route %+v", def)
		}
		local := findRoute(pod, netview.TableLocal, netip.PrefixFrom(c.PodIP, 32).String())
		if local == nil || local.Type != "local" || local.Scope != "host" || local.Protocol != netview.ProtoKernel {
			t.Errorf("local-table route for the pod IP %+v", local)
		}
	})
	t.Run("host end", func(t *testing.T) {
		if cali.MAC != hostMAC || cali.MTU != 1410 || cali.OperState != "UP" {
			t.Errorf("%s: %+v", c.HostIf, cali)
		}
		want := map[string]int{
			netview.SysctlProxyARP: 1, netview.SysctlProxyDelay: 0, netview.SysctlForwarding: 1,
			netview.SysctlRouteLocalnet: 1, netview.SysctlAcceptRA: 0,
		}
		for k, v := range want {
			if got, ok := cali.Sysctl(k); !ok || got != v {
				t.Errorf("%s %s = %d (read %v), want %d", c.HostIf, k, got, ok, v)
			}
		}
		if _, ok := cali.Sysctl(netview.SysctlRPFilter); !ok {
			t.Errorf("rp_filter not read")
		}
		// The pod's eth0 keeps the defaults: proxy_arp is the host end's alone.
		if v, _ := eth0.Sysctl(netview.SysctlProxyARP); v != 0 {
			t.Errorf("pod eth0 proxy_arp = %d", v)
		}
		if host.Sysctls[netview.SysctlIPForward] != 1 {
			t.Errorf("host ip_forward %v", host.Sysctls)
		}
		if v, ok := pod.Sysctls[netview.SysctlIPForward]; !ok || v != 0 {
			t.Errorf("pod ip_forward %v", pod.Sysctls)
		}
	})
	t.Run("host routes", func(t *testing.T) {
		r := findRoute(host, netview.TableMain, netip.PrefixFrom(c.PodIP, 32).String())
		if r == nil || r.Dev != c.HostIf || r.DevIndex != cali.Index || r.Scope != "link" || r.Protocol != netview.ProtoBoot {
			t.Errorf("local pod route %+v", r)
		}
		conn := findRoute(host, netview.TableMain, "198.51.100.0/24")
		if conn == nil || conn.Protocol != netview.ProtoKernel || conn.Src != c.HostIP || conn.Scope != "link" {
			t.Errorf("connected route %+v", conn)
		}
		def := findRoute(host, netview.TableMain, "0.0.0.0/0")
		if def == nil || def.Gw != c.FabricIP || def.Dev != "eth0" {
			t.Errorf("default route %+v", def)
		}
	})
}

// syscallStat keeps the test free of unix types.
type syscallStat struct{ ino uint64 }

func statInode(p string, st *syscallStat) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	st.ino = inodeOf(fi)
	return nil
}

func TestCollectGatewayNeighbourAfterPing(t *testing.T) {
	c := buildCalico(t)
	netnstest.Ping(t, c.Pod, c.HostIP)
	pod := collect(t, NSRef{Name: c.Pod})
	var n *netview.Neigh
	for i := range pod.Neighs {
		if pod.Neighs[i].IP == netip.MustParseAddr("169.254.1.1") {
			n = &pod.Neighs[i]
		}
	}
	if n == nil {
		t.Fatalf("no neighbour entry for 169.254.1.1: %+v", pod.Neighs)
	}
	if n.MAC != hostMAC || n.Dev != "eth0" || len(n.State) == 0 || n.State[0] == "FAILED" || n.State[0] == "INCOMPLETE" {
		t.Errorf("169.254.1.1: %+v", n)
	}
}

func TestCollectNSIDQueryAllocatesNothing(t *testing.T) {
	a := netnstest.New(t, "plna")
	b := netnstest.New(t, "plnb")
	s := collect(t, NSRef{Name: a})
	for id, name := range s.NS.NSIDs {
		if name == b {
			t.Errorf("%s gives %s id %d without any link between them", a, b, id)
		}
	}
	if out := netnstest.Run(t, a, "ip", "netns", "list-id"); strings.TrimSpace(out) != "" {
		t.Errorf("collecting %s assigned nsids: %s", a, out)
	}
}

func TestCollectRefs(t *testing.T) {
	c := buildCalico(t)
	want := collect(t, NSRef{Name: c.Pod}).NS.Inode

	cmd := exec.Command("ip", "netns", "exec", c.Pod, "sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// ip netns exec forks into the namespace; wait until the process is in it.
	var s *netview.Snapshot
	for range 100 {
		s = collect(t, NSRef{Pid: cmd.Process.Pid})
		if s.NS.Inode == want {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	tests := []struct {
		name string
		ref  NSRef
	}{
		{"name", NSRef{Name: c.Pod}},
		{"path", NSRef{Path: netnstest.Path(c.Pod)}},
		{"pid", NSRef{Pid: cmd.Process.Pid}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := collect(t, tt.ref)
			if s.NS.Inode != want || s.LinkByName("eth0") == nil {
				t.Errorf("inode %d want %d", s.NS.Inode, want)
			}
			// Whatever the ref, a named namespace is known by its name.
			if s.NS.Name != c.Pod {
				t.Errorf("name %q want %q", s.NS.Name, c.Pod)
			}
			if s.NS.Pid != tt.ref.Pid || s.NS.Path != tt.ref.Path {
				t.Errorf("identity %+v for ref %+v", s.NS, tt.ref)
			}
		})
	}
	t.Run("current", func(t *testing.T) {
		s := collect(t, NSRef{})
		fi, err := os.Stat("/proc/self/ns/net")
		if err != nil {
			t.Fatal(err)
		}
		if s.NS.Inode != inodeOf(fi) || len(s.Links) == 0 {
			t.Errorf("current namespace: inode %d links %d", s.NS.Inode, len(s.Links))
		}
	})
}

func TestCollectBadRefs(t *testing.T) {
	netnstest.RequireRoot(t)
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ref  NSRef
		want string
		gone bool
	}{
		{"missing name", NSRef{Name: "podlab-no-such-ns"}, `network namespace "podlab-no-such-ns" is gone`, true},
		{"missing path", NSRef{Path: filepath.Join(dir, "nope")}, "is gone", true},
		{"plain file", NSRef{Path: plain}, "is not a namespace file", true},
		{"other namespace kind", NSRef{Path: "/proc/self/ns/uts"}, "is not a network namespace", false},
		{"no such pid", NSRef{Pid: 1 << 30}, `network namespace "pid:1073741824" is gone`, true},
		{"name with slash", NSRef{Name: "../etc"}, "bad namespace name", false},
		{"negative pid", NSRef{Pid: -3}, "bad namespace pid", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Collect(context.Background(), tt.ref)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line containing %q", err, tt.want)
			}
			if errors.Is(err, ErrNamespaceGone) != tt.gone {
				t.Errorf("errors.Is(ErrNamespaceGone) = %v", !tt.gone)
			}
		})
	}
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := Collect(ctx, NSRef{}); !errors.Is(err, context.Canceled) {
			t.Errorf("err %v", err)
		}
	})
}

// A namespace deleted while podlab collects it in a loop gives an error
// on the next collection, never a panic or a half-filled snapshot.
func TestCollectNamespaceDeletedMidway(t *testing.T) {
	netnstest.RequireRoot(t)
	name := netnstest.Name("plgone")
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	netnstest.Run(t, name, "ip", "link", "add", "a0", "type", "veth", "peer", "name", "b0")

	deleted := make(chan struct{})
	go func() {
		time.Sleep(30 * time.Millisecond)
		exec.Command("ip", "netns", "del", name).Run()
		close(deleted)
	}()
	var err error
	for i := 0; ; i++ {
		var s *netview.Snapshot
		s, err = Collect(context.Background(), NSRef{Name: name})
		if err != nil {
			break
		}
		if s.LinkByName("a0") == nil || s.LinkByName("b0") == nil {
			t.Fatalf("collection %d returned a partial snapshot: %+v", i, s.Links)
		}
		select {
		case <-deleted:
			if i > 10000 {
				t.Fatal("collection still succeeds after the namespace was deleted")
			}
		default:
		}
	}
	<-deleted
	if !errors.Is(err, ErrNamespaceGone) || !strings.Contains(err.Error(), `network namespace "`+name+`" is gone`) {
		t.Errorf("error %v", err)
	}
}

// TestReadSysctl reads settings written with the sysctl command in a
// throw-away namespace, so what it expects is what was written, not what
// another read of the same files says.
func TestReadSysctl(t *testing.T) {
	netnstest.RequireRoot(t)
	ns := netnstest.New(t, "sysctl")
	netnstest.Run(t, ns, "ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1")
	netnstest.Run(t, ns, "sysctl", "-qw",
		"net.ipv4.ip_forward=1",
		"net.ipv4.conf.v0.proxy_arp=1",
		"net.ipv4.conf.v0.rp_filter=2",
		"net.ipv4.neigh.v0.proxy_delay=0", // Calico's; the default is 80
		"net.ipv4.conf.v1.proxy_arp=0",
	)
	tests := []struct {
		rel  string
		want int
		ok   bool
	}{
		{"ipv4/ip_forward", 1, true},
		{"ipv4/conf/v0/proxy_arp", 1, true},
		{"ipv4/conf/v0/rp_filter", 2, true},
		{"ipv4/neigh/v0/proxy_delay", 0, true},
		{"ipv4/neigh/v1/proxy_delay", 80, true},
		{"ipv4/conf/v1/proxy_arp", 0, true},
		{"ipv4/conf/no-such-link/proxy_arp", 0, false},
		{"ipv4/tcp_rmem", 0, false}, // three numbers: not one
	}
	nsf, err := openNS(NSRef{Name: ns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nsf.Close() })
	for _, tt := range tests {
		t.Run(tt.rel, func(t *testing.T) {
			var got int
			var ok bool
			if err := inNS(nsf, func() error { got, ok = readSysctl(tt.rel); return nil }); err != nil {
				t.Fatal(err)
			}
			if got != tt.want || ok != tt.ok {
				t.Fatalf("readSysctl(%q) = %d, %v; want %d, %v", tt.rel, got, ok, tt.want, tt.ok)
			}
		})
	}
}
