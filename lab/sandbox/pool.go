package sandbox

import (
	"net/netip"
	"slices"

	"podlab/netview"
)

// The course's second lesson adds a pool outside the default one (an
// "external" pool, /29 blocks) and a namespace whose pods take their
// addresses from it (--external-pool). Calico's nodes announce every
// block they own; host1's import filter is what keeps the default
// pool's /26s out of its table and lets the /29s in.
const (
	defaultPoolName   = "default-ipv4-ippool"
	externalPoolName  = "external-pool"
	externalNamespace = "external-ns"
	externalBlockSize = 29
)

var (
	// defaultPool is the pool the lesson's blocks come from: the first
	// half of the cluster CIDR, as the course installs Calico.
	defaultPool  = netip.MustParsePrefix("198.19.16.0/21")
	externalPool = netip.MustParsePrefix("198.19.24.0/21")
)

// externalBlocks are the nodes' /29 blocks of the external pool.
var externalBlocks = map[string]netip.Prefix{
	"control": netip.MustParsePrefix("198.19.24.0/29"),
	"node1":   netip.MustParsePrefix("198.19.24.8/29"),
	"node2":   netip.MustParsePrefix("198.19.24.16/29"),
}

// externalPods are the external namespace's pods, one per node (a
// Deployment of three spread over the nodes), each with the first
// address of its node's /29.
var externalPods = []podSpec{
	{externalNamespace, "nginx-7d9b8c5f4d-h2xqp", "control", netip.MustParseAddr("198.19.24.0")},
	{externalNamespace, "nginx-7d9b8c5f4d-m8wzk", "node1", netip.MustParseAddr("198.19.24.8")},
	{externalNamespace, "nginx-7d9b8c5f4d-t5vnc", "node2", netip.MustParseAddr("198.19.24.16")},
}

// allPodSpecs are every pod a sandbox of any options may make.
func allPodSpecs() []podSpec {
	return slices.Concat(podSpecs, []podSpec{borrowedPod}, externalPods)
}

// Resources are Calico's objects and settings the sandbox stands for,
// as a cluster's API server would list them, as the applied actions
// have them: its pools (the external one with external-pool), host1 as
// a global BGPPeer (peer-host1), the BGPConfiguration with the service
// ranges advertised (advertise-cluster-ips, advertise-external-ips),
// and the Services.
func (s *State) Resources() netview.Resources {
	r := netview.Resources{Pools: []netview.IPPool{{
		Name: defaultPoolName, CIDR: defaultPool, BlockSize: blockSize,
		IPIPMode: "Never", VXLANMode: "Never", NATOutgoing: true, NodeSelector: "all()",
	}}}
	if s.Mode == netview.ModeVXLAN {
		r.Pools[0].VXLANMode = "Always"
	}
	if s.ExternalPool {
		r.Pools = append(r.Pools, netview.IPPool{
			Name: externalPoolName, CIDR: externalPool, BlockSize: externalBlockSize,
			IPIPMode: "Never", VXLANMode: "Never", NATOutgoing: true, NodeSelector: "all()",
		})
	}
	cfg := netview.BGPConfiguration{Name: "default", ASNumber: asNumber}
	if s.Host1 {
		r.Peers = []netview.BGPPeer{{Name: host1Name, PeerIP: host1IP, ASNumber: asNumber}}
	}
	if s.Applied(ActAdvertiseClusterIPs) {
		cfg.ServiceClusterIPs = []netip.Prefix{serviceCIDR}
	}
	if s.Applied(ActAdvertiseExternalIPs) {
		cfg.ServiceExternalIPs = []netip.Prefix{externalIPCIDR}
	}
	r.BGPConfigs = []netview.BGPConfiguration{cfg}
	r.Services, r.EndpointSlices = s.Services(), s.EndpointSlices()
	return r
}
