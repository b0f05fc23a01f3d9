package lab

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The names below are iproute2's, so that what podlab shows can be held
// against a student's own `ip` output.

// linkFlags lists IFF_* flags in the order `ip link` prints them.
var linkFlags = []struct {
	bit  uint32
	name string
}{
	{unix.IFF_LOOPBACK, "LOOPBACK"},
	{unix.IFF_BROADCAST, "BROADCAST"},
	{unix.IFF_POINTOPOINT, "POINTOPOINT"},
	{unix.IFF_MULTICAST, "MULTICAST"},
	{unix.IFF_NOARP, "NOARP"},
	{unix.IFF_ALLMULTI, "ALLMULTI"},
	{unix.IFF_PROMISC, "PROMISC"},
	{unix.IFF_MASTER, "MASTER"},
	{unix.IFF_SLAVE, "SLAVE"},
	{unix.IFF_DEBUG, "DEBUG"},
	{unix.IFF_DYNAMIC, "DYNAMIC"},
	{unix.IFF_AUTOMEDIA, "AUTOMEDIA"},
	{unix.IFF_PORTSEL, "PORTSEL"},
	{unix.IFF_NOTRAILERS, "NOTRAILERS"},
	{unix.IFF_UP, "UP"},
	{unix.IFF_LOWER_UP, "LOWER_UP"},
	{unix.IFF_DORMANT, "DORMANT"},
	{unix.IFF_ECHO, "ECHO"},
}

func linkFlagNames(flags uint32, masterDown bool) []string {
	out := []string{}
	if flags&unix.IFF_UP != 0 && flags&unix.IFF_RUNNING == 0 {
		out = append(out, "NO-CARRIER")
	}
	flags &^= unix.IFF_RUNNING
	for _, f := range linkFlags {
		if flags&f.bit != 0 {
			flags &^= f.bit
			out = append(out, f.name)
		}
	}
	if flags != 0 {
		out = append(out, strconv.FormatUint(uint64(flags), 16))
	}
	if masterDown {
		out = append(out, "M-DOWN")
	}
	return out
}

var operStates = []string{"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"}

func operStateName(s uint8) string {
	if int(s) < len(operStates) {
		return operStates[s]
	}
	return strconv.Itoa(int(s))
}

var linkTypes = map[uint16]string{
	unix.ARPHRD_ETHER:      "ether",
	unix.ARPHRD_LOOPBACK:   "loopback",
	unix.ARPHRD_NONE:       "none",
	unix.ARPHRD_TUNNEL:     "ipip",
	unix.ARPHRD_TUNNEL6:    "tunnel6",
	unix.ARPHRD_SIT:        "sit",
	unix.ARPHRD_IPGRE:      "gre",
	unix.ARPHRD_IP6GRE:     "gre6",
	unix.ARPHRD_VOID:       "void",
	unix.ARPHRD_PPP:        "ppp",
	unix.ARPHRD_INFINIBAND: "infiniband",
	unix.ARPHRD_IEEE80211:  "ieee802.11",
	unix.ARPHRD_IEEE802:    "ieee802",
}

func linkTypeName(t uint16) string {
	if n, ok := linkTypes[t]; ok {
		return n
	}
	return "[" + strconv.Itoa(int(t)) + "]"
}

// hwAddr formats a link-layer address as ip does: colon hex, or dotted
// for the IPv4/IPv6 "addresses" of tunnels.
func hwAddr(b []byte, linkType uint16) string {
	if len(b) == 0 {
		return ""
	}
	switch linkType {
	case unix.ARPHRD_TUNNEL, unix.ARPHRD_SIT, unix.ARPHRD_IPGRE:
		if len(b) == 4 {
			return netip.AddrFrom4([4]byte(b)).String()
		}
	case unix.ARPHRD_TUNNEL6, unix.ARPHRD_IP6GRE:
		if len(b) == 16 {
			return netip.AddrFrom16([16]byte(b)).String()
		}
	}
	return net.HardwareAddr(b).String()
}

// scopeName is rtnl_rtscope_n2a; routes call scope 0 "universe" (see
// netview.Route), addresses "global".
func scopeName(s uint8, route bool) string {
	switch s {
	case unix.RT_SCOPE_UNIVERSE:
		if route {
			return "universe"
		}
		return "global"
	case unix.RT_SCOPE_SITE:
		return "site"
	case unix.RT_SCOPE_LINK:
		return "link"
	case unix.RT_SCOPE_HOST:
		return "host"
	case unix.RT_SCOPE_NOWHERE:
		return "nowhere"
	}
	return strconv.Itoa(int(s))
}

var routeTypes = []string{"unspec", "unicast", "local", "broadcast", "anycast", "multicast", "blackhole", "unreachable", "prohibit", "throw", "nat", "xresolve"}

