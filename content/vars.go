package content

import (
	"cmp"
	"net/netip"
	"strconv"
	"strings"

	"podlab/netview"
)

// Vars are the live values a step's body can show. A zero field means
// "not known" and renders as a neutral stand-in.
type Vars struct {
	PodName      string     // customer-574bd6cc75-2blnv
	PodNamespace string     // yaobank
	PodIP        netip.Addr // 198.19.22.132
	Node         string     // node1
	PodIf        string     // eth0

	PodIndex     int    // the pod's eth0 index: 3
	PodPeerIndex int    // the N of eth0@ifN: 9
	PodNetNSID   string // link-netnsid as ip prints it: "0"

	HostIf        string // caliea2aa288365
	HostIndex     int    // 9
	HostPeerIndex int    // the M of cali…@ifM: 3
	HostLinkNetns string // cni-f7159375-…
	// ExpectedHostIf is the analysis's name for the host end,
	// InterfacePrefix + SHA-1("<ns>.<pod>")[:11]; never derived here.
	ExpectedHostIf  string
	InterfacePrefix string // netview.DefaultInterfacePrefix when empty

	Gateway      netip.Addr // the analysis's; netview.CalicoGateway stands in when unknown
	GatewayMAC   string     // the pod's neighbour entry for Gateway, if resolved
	HostProxyARP string     // proxy_arp on the host end: "1", "0", "" unknown

	// PodIP6 is a dual-stack pod's IPv6 address, Gateway6 the next hop
	// of its IPv6 default route (HostOwnsGateway6: the host end holds
	// it) and OwnBlock6 the node's IPv6 block; unset on an IPv4-only
	// lab, where the text says nothing of IPv6.
	PodIP6           netip.Addr
	Gateway6         netip.Addr
	HostOwnsGateway6 bool
	OwnBlock6        netip.Prefix

	OwnBlock     netip.Prefix // the node's block: 198.19.22.128/26
	RemoteBlock  netip.Prefix // one remote block route, as an example: 198.19.21.64/26
	RemoteVia    netip.Addr   // its gateway: 198.19.0.3
	RemoteNode   string       // the node behind it: node2
	RemoteBlocks string       // every remote block, e.g. "198.19.21.0/26 (control), 198.19.21.64/26 (node2)"
	BlockSize    int          // a block's prefix length: 26; 0 unknown
	// FreeIP is an address in OwnBlock that no pod holds, the stand-in for
	// a deleted pod in the lookup step.
	FreeIP netip.Addr
	// DeletePod ("<namespace>/<name>") and DeleteIP are a pod on Node,
	// other than the one shown, that exists now: the one step 4.8 has the
	// student delete.
	DeletePod string
	DeleteIP  netip.Addr
	// Recorded says the lab is a recording: nothing in it changes, so a
	// command that changes the lab cannot be watched there.
	Recorded bool

	// LiveDiffers says the live lab differs from the lesson's example. Data
	// also sets it when any known value differs, so callers may leave it.
	LiveDiffers bool

	// Extra are the facts of what the lab read beyond the pair (host1,
	// BIRD, NAT rules, the cluster's objects); nil when it read none.
	Extra *ExtraFacts
}

