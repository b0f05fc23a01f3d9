package content

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
)

// Fact is one value of the lab that a pack's text, questions and checks
// may read by name. The list below is the whole vocabulary: a pack author's
// guide is written from it (FactsDoc), and a test fails when a template
// key has no line here.
type Fact struct {
	Name string
	// Type is the CEL type an expression sees: string, int, bool, or a
	// list or map for the facts only lab checks read.
	Type string
	Doc  string
	// In says where the fact can be read: "all" (text, questions,
	// checks), "text" (templates only: computed for prose) or "checks".
	In string
	// field points into Vars; nil for a computed fact.
	field func(*Vars) any
}

// labFacts are the pair's values, in the order the guide lists them.
var labFacts = []Fact{
	{"PodName", "string", "the shown pod's name: customer-574bd6cc75-2blnv", "all", func(v *Vars) any { return &v.PodName }},
	{"PodNamespace", "string", "its namespace: yaobank", "all", func(v *Vars) any { return &v.PodNamespace }},
	{"PodIP", "string", "its IPv4 address: 198.19.22.132", "all", func(v *Vars) any { return &v.PodIP }},
	{"Node", "string", "the node it runs on: node1", "all", func(v *Vars) any { return &v.Node }},
	{"PodIf", "string", "the pod's veth: eth0", "all", func(v *Vars) any { return &v.PodIf }},
	{"PodIndex", "int", "the pod veth's interface index: 3", "all", func(v *Vars) any { return &v.PodIndex }},
	{"PodPeerIndex", "int", "the N of eth0@ifN: 9", "all", func(v *Vars) any { return &v.PodPeerIndex }},
	{"PodNetNSID", "string", "the pod veth's link-netnsid: 0", "all", func(v *Vars) any { return &v.PodNetNSID }},
	{"HostIf", "string", "the host end of the veth: caliea2aa288365", "all", func(v *Vars) any { return &v.HostIf }},
	{"HostIndex", "int", "the host end's index: 9", "all", func(v *Vars) any { return &v.HostIndex }},
	{"HostPeerIndex", "int", "the M of cali…@ifM: 3", "all", func(v *Vars) any { return &v.HostPeerIndex }},
	{"HostLinkNetns", "string", "the pod namespace's name seen from the node: cni-…", "all", func(v *Vars) any { return &v.HostLinkNetns }},
	{"ExpectedHostIf", "string", "the host end's name as Calico computes it", "all", func(v *Vars) any { return &v.ExpectedHostIf }},
	{"InterfacePrefix", "string", "the host ends' prefix: cali", "all", func(v *Vars) any { return &v.InterfacePrefix }},
	{"Gateway", "string", "the pod's IPv4 gateway: 169.254.1.1 (Calico's when not known)", "all", func(v *Vars) any { return &v.Gateway }},
	{"GatewayMAC", "string", "the MAC the pod's neighbour entry holds for it", "all", func(v *Vars) any { return &v.GatewayMAC }},
	{"HostProxyARP", "string", "proxy_arp on the host end: \"1\", \"0\", \"\" not read", "all", func(v *Vars) any { return &v.HostProxyARP }},
	{"PodIP6", "string", "a dual-stack pod's IPv6 address", "all", func(v *Vars) any { return &v.PodIP6 }},
	{"Gateway6", "string", "the next hop of its IPv6 default route", "all", func(v *Vars) any { return &v.Gateway6 }},
	{"HostOwnsGateway6", "bool", "the host end holds Gateway6", "all", func(v *Vars) any { return &v.HostOwnsGateway6 }},
	{"OwnBlock6", "string", "the node's IPv6 block", "all", func(v *Vars) any { return &v.OwnBlock6 }},
	{"OwnBlock", "string", "the node's block: 198.19.22.128/26", "all", func(v *Vars) any { return &v.OwnBlock }},
	{"RemoteBlock", "string", "one remote block, as an example: 198.19.21.64/26", "all", func(v *Vars) any { return &v.RemoteBlock }},
	{"RemoteVia", "string", "its next hop: 198.19.0.3", "all", func(v *Vars) any { return &v.RemoteVia }},
	{"RemoteNode", "string", "the node behind it: node2", "all", func(v *Vars) any { return &v.RemoteNode }},
	{"RemoteBlocks", "string", "every remote block with its next hop and node, as one line", "all", func(v *Vars) any { return &v.RemoteBlocks }},
	{"BlockSize", "int", "a block's prefix length: 26 (the text shows /26)", "all", func(v *Vars) any { return &v.BlockSize }},
	{"FreeIP", "string", "an address of the node's block no pod holds", "all", func(v *Vars) any { return &v.FreeIP }},
	{"DeletePod", "string", "a pod on the node other than the shown one: namespace/name", "all", func(v *Vars) any { return &v.DeletePod }},
	{"DeleteIP", "string", "its address", "all", func(v *Vars) any { return &v.DeleteIP }},
	{"Recorded", "bool", "the lab is a recording: nothing in it changes", "all", func(v *Vars) any { return &v.Recorded }},

	{"ThePod", "string", "the shown pod in prose: \"the customer pod\" or \"pod ns/name\"", "text", nil},
	{"BlockAddrs", "string", "how many addresses a block holds: 64", "text", nil},
	{"DeleteNamespace", "string", "DeletePod's namespace", "text", nil},
	{"DeleteName", "string", "DeletePod's name", "text", nil},
	{"HashInput", "string", "the veth-name hash's input: yaobank.customer-…", "text", nil},
	{"HashHex", "string", "its SHA-1, in hex", "text", nil},
	{"HashShort", "string", "the host end's name from it", "text", nil},
	{"NameKnown", "bool", "HostIf and ExpectedHostIf are both known", "text", nil},
	{"NameMatches", "bool", "HostIf is ExpectedHostIf", "text", nil},
	{"LiveDiffers", "bool", "a compared value differs from the pack's example", "text", nil},
	{"Lesson", "map", "the pack's example values, by fact name", "text", nil},
	{"Differs", "map", "per example value, whether the live one is known and differs", "text", nil},

	{"PodPhase", "string", "the pod's phase: Running, Pending, \"\" when not read", "checks", nil},
	{"PodVeth", "string", "the pod's veth, \"\" when it has none", "checks", nil},
	{"PodHoldsIP", "bool", "the pod's veth holds PodIP (true when PodIP is not known)", "checks", nil},
	{"VethAgree", "bool", "both ends of the veth pair name each other", "checks", nil},
	{"VethReason", "string", "why they do not", "checks", nil},
	{"GatewayDefaultRoute", "bool", "the pod's default route goes via Calico's gateway", "checks", nil},
	{"GatewayLinkRoute", "bool", "the pod has the scope-link route to it", "checks", nil},
	{"GatewayProxyARP", "bool", "proxy_arp is 1 on the host end", "checks", nil},
	{"NodeCoversGateway", "bool", "a node route covers the gateway (not a blackhole)", "checks", nil},
	{"CalicoGateway", "string", "Calico's gateway address: 169.254.1.1", "checks", nil},
	{"Mode", "string", "the dataplane mode: bgp, ipip, vxlan, \"\" not known", "checks", nil},
	{"HostRoutes", "map(string, map)", "the node's routes by destination as ip prints it: {class, dev, proto, family}", "checks", nil},
	{"HostClasses4", "list(string)", "the route classes the node has an IPv4 route of", "checks", nil},
	{"Blocks", "list(map)", "the IPAM blocks: {cidr, node, own}", "checks", nil},
	{"LocalAddrs", "list(map)", "each address of each pod on the node: {ip, pod, shown}", "checks", nil},
}

