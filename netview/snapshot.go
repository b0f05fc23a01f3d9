// Package netview holds podlab's model of a network namespace and the
// analysis the lesson teaches: veth pairing, Calico's gateway, the
// classes of route on a node, and iproute2-style rendering. It does no I/O.
package netview

import (
	"net/netip"
	"strings"
	"time"
)

// Snapshot is one network namespace at one instant.
type Snapshot struct {
	NS      Namespace `json:"ns"`
	TakenAt time.Time `json:"taken_at"`
	Links   []Link    `json:"links"`
	Addrs   []Addr    `json:"addrs"`
	Routes  []Route   `json:"routes"`
	Neighs  []Neigh   `json:"neighs"`
	// Sysctls are the namespace-wide settings, keyed by their full name,
	// e.g. "net.ipv4.ip_forward". Per-interface ones live on Link.
	Sysctls map[string]int `json:"sysctls,omitempty"`
}

// Namespace identifies the namespace a snapshot was taken in.
type Namespace struct {
	// Name is the name under /run/netns, or a label such as "host" or
	// "pod" when the namespace has none.
	Name string `json:"name"`
	Path string `json:"path,omitempty"`
	Pid  int    `json:"pid,omitempty"`
	// Inode is the namespace's inode number: two snapshots of the same
	// namespace have the same one.
	Inode uint64 `json:"inode,omitempty"`
	// NSIDs maps the ids this namespace has given to its peers (the
	// link-netnsid of a veth) to the peers' names, when known.
	NSIDs map[int]string `json:"nsids,omitempty"`
}

// Link is one interface, as `ip -d link` knows it.
type Link struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
	// Kind is the rtnetlink kind: "veth", "bridge", "vxlan", "ipip", ""
	// for loopback and physical devices.
	Kind string `json:"kind,omitempty"`
	// Flags are iproute2's names in its order: LOOPBACK, BROADCAST,
	// POINTOPOINT, MULTICAST, NOARP, UP, LOWER_UP...
	Flags     []string `json:"flags"`
	MTU       int      `json:"mtu"`
	Qdisc     string   `json:"qdisc,omitempty"`
	OperState string   `json:"operstate,omitempty"` // UP, DOWN, UNKNOWN
	Group     string   `json:"group,omitempty"`     // "default" unless set
	TxQLen    int      `json:"txqlen,omitempty"`
	LinkType  string   `json:"link_type,omitempty"` // ether, loopback, none, ipip
	MAC       string   `json:"mac,omitempty"`
	Broadcast string   `json:"broadcast,omitempty"`
	// ParentIndex is IFLA_LINK: for a veth, the peer's index in the peer's
	// namespace. Zero when absent.
	ParentIndex int `json:"parent_index,omitempty"`
	// LinkNetNSID is IFLA_LINK_NETNSID: the id, in this namespace, of the
	// namespace the peer lives in. -1 when absent.
	LinkNetNSID int `json:"link_netnsid"`
	MasterIndex int `json:"master_index,omitempty"`
	// Sysctls are this interface's settings that explain Calico, keyed
	// by the short names in the Sysctl* constants.
	Sysctls map[string]int `json:"sysctls,omitempty"`
}

// Per-interface sysctl keys, relative to net.ipv4.conf.<if> (or
// net.ipv4.neigh.<if>, net.ipv6.conf.<if> as their prefix says).
const (
	SysctlProxyARP      = "ipv4.proxy_arp"
	SysctlProxyDelay    = "ipv4.neigh.proxy_delay"
	SysctlForwarding    = "ipv4.forwarding"
	SysctlRouteLocalnet = "ipv4.route_localnet"
	SysctlRPFilter      = "ipv4.rp_filter"
	SysctlAcceptRA      = "ipv6.accept_ra"
	// SysctlIPForward is namespace-wide (Snapshot.Sysctls).
	SysctlIPForward = "net.ipv4.ip_forward"
)

// LinkSysctls are the per-interface settings a snapshot carries: every
// lab reads these and the sandbox sets them, from this one list.
var LinkSysctls = []string{
	SysctlProxyARP, SysctlProxyDelay, SysctlForwarding,
	SysctlRouteLocalnet, SysctlRPFilter, SysctlAcceptRA,
}

// SysctlPath is where a key of LinkSysctls lives under /proc/sys/net for
// interface dev ("ipv4/conf/<dev>/proxy_arp", "ipv4/neigh/<dev>/proxy_delay"),
// or SysctlIPForward's ("ipv4/ip_forward") when key is that.
func SysctlPath(key, dev string) string {
	if key == SysctlIPForward {
		return strings.ReplaceAll(strings.TrimPrefix(key, "net."), ".", "/")
	}
	family, rest, _ := strings.Cut(key, ".")
	section, name, ok := strings.Cut(rest, ".")
	if !ok {
		section, name = "conf", rest
	}
	return family + "/" + section + "/" + dev + "/" + name
}

