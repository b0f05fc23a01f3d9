// Package iproute reads iproute2's JSON output (ip -j) into netview
// snapshots, for the namespaces podlab can only reach through a command:
// a pod through the Kubernetes exec API, a node over ssh.
package iproute

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"podlab/netview"
)

// Commands are the ip invocations whose output ParseIPJSON reads, in its
// argument order.
var Commands = [][]string{
	{"ip", "-j", "addr"},
	{"ip", "-j", "-d", "link"},
	{"ip", "-j", "-d", "route", "show", "table", "all"},
	{"ip", "-j", "neigh"},
}

type jsonLink struct {
	Index       int      `json:"ifindex"`
	Name        string   `json:"ifname"`
	Flags       []string `json:"flags"`
	MTU         int      `json:"mtu"`
	Qdisc       string   `json:"qdisc"`
	OperState   string   `json:"operstate"`
	Group       string   `json:"group"`
	TxQLen      int      `json:"txqlen"`
	LinkType    string   `json:"link_type"`
	Address     string   `json:"address"`
	Broadcast   string   `json:"broadcast"`
	LinkIndex   *int     `json:"link_index"`
	Link        string   `json:"link"` // the parent's name, when it is in this namespace
	LinkNetNSID *int     `json:"link_netnsid"`
	Master      string   `json:"master"`
	LinkInfo    *struct {
		Kind string `json:"info_kind"`
	} `json:"linkinfo"`
	AddrInfo []jsonAddr `json:"addr_info"`
}

type jsonAddr struct {
	Family      string `json:"family"`
	Local       string `json:"local"`
	Address     string `json:"address"` // the peer, on point-to-point links
	PrefixLen   int    `json:"prefixlen"`
	Broadcast   string `json:"broadcast"`
	Scope       string `json:"scope"`
	Label       string `json:"label"`
	ValidLft    uint32 `json:"valid_life_time"`
	PreferLft   uint32 `json:"preferred_life_time"`
	rawBooleans map[string]bool
}

// addrFlags are the address flags ip prints as JSON booleans, in the
// kernel's bit order (the netlink collector's); "permanent" stands where
// ip prints "dynamic" for its absence.
var addrFlags = []string{"secondary", "temporary", "nodad", "optimistic", "dadfailed",
	"home", "deprecated", "tentative", "permanent", "mngtmpaddr", "noprefixroute", "autojoin", "stable-privacy"}

func (a *jsonAddr) UnmarshalJSON(b []byte) error {
	type plain jsonAddr
	if err := json.Unmarshal(b, (*plain)(a)); err != nil {
		return err
	}
	var all map[string]any
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	a.rawBooleans = map[string]bool{}
	for k, v := range all {
		if bv, ok := v.(bool); ok && bv {
			a.rawBooleans[k] = true
		}
	}
	return nil
}

type jsonRoute struct {
	Type    string `json:"type"`
	Dst     string `json:"dst"`
	Gateway string `json:"gateway"`
	Via     *struct {
		Family string `json:"family"`
		Host   string `json:"host"`
	} `json:"via"`
	Dev      string   `json:"dev"`
	Table    string   `json:"table"`
	Protocol string   `json:"protocol"`
	Scope    string   `json:"scope"`
	Metric   int      `json:"metric"`
	PrefSrc  string   `json:"prefsrc"`
	Flags    []string `json:"flags"`
	// Pref is the IPv6 router preference: ip prints it for IPv6 routes
	// only, which tells an IPv6 "default" from an IPv4 one.
	Pref string `json:"pref"`
	// Nexthops are a multipath route's; it then has no gateway or dev.
	Nexthops []jsonNexthop `json:"nexthops"`
}

type jsonNexthop struct {
	Gateway string `json:"gateway"`
	Via     *struct {
		Family string `json:"family"`
		Host   string `json:"host"`
	} `json:"via"`
	Dev    string   `json:"dev"`
	Weight int      `json:"weight"`
	Flags  []string `json:"flags"`
}

type jsonNeigh struct {
	Dst    string   `json:"dst"`
	Dev    string   `json:"dev"`
	LLAddr string   `json:"lladdr"`
	State  []string `json:"state"`
	raw    map[string]json.RawMessage
}

