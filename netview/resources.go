package netview

import "net/netip"

// The cluster's objects the lesson on IP pools and BGP peering reads:
// Calico's IPPool, BGPPeer and BGPConfiguration (crd.projectcalico.org/v1,
// as `calicoctl get` shows them) and the Services and EndpointSlices of
// a namespace. A lab reads them from the API server.

// Resources are those objects, each list sorted by name; Unreadable
// says which could not be read and why, in one line each.
type Resources struct {
	Pools          []IPPool           `json:"ip_pools,omitempty"`
	Peers          []BGPPeer          `json:"bgp_peers,omitempty"`
	BGPConfigs     []BGPConfiguration `json:"bgp_configurations,omitempty"`
	Services       []Service          `json:"services,omitempty"`
	EndpointSlices []EndpointSlice    `json:"endpoint_slices,omitempty"`
	Unreadable     []ResourceGap      `json:"unreadable,omitempty"`
}

// ResourceGap is a kind of object that could not be read: its resource
// ("ippools.crd.projectcalico.org") and why.
type ResourceGap struct {
	Resource string `json:"resource"`
	Reason   string `json:"reason"`
}

// IPPool is one of Calico's IP pools: where pods' addresses come from,
// cut in blocks of BlockSize bits given to nodes.
type IPPool struct {
	Name      string       `json:"name"`
	CIDR      netip.Prefix `json:"cidr,omitzero"`
	BlockSize int          `json:"block_size,omitempty"`
	// IPIPMode and VXLANMode are Never, Always or CrossSubnet (Never
	// when unset).
	IPIPMode    string `json:"ipip_mode,omitempty"`
	VXLANMode   string `json:"vxlan_mode,omitempty"`
	NATOutgoing bool   `json:"nat_outgoing,omitempty"`
	Disabled    bool   `json:"disabled,omitempty"`
	// NodeSelector picks the nodes whose pods take addresses from the
	// pool (Calico's selector syntax; "all()" or "" for every node).
	NodeSelector string `json:"node_selector,omitempty"`
}

// BGPPeer is a BGP peer Calico's nodes add to their mesh: host1, a
// route reflector, a top-of-rack router.
type BGPPeer struct {
	Name   string     `json:"name"`
	PeerIP netip.Addr `json:"peer_ip,omitzero"`
	// PeerPort is set when peerIP names one ("198.19.15.254:179").
	PeerPort uint16 `json:"peer_port,omitempty"`
	ASNumber uint32 `json:"as_number,omitempty"`
	// Node and NodeSelector say which nodes peer with it; both empty:
	// every node.
	Node         string `json:"node,omitempty"`
	NodeSelector string `json:"node_selector,omitempty"`
}

// BGPConfiguration is Calico's BGP settings, cluster-wide (named
// default) or for one node (node.<name>).
type BGPConfiguration struct {
	Name     string `json:"name"`
	ASNumber uint32 `json:"as_number,omitempty"`
	// NodeToNodeMeshEnabled is nil when unset: Calico then meshes.
	NodeToNodeMeshEnabled *bool `json:"node_to_node_mesh_enabled,omitempty"`
	// The service ranges the nodes advertise over BGP.
	ServiceClusterIPs  []netip.Prefix `json:"service_cluster_ips,omitempty"`
	ServiceExternalIPs []netip.Prefix `json:"service_external_ips,omitempty"`
}

// MeshEnabled says whether the nodes peer with each other: Calico's
// default when the setting is absent.
func (c *BGPConfiguration) MeshEnabled() bool {
	return c.NodeToNodeMeshEnabled == nil || *c.NodeToNodeMeshEnabled
}

// Service is what the lesson reads of a Service.
type Service struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Type is ClusterIP, NodePort, LoadBalancer or ExternalName.
	Type        string       `json:"type,omitempty"`
	ClusterIPs  []netip.Addr `json:"cluster_ips,omitempty"`
	ExternalIPs []netip.Addr `json:"external_ips,omitempty"`
	// ExternalTrafficPolicy is Cluster or Local: with Local, only the
	// nodes with an endpoint take (and advertise) the external traffic.
	ExternalTrafficPolicy string        `json:"external_traffic_policy,omitempty"`
	Ports                 []ServicePort `json:"ports,omitempty"`
}

// ServicePort is one port of a Service.
type ServicePort struct {
	Name       string `json:"name,omitempty"`
	Protocol   string `json:"protocol,omitempty"`
	Port       int32  `json:"port"`
	TargetPort string `json:"target_port,omitempty"`
	NodePort   int32  `json:"node_port,omitempty"`
}

// EndpointSlice is one slice of a Service's endpoints.
type EndpointSlice struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Service is the Service it belongs to (its kubernetes.io/service-name
	// label).
	Service     string     `json:"service,omitempty"`
	AddressType string     `json:"address_type,omitempty"`
	Endpoints   []Endpoint `json:"endpoints,omitempty"`
}

// Endpoint is one endpoint of a slice: its addresses and where it runs.
type Endpoint struct {
	Addresses []netip.Addr `json:"addresses,omitempty"`
	Node      string       `json:"node,omitempty"`
	// Pod names the pod behind it, when the slice says.
	Pod string `json:"pod,omitempty"`
	// Ready is the endpoint's condition; an unset one counts as ready,
	// as Kubernetes reads it.
	Ready bool `json:"ready"`
}

// Sanitize cleans and cuts every string of the resources.
func (r *Resources) Sanitize() { r.each(sanitize) }

func (r *Resources) each(f visit) {
	for i := range r.Pools {
		p := &r.Pools[i]
		f.at(&p.Name, kindK8sName)
		f.at(&p.IPIPMode, kindWord)
		f.at(&p.VXLANMode, kindWord)
		f.at(&p.NodeSelector, kindText)
	}
	for i := range r.Peers {
		p := &r.Peers[i]
		f.at(&p.Name, kindK8sName)
		zone(f, &p.PeerIP)
		f.at(&p.Node, kindK8sName)
		f.at(&p.NodeSelector, kindText)
	}
	for i := range r.BGPConfigs {
		f.at(&r.BGPConfigs[i].Name, kindK8sName)
	}
	for i := range r.Services {
		s := &r.Services[i]
		f.at(&s.Namespace, kindK8sLabel)
		f.at(&s.Name, kindK8sName)
		f.at(&s.Type, kindWord)
		for j := range s.ClusterIPs {
			zone(f, &s.ClusterIPs[j])
		}
		for j := range s.ExternalIPs {
			zone(f, &s.ExternalIPs[j])
		}
		f.at(&s.ExternalTrafficPolicy, kindWord)
		for j := range s.Ports {
			p := &s.Ports[j]
			f.at(&p.Name, kindWord)
			f.at(&p.Protocol, kindWord)
			f.at(&p.TargetPort, kindWord)
		}
	}
	for i := range r.EndpointSlices {
		s := &r.EndpointSlices[i]
		f.at(&s.Namespace, kindK8sLabel)
		f.at(&s.Name, kindK8sName)
		f.at(&s.Service, kindK8sName)
		f.at(&s.AddressType, kindWord)
		for j := range s.Endpoints {
			e := &s.Endpoints[j]
			for k := range e.Addresses {
				zone(f, &e.Addresses[k])
			}
			f.at(&e.Node, kindK8sName)
			f.at(&e.Pod, kindK8sName)
		}
	}
	for i := range r.Unreadable {
		f.at(&r.Unreadable[i].Resource, kindWord)
		f.at(&r.Unreadable[i].Reason, kindText)
	}
}