// facts are every value a pack may name: the pair's, then those of what
// a lab read beyond it.
var facts = slices.Concat(labFacts, extraFacts)

// Facts are the facts a pack may name, in the guide's order.
func Facts() []Fact { return slices.Clone(facts) }

func factNamed(name string) (Fact, bool) {
	i := slices.IndexFunc(facts, func(f Fact) bool { return f.Name == name })
	if i < 0 {
		return Fact{}, false
	}
	return facts[i], true
}

// celValue is a Vars field as an expression sees it: "" or 0 when not
// known.
func celValue(v *Vars, f Fact) any {
	switch f.Name {
	case "Gateway":
		return v.gateway().String()
	case "InterfacePrefix":
		return v.prefix()
	}
	switch p := f.field(v).(type) {
	case *string:
		return *p
	case *int:
		return int64(*p)
	case *bool:
		return *p
	case *netip.Addr:
		return addrText(*p)
	case *netip.Prefix:
		return prefixText(*p)
	}
	panic("content: fact " + f.Name + " has a field of no known type")
}

// setFact sets one Vars field from its text, as a pack's example gives it.
func setFact(v *Vars, name, text string) error {
	f, ok := factNamed(name)
	if !ok || f.field == nil {
		return fmt.Errorf("%q is not a fact an example can set", name)
	}
	switch p := f.field(v).(type) {
	case *string:
		*p = text
	case *int:
		n, err := strconv.Atoi(text)
		if err != nil {
			return fmt.Errorf("%s: %q is not a number", name, text)
		}
		*p = n
	case *bool:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return fmt.Errorf("%s: %q is not true or false", name, text)
		}
		*p = b
	case *netip.Addr:
		a, err := netip.ParseAddr(text)
		if err != nil {
			return fmt.Errorf("%s: %q is not an address", name, text)
		}
		*p = a
	case *netip.Prefix:
		pr, err := netip.ParsePrefix(text)
		if err != nil {
			return fmt.Errorf("%s: %q is not a prefix", name, text)
		}
		*p = pr
	}
	return nil
}
