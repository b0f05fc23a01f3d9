package netview

import (
	"cmp"
	"net/netip"
	"time"
)

// Schema names the recording format; a file with another schema is refused.
const Schema = "podlab/v1"

// Pair is what every lab produces: the pod's namespace and its node's host
// namespace, taken together, and what is known about the cluster.
type Pair struct {
	Pod   Snapshot `json:"pod"`
	Host  Snapshot `json:"host"`
	Facts Facts    `json:"facts"`
	// Extra is what the lab read beyond the two namespaces because the
	// lesson wanted it (Wants); nil for the first lesson.
	Extra *Extra `json:"extra,omitempty"`
}

// Recording is the versioned JSON form of a Pair: `podlab record` writes
// it and `--lab replay=FILE` reads it.
type Recording struct {
	Schema     string    `json:"schema"`
	Lab        string    `json:"lab"` // the kind of lab it was taken from: cluster, sandbox, netns
	RecordedAt time.Time `json:"recorded_at"`
	Note       string    `json:"note,omitempty"`
	Pair
}

// Facts are what the cluster (or the sandbox) says about the pod and its
// neighbours; they name what the snapshots only number.
type Facts struct {
	Pod  PodFact `json:"pod"`
	Node string  `json:"node"` // the pod's node
	// Mode is the dataplane mode.
	Mode Mode `json:"mode,omitempty"`
	// InterfacePrefix is Felix's host-side veth prefix (empty: the default).
	InterfacePrefix string     `json:"interface_prefix,omitempty"`
	Pods            []PodFact  `json:"pods,omitempty"`
	Nodes           []NodeFact `json:"nodes,omitempty"`
	Blocks          []Block    `json:"blocks,omitempty"`
	// BlockSize is the IPAM block prefix length (26 by default).
	BlockSize int `json:"block_size,omitempty"`
	// ClusterCIDR is the IP pool the blocks come from.
	ClusterCIDR netip.Prefix `json:"cluster_cidr,omitzero"`
	// ClusterCIDR6 and BlockSize6 are the IPv6 pool and its block prefix
	// length (122 by default) in a dual-stack cluster. Blocks holds the
	// blocks of both families.
	ClusterCIDR6 netip.Prefix `json:"cluster_cidr6,omitzero"`
	BlockSize6   int          `json:"block_size6,omitempty"`
}

// PodFact is one pod.
type PodFact struct {
	Namespace string     `json:"namespace"`
	Name      string     `json:"name"`
	IP        netip.Addr `json:"ip,omitzero"`
	// IP6 is its IPv6 address, in a dual-stack cluster.
	IP6   netip.Addr `json:"ip6,omitzero"`
	Node  string     `json:"node,omitempty"`
	Phase string     `json:"phase,omitempty"`
}

// NodeFact is one node.
type NodeFact struct {
	Name       string     `json:"name"`
	InternalIP netip.Addr `json:"internal_ip,omitzero"`
	// InternalIP6 is its IPv6 InternalIP, in a dual-stack cluster.
	InternalIP6 netip.Addr `json:"internal_ip6,omitzero"`
}

// Block is one Calico IPAM block and the node it is affine to.
type Block struct {
	CIDR netip.Prefix `json:"cidr"`
	Node string       `json:"node"`
}

// NodeByIP returns the name of the node with that InternalIP (of either
// family), or "".
func (f *Facts) NodeByIP(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	for _, n := range f.Nodes {
		if n.InternalIP == ip || n.InternalIP6 == ip {
			return n.Name
		}
	}
	return ""
}

// PodByIP returns the pod with that IP (of either family), or nil.
func (f *Facts) PodByIP(ip netip.Addr) *PodFact {
	if !ip.IsValid() {
		return nil
	}
	for i := range f.Pods {
		if f.Pods[i].IP == ip || f.Pods[i].IP6 == ip {
			return &f.Pods[i]
		}
	}
	return nil
}

// Prefix returns the host-side interface prefix, the default unless set.
func (f *Facts) Prefix() string { return cmp.Or(f.InterfacePrefix, DefaultInterfacePrefix) }
