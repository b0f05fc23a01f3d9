package sandbox

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"podlab/netview"
)

// The lesson's lab, in values.
var (
	fabricNet   = netip.MustParsePrefix("198.19.0.0/20")
	clusterCIDR = netip.MustParsePrefix("198.19.16.0/20")
	host1IP     = netip.MustParseAddr("198.19.15.254")
	// gatewayIP stands in for the nodes' DHCP gateway: it lives on the
	// fabric bridge, which has no uplink, and exists so that each node has
	// a default route (proxy ARP answers Calico's gateway only when the node
	// has a route covering it).
	gatewayIP = netip.MustParseAddr("198.19.15.253")
	hostMAC   = mustMAC(netview.CalicoMAC)
)

const (
	asNumber    = 64512
	blockSize   = 26
	podMTU      = 1410
	nodeMTU     = 1500
	vxlanName   = "vxlan.calico"
	vxlanVNI    = 4096
	vxlanPort   = 4789
	vxlanMTU    = 1410
	bridgeName  = "br0"
	nodeEthIdx  = 2
	vxlanIdx    = 4
	podEthIdx   = 3
	firstCaliIf = 5
	protoBird   = 12
	protoFelix  = 80
)

// CustomerNamespace and CustomerPod name the pod the lesson follows;
// CustomerSelector finds it, and its replacements, by label.
const (
	CustomerNamespace = netview.DefaultNamespace
	CustomerPod       = "customer-574bd6cc75-2blnv"
	CustomerSelector  = netview.DefaultSelector
	CustomerNode      = "node1"
)

// calicoSysctls are what Calico's CNI plugin sets on a host end, in the
// order it sets them.
var calicoSysctls = []sysctl{
	{netview.SysctlProxyARP, "1"},
	{netview.SysctlProxyDelay, "0"},
	{netview.SysctlForwarding, "1"},
	{netview.SysctlRouteLocalnet, "1"},
	{netview.SysctlAcceptRA, "0"},
}

// controlNode is the course's control-plane node.
const controlNode = "control"

type nodeSpec struct {
	name  string
	ip    netip.Addr
	block netip.Prefix
}

var nodeSpecs = []nodeSpec{
	{"control", netip.MustParseAddr("198.19.0.1"), netip.MustParsePrefix("198.19.21.0/26")},
	{"node1", netip.MustParseAddr("198.19.0.2"), netip.MustParsePrefix("198.19.22.128/26")},
	{"node2", netip.MustParseAddr("198.19.0.3"), netip.MustParsePrefix("198.19.21.64/26")},
}

type podSpec struct {
	namespace, name, node string
	ip                    netip.Addr
}

// podSpecs are the cluster's pods in creation order, so that node1's
// host ends get indexes 5..9 with the customer's last (9), as in the
// lesson. node1 holds exactly the five pods .128-.132.
var podSpecs = []podSpec{
	{"calico-system", "csi-node-driver-hq9tf", "control", netip.MustParseAddr("198.19.21.0")},
	{"calico-system", "calico-kube-controllers-5f9c5d8d6b-qh2xr", "control", netip.MustParseAddr("198.19.21.1")},
	{"kube-system", "coredns-787d4945fb-7vmtx", "control", netip.MustParseAddr("198.19.21.2")},
	{"kube-system", "coredns-787d4945fb-lg8qz", "node1", netip.MustParseAddr("198.19.22.128")},
	{"calico-apiserver", "calico-apiserver-7c5b8d9f6-kx4wd", "node1", netip.MustParseAddr("198.19.22.129")},
	{CustomerNamespace, "summary-85c56b76d7-28hm5", "node1", netip.MustParseAddr("198.19.22.130")},
	{"calico-system", "csi-node-driver-7xk2p", "node1", netip.MustParseAddr("198.19.22.131")},
	{CustomerNamespace, CustomerPod, "node1", netip.MustParseAddr("198.19.22.132")},
	{"calico-system", "csi-node-driver-m5q8d", "node2", netip.MustParseAddr("198.19.21.64")},
	{CustomerNamespace, "database-6c5db58d95-mzp4n", "node2", netip.MustParseAddr("198.19.21.65")},
	{CustomerNamespace, "summary-85c56b76d7-v9qbz", "node2", netip.MustParseAddr("198.19.21.66")},
	{"calico-apiserver", "calico-apiserver-7c5b8d9f6-r8nwl", "node2", netip.MustParseAddr("198.19.21.67")},
}

// podLabels are a pod's labels, as its Deployment or DaemonSet gives them
// in the lesson's cluster; a replacement has its original's.
func podLabels(namespace, name string) map[string]string {
	// Deployments' pods end in -<template hash>-<suffix>, DaemonSets'
	// in -<suffix>.
	owner := baseName(name)
	switch {
	case namespace == CustomerNamespace:
		return map[string]string{"app": baseName(owner), "version": "v1"}
	case namespace == externalNamespace:
		return map[string]string{"app": baseName(owner)}
	case strings.HasPrefix(name, "coredns-"):
		return map[string]string{"k8s-app": "kube-dns"}
	case strings.HasPrefix(name, "csi-node-driver-"):
		return map[string]string{"k8s-app": owner}
	case strings.HasPrefix(name, "calico-apiserver-"):
		return map[string]string{"k8s-app": "calico-apiserver", "apiserver": "true"}
	case strings.HasPrefix(name, "calico-kube-controllers-"):
		return map[string]string{"k8s-app": "calico-kube-controllers"}
	default:
		return map[string]string{"app": name}
	}
}

// borrowedPod runs on node2 with an address from node1's block, as Calico
// IPAM does when it has no free block left; node2 announces it as a /32.
var borrowedPod = podSpec{"default", "borrowed-ip-demo", "node2", netip.MustParseAddr("198.19.22.140")}

// vethName is the host end's name as Felix gives it with its default
// prefix, which the sandbox keeps.
func vethName(namespace, pod string) string {
	return netview.VethName(netview.DefaultInterfacePrefix, namespace, pod)
}

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// podNSName is the pod's namespace name, shaped like the container
// runtime's cni-<uuid>. The uuid is derived from the sandbox prefix and
// the pod, so two sandboxes with different prefixes never pick the same
// name, and the same sandbox picks the same names each time it is built.
func podNSName(prefix, namespace, pod string) string {
	h := sha1.Sum([]byte("podlab-sandbox\x00" + prefix + "\x00" + namespace + "/" + pod))
	x := hex.EncodeToString(h[:16])
	return fmt.Sprintf("cni-%s-%s-%s-%s-%s", x[0:8], x[8:12], x[12:16], x[16:20], x[20:32])
}

// vtepIP is a node's vxlan.calico address: Calico takes it from the
// node's block; we take the block's second-to-last address so it never
// clashes with the lesson's pods or the borrowed one.
func vtepIP(block netip.Prefix) netip.Addr {
	a := block.Addr().As4()
	a[3] += 62
	return netip.AddrFrom4(a)
}

// vtepMAC is a stable, locally administered MAC for a node's VTEP.
func vtepMAC(ip netip.Addr) net.HardwareAddr {
	a := ip.As4()
	return net.HardwareAddr{0x66, 0x00, a[0], a[1], a[2], a[3]}
}