func routeTypeName(t int) string {
	if t >= 0 && t < len(routeTypes) {
		return routeTypes[t]
	}
	return strconv.Itoa(t)
}

// routeFlagNames are the rtm_flags/rtnh_flags ip route prints.
func routeFlagNames(flags int) []string {
	var out []string
	for _, f := range []struct {
		bit  int
		name string
	}{
		{unix.RTNH_F_DEAD, "dead"},
		{unix.RTNH_F_ONLINK, "onlink"},
		{unix.RTNH_F_PERVASIVE, "pervasive"},
		{unix.RTNH_F_OFFLOAD, "offload"},
		{unix.RTNH_F_TRAP, "trap"},
		{unix.RTM_F_NOTIFY, "notify"},
		{unix.RTNH_F_LINKDOWN, "linkdown"},
		{unix.RTNH_F_UNRESOLVED, "unresolved"},
		{unix.RTM_F_OFFLOAD, "rt_offload"},
		{unix.RTM_F_TRAP, "rt_trap"},
		{unix.RTM_F_OFFLOAD_FAILED, "rt_offload_failed"},
	} {
		if flags&f.bit != 0 {
			out = append(out, f.name)
		}
	}
	return out
}

// addrFlagNames are ifa_flags in kernel spelling ("permanent" included;
// ip prints "dynamic" for its absence).
func addrFlagNames(flags int, v6 bool) []string {
	var out []string
	for _, f := range []struct {
		bit  int
		name string
	}{
		{unix.IFA_F_SECONDARY, "secondary"},
		{unix.IFA_F_NODAD, "nodad"},
		{unix.IFA_F_OPTIMISTIC, "optimistic"},
		{unix.IFA_F_DADFAILED, "dadfailed"},
		{unix.IFA_F_HOMEADDRESS, "home"},
		{unix.IFA_F_DEPRECATED, "deprecated"},
		{unix.IFA_F_TENTATIVE, "tentative"},
		{unix.IFA_F_PERMANENT, "permanent"},
		{unix.IFA_F_MANAGETEMPADDR, "mngtmpaddr"},
		{unix.IFA_F_NOPREFIXROUTE, "noprefixroute"},
		{unix.IFA_F_MCAUTOJOIN, "autojoin"},
		{unix.IFA_F_STABLE_PRIVACY, "stable-privacy"},
	} {
		if flags&f.bit != 0 {
			name := f.name
			if f.bit == unix.IFA_F_SECONDARY && v6 {
				name = "temporary"
			}
			out = append(out, name)
		}
	}
	return out
}

var neighStates = []struct {
	bit  int
	name string
}{
	{unix.NUD_INCOMPLETE, "INCOMPLETE"},
	{unix.NUD_REACHABLE, "REACHABLE"},
	{unix.NUD_STALE, "STALE"},
	{unix.NUD_DELAY, "DELAY"},
	{unix.NUD_PROBE, "PROBE"},
	{unix.NUD_FAILED, "FAILED"},
	{unix.NUD_NOARP, "NOARP"},
	{unix.NUD_PERMANENT, "PERMANENT"},
}

func neighStateNames(s int) []string {
	if s == unix.NUD_NONE {
		return []string{"NONE"}
	}
	var out []string
	for _, n := range neighStates {
		if s&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

func neighFlagNames(f int) []string {
	var out []string
	for _, n := range []struct {
		bit  int
		name string
	}{
		{unix.NTF_ROUTER, "router"},
		{unix.NTF_PROXY, "proxy"},
		{unix.NTF_EXT_LEARNED, "extern_learn"},
		{unix.NTF_OFFLOADED, "offload"},
	} {
		if f&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// groupName is ip's name for a link group: "default" for 0.
func groupName(g uint32) string {
	if g == 0 {
		return "default"
	}
	return strconv.FormatUint(uint64(g), 10)
}

func cString(b []byte) string { return strings.TrimRight(string(b), "\x00") }

func ipToAddr(ip net.IP) netip.Addr {
	if ip == nil {
		return netip.Addr{}
	}
	if v4 := ip.To4(); v4 != nil {
		return netip.AddrFrom4([4]byte(v4))
	}
	a, _ := netip.AddrFromSlice(ip)
	return a
}

func ipNetToPrefix(n *net.IPNet) (netip.Prefix, error) {
	if n == nil {
		return netip.Prefix{}, nil
	}
	a := ipToAddr(n.IP)
	ones, bits := n.Mask.Size()
	if bits == 128 && len(n.IP) == net.IPv6len {
		a = netip.AddrFrom16([16]byte(n.IP)) // an IPv6 prefix, though IPv4-mapped
	}
	p := netip.PrefixFrom(a, ones)
	if !p.IsValid() {
		return netip.Prefix{}, fmt.Errorf("bad prefix %v", n)
	}
	return p, nil
}