func (n *jsonNeigh) UnmarshalJSON(b []byte) error {
	type plain jsonNeigh
	if err := json.Unmarshal(b, (*plain)(n)); err != nil {
		return err
	}
	return json.Unmarshal(b, &n.raw)
}

// neighFlags are the neighbour flags ip prints as keys with null values.
var neighFlags = []string{"router", "proxy", "extern_learn", "offload", "managed"}

// ParseIPJSON builds a snapshot from the output of Commands: `ip -j addr`,
// `ip -j -d link`, `ip -j -d route show table all` (plain `ip -j route`
// does too) and `ip -j neigh`. link may be nil: the links then come from
// the addr output, without their kinds. The snapshot's namespace identity
// is left to the caller.
func ParseIPJSON(addr, link, route, neigh []byte) (*netview.Snapshot, error) {
	var addrLinks, links []jsonLink
	if err := decode("ip -j addr", addr, &addrLinks); err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(link)) > 0 {
		if err := decode("ip -j link", link, &links); err != nil {
			return nil, err
		}
	} else {
		links = addrLinks
	}
	s := &netview.Snapshot{}
	byName := map[string]int{}
	for _, jl := range links {
		byName[jl.Name] = jl.Index
	}
	for _, jl := range links {
		l := netview.Link{
			Index: jl.Index, Name: jl.Name, Flags: jl.Flags, MTU: jl.MTU,
			Qdisc: jl.Qdisc, OperState: jl.OperState, Group: jl.Group, TxQLen: jl.TxQLen,
			LinkType: jl.LinkType, MAC: jl.Address, Broadcast: jl.Broadcast,
			LinkNetNSID: -1,
		}
		if l.Flags == nil {
			l.Flags = []string{}
		}
		if jl.LinkInfo != nil {
			l.Kind = jl.LinkInfo.Kind
		}
		switch {
		case jl.LinkIndex != nil:
			l.ParentIndex = *jl.LinkIndex
		case jl.Link != "":
			l.ParentIndex = byName[jl.Link]
		}
		if jl.LinkNetNSID != nil {
			l.LinkNetNSID = *jl.LinkNetNSID
		}
		if jl.Master != "" {
			l.MasterIndex = byName[jl.Master]
		}
		s.Links = append(s.Links, l)
	}
	for _, jl := range addrLinks {
		for _, ja := range jl.AddrInfo {
			a, err := convertAddr(jl, ja)
			if err != nil {
				return nil, err
			}
			s.Addrs = append(s.Addrs, a)
		}
	}

	var routes []jsonRoute
	if err := decode("ip -j route", route, &routes); err != nil {
		return nil, err
	}
	for _, jr := range routes {
		r, ok, err := convertRoute(jr, byName)
		if err != nil {
			return nil, err
		}
		if ok {
			s.Routes = append(s.Routes, r)
		}
	}

	var neighs []jsonNeigh
	if err := decode("ip -j neigh", neigh, &neighs); err != nil {
		return nil, err
	}
	for _, jn := range neighs {
		ip, err := netip.ParseAddr(jn.Dst)
		if err != nil {
			return nil, fmt.Errorf("ip -j neigh: bad address %q: %w", jn.Dst, err)
		}
		n := netview.Neigh{Index: byName[jn.Dev], Dev: jn.Dev, IP: ip, MAC: jn.LLAddr, State: jn.State}
		for _, f := range neighFlags {
			if _, ok := jn.raw[f]; ok {
				n.Flags = append(n.Flags, f)
			}
		}
		s.Neighs = append(s.Neighs, n)
	}
	// ip prints names as the kernel has them, control characters and all.
	s.Sanitize()
	return s, nil
}

func decode(what string, b []byte, v any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil // nothing to show (ip prints nothing for an empty neigh table on old versions)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: not iproute2 JSON (%v): is this iproute2 4.14 or later?", what, err)
	}
	return nil
}

