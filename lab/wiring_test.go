package lab

import (
	"crypto/rand"
	"fmt"
	"net/netip"
	"testing"

	"podlab/internal/netnstest"
)

// calico is a pod namespace wired to a host namespace exactly as Calico's
// CNI plugin does it, plus a fabric namespace standing in for the node's
// uplink (the host needs a default route for proxy ARP to answer).
type calico struct {
	Pod, Host, Fabric string
	HostIf            string // cali… on the host
	PodIP             netip.Addr
	HostIP, FabricIP  netip.Addr
}

const hostMAC = "ee:ee:ee:ee:ee:ee"

// randomPodIP picks an address no other test is likely to use, so that a
// scan of every namespace on the machine finds only ours.
func randomPodIP(t testing.TB) netip.Addr {
	t.Helper()
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return netip.AddrFrom4([4]byte{10, 128 | b[0]>>1, b[1], 1 + b[2]%250})
}

func buildCalico(t testing.TB) calico {
	t.Helper()
	netnstest.RequireRoot(t)
	c := calico{
		Fabric:   netnstest.New(t, "plcf"),
		Host:     netnstest.New(t, "plch"),
		Pod:      netnstest.New(t, "plcp"),
		HostIf:   netnstest.Name("cali"),
		PodIP:    randomPodIP(t),
		HostIP:   netip.MustParseAddr("198.51.100.2"),
		FabricIP: netip.MustParseAddr("198.51.100.1"),
	}
	run := netnstest.Run
	// The node's uplink: host eth0 <-> fabric, default route via fabric.
	run(t, c.Host, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "fab0", "netns", c.Fabric)
	run(t, c.Host, "ip", "addr", "add", c.HostIP.String()+"/24", "dev", "eth0")
	run(t, c.Host, "ip", "link", "set", "lo", "up")
	run(t, c.Host, "ip", "link", "set", "eth0", "up")
	run(t, c.Fabric, "ip", "addr", "add", c.FabricIP.String()+"/24", "dev", "fab0")
	run(t, c.Fabric, "ip", "link", "set", "fab0", "up")
	run(t, c.Host, "ip", "route", "add", "default", "via", c.FabricIP.String(), "dev", "eth0")
	run(t, c.Host, "sysctl", "-qw", "net.ipv4.ip_forward=1")

	// The CNI plugin creates the veth in the pod and moves the host end out.
	run(t, c.Pod, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", c.HostIf)
	run(t, c.Pod, "ip", "link", "set", c.HostIf, "netns", c.Host)
	run(t, c.Pod, "ip", "link", "set", "lo", "up")
	run(t, c.Pod, "ip", "link", "set", "eth0", "mtu", "1410")
	run(t, c.Pod, "ip", "addr", "add", c.PodIP.String()+"/32", "dev", "eth0")
	run(t, c.Pod, "ip", "link", "set", "eth0", "up")
	run(t, c.Pod, "ip", "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link")
	run(t, c.Pod, "ip", "route", "add", "default", "via", "169.254.1.1", "dev", "eth0")

	run(t, c.Host, "ip", "link", "set", c.HostIf, "address", hostMAC, "mtu", "1410")
	for _, s := range []string{
		"net.ipv4.conf.%s.proxy_arp=1",
		"net.ipv4.neigh.%s.proxy_delay=0",
		"net.ipv4.conf.%s.forwarding=1",
		"net.ipv4.conf.%s.route_localnet=1",
		"net.ipv6.conf.%s.accept_ra=0",
	} {
		run(t, c.Host, "sysctl", "-qw", fmt.Sprintf(s, c.HostIf))
	}
	run(t, c.Host, "ip", "link", "set", c.HostIf, "up")
	run(t, c.Host, "ip", "route", "add", c.PodIP.String(), "dev", c.HostIf, "scope", "link")
	return c
}
