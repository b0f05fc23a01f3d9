package netview

import "net/netip"

// Analysis is what the lesson asks a student to work out from a pod's and
// a host's views; every conclusion carries the reason for it.
type Analysis struct {
	Veth    VethPair `json:"veth"`
	Gateway Gateway  `json:"gateway"`
	// Gateway6 is the pod's IPv6 next hop, when the pod has IPv6: an
	// IPv6 address or an IPv6 default route.
	Gateway6 *Gateway6    `json:"gateway6,omitempty"`
	Routes   []RouteClass `json:"routes"`
	// ExpectedHostIf is cali + SHA-1("<namespace>.<pod>")[:11], when the
	// pod's name is known.
	ExpectedHostIf string `json:"expected_host_if,omitempty"`
	// Problems are the things that do not look as Calico makes them.
	Problems []string `json:"problems,omitempty"`
}

// VethPair is the pod's eth0 and its host end, seen from both sides.
type VethPair struct {
	PodIf         string `json:"pod_if"`
	PodIndex      int    `json:"pod_index"`
	PodPeerIndex  int    `json:"pod_peer_index"` // the N of eth0@ifN
	PodNetNSID    int    `json:"pod_link_netnsid"`
	HostIf        string `json:"host_if"`
	HostIndex     int    `json:"host_index"`
	HostPeerIndex int    `json:"host_peer_index"` // the M of cali…@ifM
	HostNetNSID   int    `json:"host_link_netnsid"`
	// HostLinkNetns is the name the host gives the pod's namespace
	// (cni-…), when known.
	HostLinkNetns string `json:"host_link_netns,omitempty"`
	Agree         bool   `json:"agree"`
	// Reason says why they agree, or which side disagrees.
	Reason string `json:"reason"`
}

// Gateway is Calico's next hop (CalicoGateway) and what confirms it.
type Gateway struct {
	Address netip.Addr `json:"address"`
	// DefaultRoute: the pod's default route goes via Address.
	DefaultRoute bool `json:"default_route"`
	// LinkRoute: the pod has a scope-link route to Address on eth0.
	LinkRoute bool `json:"link_route"`
	// NeighMAC is the pod's neighbour entry for Address, if resolved
	// (CalicoMAC when the host end answered).
	NeighMAC   string `json:"neigh_mac,omitempty"`
	NeighState string `json:"neigh_state,omitempty"`
	// HostProxyARP: proxy_arp=1 on the host end, which answers the ARP.
	HostProxyARP bool `json:"host_proxy_arp"`
	// HostMAC is the host end's MAC.
	HostMAC string `json:"host_mac,omitempty"`
	// Confirmed lists, in words, what confirmed the gateway.
	Confirmed []string `json:"confirmed"`
}

// Class is what a route is for, in the lesson's terms.
type Class string

// The route classes; pod-side classes first.
const (
	ClassPodDefault          Class = "pod-default"
	ClassPodGateway          Class = "pod-gateway"
	ClassLocalPod            Class = "local-pod"
	ClassLocalBlockBlackhole Class = "local-block-blackhole"
	ClassRemoteBlock         Class = "remote-block"
	ClassRemotePod           Class = "remote-pod"
	// ClassTunnelEndpoint is Felix's route to another node's VXLAN
	// tunnel address: <vtep> dev vxlan.calico scope link.
	ClassTunnelEndpoint Class = "tunnel-endpoint"
	// ClassServiceRange is a service range learned from the nodes (host1
	// learns the cluster and external IP ranges when they are advertised).
	ClassServiceRange Class = "service-range"
	ClassDefault      Class = "default"
	ClassConnected    Class = "connected"
	ClassOther        Class = "other"
)

// Side says which namespace a route belongs to.
type Side string

// The two sides.
const (
	SidePod  Side = "pod"
	SideHost Side = "host"
)

// RouteClass is one route with its class and the reason for it.
type RouteClass struct {
	Side  Side   `json:"side"`
	Dst   string `json:"dst"` // as ip prints it: "default", "198.19.22.132", "198.19.21.0/26"
	Class Class  `json:"class"`
	// RouteWords are shared by the routes of an analysis that have them
	// all alike: a node's thousands of remote blocks behind one next hop
	// hold one. Never nil in an analysis; never changed once made.
	*RouteWords
	// Route is the route itself, in the analysed snapshot (which the
	// analysis so keeps alive: a copy here would double a large node's
	// routes). Nil in an analysis read back from JSON.
	Route *Route `json:"-"`
}

// RouteWords is what an analysis says of a route besides where it goes.
type RouteWords struct {
	Dev     string `json:"dev,omitempty"`
	Gateway string `json:"gateway,omitempty"`
	Proto   string `json:"proto,omitempty"` // as ip names it: bird, kernel, 80, ...
	Type    string `json:"type,omitempty"`  // unicast, blackhole...
	// Peer names what the route leads to: a pod ("yaobank/customer-…"),
	// a node ("node2"), when facts say.
	Peer string `json:"peer,omitempty"`
	// Pod names the pod holding a remote-pod /32 (a borrowed IP), when
	// facts say; Peer is then its node.
	Pod string `json:"pod,omitempty"`
	// Encap is what a route to another node wraps packets in: "vxlan",
	// "ipip", or "" for none (what a map groups routes by; never the
	// protocol number, which differs between Felix's versions).
	Encap  string `json:"encap,omitempty"`
	Reason string `json:"reason"`
	// NextHops name a multipath route's next hops, in its order; nil for
	// a route with one. A pointer keeps RouteWords comparable, and small
	// for the many routes with none: Hops reads it.
	NextHops *[]HopWords `json:"nexthops,omitempty"`
}

// Hops are a multipath route's next hops, as the analysis names them;
// nil for a route with one.
func (w *RouteWords) Hops() []HopWords {
	if w == nil || w.NextHops == nil {
		return nil
	}
	return *w.NextHops
}

// HopWords are what an analysis says of one next hop of a multipath
// route.
type HopWords struct {
	Gateway string `json:"gateway,omitempty"`
	Dev     string `json:"dev,omitempty"`
	// Peer is the node the next hop is, when facts say.
	Peer string `json:"peer,omitempty"`
}

// wordsOf hands out one RouteWords for all that read alike.
type wordsOf map[RouteWords]*RouteWords

// intern returns the one RouteWords that reads as *w, a copy of *w when
// it is the first: w itself may be reused.
func (m wordsOf) intern(w *RouteWords) *RouteWords {
	if have, ok := m[*w]; ok {
		return have
	}
	c := new(RouteWords)
	*c = *w
	m[*c] = c
	return c
}