func convertAddr(jl jsonLink, ja jsonAddr) (netview.Addr, error) {
	local, err := netip.ParseAddr(ja.Local)
	if err != nil {
		return netview.Addr{}, fmt.Errorf("ip -j addr: %q: bad address %q: %w", jl.Name, ja.Local, err)
	}
	prefix := netip.PrefixFrom(local, ja.PrefixLen)
	if !prefix.IsValid() {
		return netview.Addr{}, fmt.Errorf("ip -j addr: %q: prefix length %d is out of range for %s", jl.Name, ja.PrefixLen, local)
	}
	a := netview.Addr{
		Index: jl.Index, Dev: jl.Name,
		Prefix: prefix,
		Scope:  ja.Scope, Label: ja.Label,
		ValidLft: ja.ValidLft, PreferredLft: ja.PreferLft,
	}
	if ja.Address != "" && ja.Address != ja.Local {
		// A peer of the other family has no valid prefix: left out.
		if p, err := netip.ParseAddr(ja.Address); err == nil && netip.PrefixFrom(p, ja.PrefixLen).IsValid() {
			a.Peer = netip.PrefixFrom(p, ja.PrefixLen)
		}
	}
	if ja.Broadcast != "" {
		if b, err := netip.ParseAddr(ja.Broadcast); err == nil {
			a.Broadcast = b
		}
	}
	for _, f := range addrFlags {
		// ip marks the addresses that are not permanent as "dynamic"; the
		// kernel's flag is the other way round.
		if f == "permanent" && !ja.rawBooleans["dynamic"] || ja.rawBooleans[f] {
			a.Flags = append(a.Flags, f)
		}
	}
	return a, nil
}

// routeTypes are the rtnetlink route types ip names.
var routeTypes = []string{"unicast", "local", "broadcast", "anycast", "multicast",
	"blackhole", "unreachable", "prohibit", "throw", "nat", "xresolve"}