// fields renders v as text. With stand-ins, an unknown value reads as a
// metavariable the way manual pages write them (POD_IP, NODE, @ifB), or
// with an ellipsis (cali…), so it fits both prose and a command line.
func (v Vars) fields(standIns bool) map[string]any {
	or := func(s, standIn string) string {
		if s == "" && standIns {
			return standIn
		}
		return s
	}
	num := func(n int, standIn string) string {
		if n <= 0 {
			return or("", standIn)
		}
		return strconv.Itoa(n)
	}
	prefix := v.prefix()
	// The worked example of the name shows the hash's input and digest,
	// which the analysis does not keep; netview computes them. It needs
	// both halves of the name; without them it stays empty and bodies say
	// so.
	var hashIn, hashHex, short string
	if v.PodNamespace != "" && v.PodName != "" {
		hashIn = netview.VethHashInput(v.PodNamespace, v.PodName)
		hashHex = netview.VethHash(v.PodNamespace, v.PodName)
		short = netview.VethName("", v.PodNamespace, v.PodName)
	}
	deleteNS, deleteName, _ := strings.Cut(v.DeletePod, "/")
	expected := v.ExpectedHostIf
	d := map[string]any{
		"ThePod":           thePod(v.PodNamespace, v.PodName),
		"PodName":          or(v.PodName, "customer-…"),
		"PodNamespace":     or(v.PodNamespace, netview.DefaultNamespace),
		"PodIP":            or(addrText(v.PodIP), "POD_IP"),
		"Node":             or(v.Node, "NODE"),
		"PodIf":            or(v.PodIf, "eth0"),
		"PodIndex":         num(v.PodIndex, "A"),
		"PodPeerIndex":     num(v.PodPeerIndex, "B"),
		"PodNetNSID":       or(v.PodNetNSID, "N"),
		"HostIf":           or(v.HostIf, prefix+"…"),
		"HostIndex":        num(v.HostIndex, "B"),
		"HostPeerIndex":    num(v.HostPeerIndex, "A"),
		"HostLinkNetns":    or(v.HostLinkNetns, "cni-…"),
		"InterfacePrefix":  prefix,
		"Gateway":          v.gateway().String(),
		"GatewayMAC":       v.GatewayMAC,
		"HostProxyARP":     v.HostProxyARP,
		"OwnBlock":         or(prefixText(v.OwnBlock), "OWN_BLOCK"),
		"PodIP6":           addrText(v.PodIP6),
		"Gateway6":         addrText(v.Gateway6),
		"HostOwnsGateway6": v.HostOwnsGateway6,
		"OwnBlock6":        prefixText(v.OwnBlock6),
		"RemoteBlock":      or(prefixText(v.RemoteBlock), "BLOCK"),
		"RemoteVia":        or(addrText(v.RemoteVia), "NODE_IP"),
		"RemoteNode":       or(v.RemoteNode, "another node"),
		"RemoteBlocks":     v.RemoteBlocks,
		"BlockSize":        or(lengthText(v.BlockSize), "/26"),
		"BlockAddrs":       blockAddrs(cmp.Or(v.BlockSize, 26)),
		"FreeIP":           addrText(v.FreeIP),
		"DeletePod":        or(v.DeletePod, "NAMESPACE/POD"),
		"DeleteNamespace":  or(deleteNS, "NAMESPACE"),
		"DeleteName":       or(deleteName, "POD"),
		"DeleteIP":         or(addrText(v.DeleteIP), "ITS_IP"),
		"Recorded":         v.Recorded,
		"HashInput":        hashIn,
		"HashHex":          hashHex,
		"HashShort":        short,
		"ExpectedHostIf":   or(expected, prefix+"…"),
		// NameKnown: both names are known, so they can be compared.
		"NameKnown":   v.HostIf != "" && expected != "",
		"NameMatches": v.HostIf != "" && v.HostIf == expected,
		"LiveDiffers": v.LiveDiffers,
	}
	for _, f := range extraFacts {
		d[f.Name] = extraFactOf(v.Extra, f)
	}
	return d
}

// gateway is the pod's gateway: the analysis's, which always names one;
// Calico's stands in when no lab is known (a step read with no lab still
// names 169.254.1.1, as the lesson does).
func (v Vars) gateway() netip.Addr {
	if v.Gateway.IsValid() {
		return v.Gateway
	}
	return netview.CalicoGateway
}

// prefix is the host ends' prefix, Felix's default unless the lab said.
func (v Vars) prefix() string { return cmp.Or(v.InterfacePrefix, netview.DefaultInterfacePrefix) }

// The text forms of the typed values: "" for an unknown (zero) one, which
// the template reads as false and fields replaces with its stand-in.
// Templates see only these strings, so `{{if .PodIP}}` means "known".
func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func prefixText(p netip.Prefix) string {
	if !p.IsValid() {
		return ""
	}
	return p.String()
}

// lengthText is a prefix length as ip prints it after an address: "/26".
func lengthText(bits int) string {
	if bits <= 0 {
		return ""
	}
	return "/" + strconv.Itoa(bits)
}

// thePod names the shown pod in prose: "the customer pod" for the
// lesson's (or when unknown), otherwise the pod itself, so that the text
// follows -l and --pod.
func thePod(ns, name string) string {
	if name == "" || netview.IsCustomerPod(ns, name) {
		return "the customer pod"
	}
	if ns == "" {
		return "pod " + name
	}
	return "pod " + ns + "/" + name
}

// blockAddrs is how many addresses an IPv4 block of that prefix length
// holds, as text ("64" for 26), or "" when it is no IPv4 length.
func blockAddrs(bits int) string {
	if bits < 0 || bits > 32 {
		return ""
	}
	return strconv.FormatUint(1<<(32-bits), 10)
}
