package netview

import "strings"

// Tag says what a piece of rendered text means; ui and `podlab show` map
// tags to styles, never to meanings of their own.
type Tag string

// Tags. Route classes tag their lines with "route-" + the class.
const (
	TagNone     Tag = ""
	TagVethPod  Tag = "veth-pod"  // the pod's eth0 and its @ifN
	TagVethHost Tag = "veth-host" // the host's cali… end and its @ifM
	TagGateway  Tag = "gateway"   // CalicoGateway wherever it appears
	TagPodIP    Tag = "pod-ip"    // the pod's own address
	TagNetnsID  Tag = "netnsid"   // link-netnsid N / link-netns cni-…
	TagMAC      Tag = "mac"       // CalicoMAC and the pod MAC
	TagIfName   Tag = "ifname"    // any other interface name
	TagFlags    Tag = "flags"     // <BROADCAST,...>
	TagState    Tag = "state"     // state UP/DOWN
	TagMuted    Tag = "muted"     // valid_lft lines and other noise
)

// The tags of the views of what a lesson reads beyond the pair (RenderExtra).
const (
	TagSessionUp    Tag = "session-up"    // a BGP session BIRD calls Established
	TagSessionDown  Tag = "session-down"  // a BGP session that is not
	TagPool         Tag = "pool"          // an IP pool whose blocks stay inside the cluster
	TagPoolExternal Tag = "pool-external" // an IP pool whose blocks host1 learns
	TagPeer         Tag = "peer"          // a BGP peer (BGPPeer, or the neighbour of a session)
	TagServiceRange Tag = "service-range" // a service range the nodes advertise over BGP
	TagService      Tag = "service"       // a Service, its cluster IP and ports
	TagEndpoint     Tag = "endpoint"      // an endpoint: a pod's address behind a Service
	TagKubeServices Tag = "kube-services" // KUBE-SERVICES (nftables: the service-ips map)
	TagKubeSVC      Tag = "kube-svc"      // a service port's KUBE-SVC chain (nftables: service-)
	TagKubeSEP      Tag = "kube-sep"      // an endpoint's KUBE-SEP chain (nftables: endpoint-)
	TagDNAT         Tag = "dnat"          // the DNAT to an endpoint's address and port
	TagProbability  Tag = "probability"   // the statistic match that picks an endpoint
	TagCounterMoved Tag = "counter-moved" // a rule's counters that grew since the last refresh
	TagNodePort     Tag = "nodeport"      // KUBE-NODEPORTS, a node port and its KUBE-EXT chain
)

// tagDocs say what each tag of RenderExtra's views marks, for the docs
// and the legends.
var tagDocs = []struct {
	tag Tag
	doc string
}{
	{TagSessionUp, "a BGP session BIRD calls Established"},
	{TagSessionDown, "a BGP session that is not Established, with BIRD's last error"},
	{TagPool, "an IP pool whose blocks stay inside the cluster"},
	{TagPoolExternal, "an IP pool whose blocks host1 learns (its import filter admits them)"},
	{TagPeer, "a BGP peer: a BGPPeer resource, or the neighbour of a session"},
	{TagServiceRange, "a service range the nodes advertise over BGP (serviceClusterIPs, serviceExternalIPs)"},
	{TagService, "a Service: its name, cluster IP and ports"},
	{TagEndpoint, "an endpoint: the address of a pod behind a Service"},
	{TagKubeServices, "KUBE-SERVICES, where kube-proxy sends each service port to its chain"},
	{TagKubeSVC, "a service port's KUBE-SVC chain, named from a hash of the port's name"},
	{TagKubeSEP, "an endpoint's KUBE-SEP chain, named from a hash of the port's name and the endpoint"},
	{TagDNAT, "the DNAT that rewrites the destination to an endpoint's address and port"},
	{TagProbability, "the statistic match that picks an endpoint at random"},
	{TagCounterMoved, "packet and byte counters that grew since the last refresh"},
	{TagNodePort, "KUBE-NODEPORTS, a node port and the KUBE-EXT chain it jumps to"},
}

// ExtraTags are the tags of RenderExtra's views, in the order of their docs.
func ExtraTags() []Tag {
	out := make([]Tag, len(tagDocs))
	for i, d := range tagDocs {
		out[i] = d.tag
	}
	return out
}

// TagDoc says what a tag of RenderExtra's views marks; "" for another tag.
func TagDoc(t Tag) string {
	for _, d := range tagDocs {
		if d.tag == t {
			return d.doc
		}
	}
	return ""
}

// RouteTag is the tag of a route class.
func RouteTag(c Class) Tag {
	if t, ok := routeTags[c]; ok {
		return t // no new string for each of a node's routes
	}
	return Tag("route-" + string(c))
}

// Classes are every route class, pod-side ones first: for legends and
// styles that must cover each.
func Classes() []Class {
	return []Class{ClassPodDefault, ClassPodGateway, ClassLocalPod, ClassLocalBlockBlackhole,
		ClassRemoteBlock, ClassRemotePod, ClassTunnelEndpoint, ClassServiceRange, ClassDefault, ClassConnected, ClassOther}
}

var routeTags = func() map[Class]Tag {
	m := map[Class]Tag{}
	for _, c := range Classes() {
		m[c] = Tag("route-" + string(c))
	}
	return m
}()

// Span is a run of text with one meaning.
type Span struct {
	Text string `json:"text"`
	Tag  Tag    `json:"tag,omitempty"`
}

// Line is one line of a rendered view. Key identifies what the line is
// about (e.g. "link:9", "route:198.19.22.132"), so a UI can select it
// and explain it.
type Line struct {
	Key   string `json:"key,omitempty"`
	Spans []Span `json:"spans"`
	// Label and Why are what the UI shows for the selected line: a short
	// noun phrase, and one or two sentences in the lesson's terms. Views
	// whose lines an analysis explains elsewhere leave them empty.
	Label string `json:"label,omitempty"`
	Why   string `json:"why,omitempty"`
}

// String is the line's plain text.
func (l Line) String() string {
	var b strings.Builder
	for _, s := range l.Spans {
		b.WriteString(s.Text)
	}
	return b.String()
}

// HasTag reports whether any span of the line carries the tag.
func (l Line) HasTag(t Tag) bool {
	for _, s := range l.Spans {
		if s.Tag == t {
			return true
		}
	}
	return false
}

// Plain joins lines into text with no styling.
func Plain(lines []Line) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.String())
		b.WriteByte('\n')
	}
	return b.String()
}