func convertRoute(jr jsonRoute, byName map[string]int) (netview.Route, bool, error) {
	r := netview.Route{
		Family: 4,
		Table:  netview.TableMain,
		Type:   "unicast",
		Dev:    jr.Dev, DevIndex: byName[jr.Dev],
		Scope:    "universe",        // as the netlink collector names scope 0 for routes
		Protocol: netview.ProtoBoot, // ip leaves out proto boot unless -d
		Metric:   jr.Metric,
		Flags:    jr.Flags,
	}
	if len(r.Flags) == 0 {
		r.Flags = nil
	}
	if jr.Type != "" {
		if !slices.Contains(routeTypes, jr.Type) {
			return r, false, nil // a type podlab does not model
		}
		r.Type = jr.Type
	}
	if jr.Scope != "" {
		r.Scope = jr.Scope
		if r.Scope == "global" {
			r.Scope = "universe"
		}
	}
	if jr.Protocol != "" {
		p, ok := protoNumber(jr.Protocol)
		if !ok {
			return r, false, fmt.Errorf("ip -j route: unknown protocol %q", jr.Protocol)
		}
		r.Protocol = p
	}
	if jr.Table != "" {
		t, ok := tableNumber(jr.Table)
		if !ok {
			return r, false, fmt.Errorf("ip -j route: unknown table %q", jr.Table)
		}
		r.Table = t
	}
	dst, err := parseDst(jr.Dst)
	if err != nil {
		return r, false, fmt.Errorf("ip -j route: bad destination %q: %w", jr.Dst, err)
	}
	gw6 := strings.Contains(jr.Gateway, ":") || (jr.Via != nil && jr.Via.Family == "inet6")
	for _, h := range jr.Nexthops {
		gw6 = gw6 || strings.Contains(h.Gateway, ":") || (h.Via != nil && h.Via.Family == "inet6")
	}
	if jr.Dst == "default" && (jr.Pref != "" || gw6) {
		dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	r.Dst = dst
	if dst.Addr().Is6() {
		r.Family = 6
	}
	gw := jr.Gateway
	if gw == "" && jr.Via != nil {
		gw = jr.Via.Host
	}
	if gw != "" {
		if r.Gw, err = netip.ParseAddr(gw); err != nil {
			return r, false, fmt.Errorf("ip -j route: bad gateway %q: %w", gw, err)
		}
	}
	if jr.PrefSrc != "" {
		if r.Src, err = netip.ParseAddr(jr.PrefSrc); err != nil {
			return r, false, fmt.Errorf("ip -j route: bad prefsrc %q: %w", jr.PrefSrc, err)
		}
	}
	for _, jh := range jr.Nexthops {
		h := netview.NextHop{Dev: jh.Dev, DevIndex: byName[jh.Dev], Weight: jh.Weight, Flags: jh.Flags}
		if len(h.Flags) == 0 {
			h.Flags = nil
		}
		gw := jh.Gateway
		if gw == "" && jh.Via != nil {
			gw = jh.Via.Host
		}
		if gw != "" {
			if h.Gw, err = netip.ParseAddr(gw); err != nil {
				return r, false, fmt.Errorf("ip -j route: bad next hop gateway %q: %w", gw, err)
			}
		}
		r.NextHops = append(r.NextHops, h)
	}
	return r, true, nil
}

// parseDst reads ip's destination: "default" (IPv4 here; the caller tells
// an IPv6 one by its other fields), an address (a host route) or a prefix.
func parseDst(s string) (netip.Prefix, error) {
	if s == "default" {
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0), nil
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// protoNumbers inverts netview.ProtoName's table of the names ip knows.
var protoNumbers = func() map[string]int {
	m := map[string]int{}
	for p := range 256 {
		if n := netview.ProtoName(p); n != strconv.Itoa(p) {
			m[n] = p
		}
	}
	return m
}()

// protoNumber reads a route protocol as ip prints it: a name from its
// table or a number (Felix's 80 has no name).
func protoNumber(s string) (int, bool) {
	if n, ok := protoNumbers[s]; ok {
		return n, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0 && n <= 255
}

// tableNumber reads a routing table as ip prints it.
func tableNumber(s string) (int, bool) {
	switch s {
	case "main":
		return netview.TableMain, true
	case "local":
		return netview.TableLocal, true
	case "default":
		return 253, true
	case "unspec":
		return 0, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}

// SysctlScript prints, as path:value lines, the sysctls a snapshot
// carries; ParseSysctls reads its output.
var SysctlScript = sysctlScript()

func sysctlScript() string {
	s := "grep -s . /proc/sys/net/" + netview.SysctlPath(netview.SysctlIPForward, "")
	for _, k := range netview.LinkSysctls {
		s += " /proc/sys/net/" + netview.SysctlPath(k, "*")
	}
	return s
}

// ParseSysctls adds the output of SysctlScript to the snapshot's links and
// namespace-wide settings. Lines it does not know are skipped.
func ParseSysctls(s *netview.Snapshot, out []byte) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		path, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil {
			continue
		}
		rest, ok := strings.CutPrefix(path, "/proc/sys/net/")
		if !ok {
			continue
		}
		key, ifname, ok := netview.SysctlKey(rest)
		if !ok {
			continue
		}
		if key == netview.SysctlIPForward {
			if s.Sysctls == nil {
				s.Sysctls = map[string]int{}
			}
			s.Sysctls[key] = v
			continue
		}
		// The links' names are sanitised; so must this one be to match.
		l := s.LinkByName(netview.Clean(ifname))
		if l == nil {
			continue // "all" and "default" are not links
		}
		if l.Sysctls == nil {
			l.Sysctls = map[string]int{}
		}
		l.Sysctls[key] = v
	}
}

// NetnsNames reads `ip -j netns list` into the nsid → name map a
// namespace gives its peers.
func NetnsNames(out []byte) (map[int]string, error) {
	var list []struct {
		Name string `json:"name"`
		ID   *int   `json:"id"`
	}
	if err := decode("ip -j netns list", out, &list); err != nil {
		return nil, err
	}
	m := map[int]string{}
	for _, n := range list {
		if n.ID != nil {
			m[*n.ID] = netview.Clean(n.Name)
		}
	}
	return m, nil
}

// ParseRouteGet reads `ip -j route get DST`: the kernel's answer for one
// destination, as a host route in the main table.
func ParseRouteGet(out []byte) (netview.Route, error) {
	var routes []jsonRoute
	if err := decode("ip -j route get", out, &routes); err != nil {
		return netview.Route{}, err
	}
	if len(routes) == 0 {
		return netview.Route{}, fmt.Errorf("ip -j route get: no answer")
	}
	r, _, err := convertRoute(routes[0], nil)
	r.Sanitize()
	return r, err
}