// SysctlKey is SysctlPath read back: the key and the interface of a path
// under /proc/sys/net; ok is false for a path of no key podlab knows.
func SysctlKey(path string) (key, dev string, ok bool) {
	if path == SysctlPath(SysctlIPForward, "") {
		return SysctlIPForward, "", true
	}
	parts := strings.Split(path, "/")
	if len(parts) != 4 {
		return "", "", false
	}
	for _, k := range LinkSysctls {
		if SysctlPath(k, parts[2]) == path {
			return k, parts[2], true
		}
	}
	return "", "", false
}

// Addr is one address on an interface.
type Addr struct {
	Index     int          `json:"index"`
	Dev       string       `json:"dev"`
	Prefix    netip.Prefix `json:"prefix"` // local address with its prefix length
	Peer      netip.Prefix `json:"peer,omitzero"`
	Broadcast netip.Addr   `json:"broadcast,omitzero"`
	Scope     string       `json:"scope"` // global, link, host, site
	Label     string       `json:"label,omitempty"`
	Flags     []string     `json:"flags,omitempty"` // permanent, noprefixroute, ...
	// Lifetimes in seconds; LifetimeForever means "forever".
	ValidLft     uint32 `json:"valid_lft"`
	PreferredLft uint32 `json:"preferred_lft"`
}

// LifetimeForever is the kernel's infinite address lifetime.
const LifetimeForever = 0xffffffff

// Route is one route in any table.
type Route struct {
	Family int `json:"family"` // 4 or 6
	Table  int `json:"table"`  // 254 is main, 255 local
	// Type is the rtnetlink type: unicast, blackhole, unreachable,
	// prohibit, local, broadcast, multicast, throw.
	Type string       `json:"type"`
	Dst  netip.Prefix `json:"dst"` // 0.0.0.0/0 for default
	Gw   netip.Addr   `json:"gateway,omitzero"`
	// Dev is the output interface; DevIndex its index (0 when none).
	Dev      string     `json:"dev,omitempty"`
	DevIndex int        `json:"dev_index,omitempty"`
	Scope    string     `json:"scope"` // universe (global), link, host, nowhere
	Protocol int        `json:"protocol"`
	Src      netip.Addr `json:"prefsrc,omitzero"`
	Metric   int        `json:"metric,omitempty"`
	Flags    []string   `json:"flags,omitempty"` // onlink, linkdown, dead...
	// NextHops are a multipath route's next hops (ip's "nexthop" lines);
	// Gw and Dev are then unset. Nil for a route with one next hop:
	// recordings made before there were any read as such.
	NextHops []NextHop `json:"nexthops,omitempty"`
}

// NextHop is one next hop of a multipath route.
type NextHop struct {
	Gw       netip.Addr `json:"gateway,omitzero"`
	Dev      string     `json:"dev,omitempty"`
	DevIndex int        `json:"dev_index,omitempty"`
	// Weight is as ip prints it: the kernel's rtnh_hops plus one. Zero
	// (not read) is drawn as 1, the kernel's default.
	Weight int      `json:"weight,omitempty"`
	Flags  []string `json:"flags,omitempty"` // onlink, linkdown, dead...
}

// Tables and protocols podlab names.
const (
	TableMain  = 254
	TableLocal = 255

	ProtoUnspec   = 0
	ProtoRedirect = 1
	ProtoKernel   = 2
	ProtoBoot     = 3
	ProtoStatic   = 4
	ProtoDHCP     = 16
	ProtoBird     = 12
	ProtoFelix    = 80 // Felix's own routes in VXLAN mode
)

// Neigh is one neighbour (ARP/NDP) entry.
type Neigh struct {
	Index int        `json:"index"`
	Dev   string     `json:"dev"`
	IP    netip.Addr `json:"ip"`
	MAC   string     `json:"mac,omitempty"`
	// State names in iproute2's spelling: REACHABLE, STALE, PERMANENT...
	State []string `json:"state,omitempty"`
	Flags []string `json:"flags,omitempty"` // router, proxy, extern_learn
}

// LinkByIndex returns the link with that index, or nil.
func (s *Snapshot) LinkByIndex(i int) *Link {
	for k := range s.Links {
		if s.Links[k].Index == i {
			return &s.Links[k]
		}
	}
	return nil
}

// LinkByName returns the link with that name, or nil.
func (s *Snapshot) LinkByName(name string) *Link {
	for k := range s.Links {
		if s.Links[k].Name == name {
			return &s.Links[k]
		}
	}
	return nil
}

// AddrsOf returns the addresses on the interface with that index.
func (s *Snapshot) AddrsOf(index int) []Addr {
	var out []Addr
	for _, a := range s.Addrs {
		if a.Index == index {
			out = append(out, a)
		}
	}
	return out
}

// HasFlag reports whether the link has the named flag (e.g. "UP").
func (l *Link) HasFlag(f string) bool {
	for _, x := range l.Flags {
		if x == f {
			return true
		}
	}
	return false
}

// Sysctl returns an interface sysctl and whether it was read.
func (l *Link) Sysctl(key string) (int, bool) {
	v, ok := l.Sysctls[key]
	return v, ok
}
