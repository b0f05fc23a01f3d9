package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"podlab/netview"
)

// dumpRetries is how often a dump the kernel marked as interrupted (the
// tables changed while it ran) is tried again before giving up.
const dumpRetries = 5

// Collect takes a snapshot of the namespace ref points to. It only reads:
// nothing in the namespace is changed (but see nsidMap about the kernel).
func Collect(ctx context.Context, ref NSRef) (*netview.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ns, err := openNSWithin(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	var snap *netview.Snapshot
	err = inNS(ns, func() error {
		var err error
		snap, err = collectHere(ctx, ns)
		return err
	})
	if err != nil {
		return nil, err
	}
	return snap, nil
}

// collectHere runs on a thread inside ns.
func collectHere(ctx context.Context, ns *nsFile) (*netview.Snapshot, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, wrapNS(ns, "opening netlink", err)
	}
	defer h.Close()

	snap := &netview.Snapshot{TakenAt: time.Now().UTC()}
	snap.NS = netview.Namespace{Name: ns.ref.Name, Path: ns.ref.Path, Pid: ns.ref.Pid, Inode: ns.inode}

	rt, err := openRT()
	if err != nil {
		return nil, wrapNS(ns, "opening netlink", err)
	}
	defer rt.Close()
	if d, ok := ctx.Deadline(); ok {
		if err := rt.setDeadline(d); err != nil {
			return nil, wrapNS(ns, "opening netlink", err)
		}
		if err := h.SetSocketTimeout(max(time.Until(d), time.Millisecond)); err != nil {
			return nil, wrapNS(ns, "opening netlink", err)
		}
	}
	links, err := retry(ctx, rt.dumpLinks)
	if err != nil {
		return nil, wrapNS(ns, "listing links", err)
	}
	snap.Links = links
	names := make(map[int]string, len(links))
	for _, l := range links {
		names[l.Index] = l.Name
	}

	snap.Addrs, err = retry(ctx, func() ([]netview.Addr, error) { return rt.dumpAddrs(0, names) })
	if err != nil {
		return nil, wrapNS(ns, "listing addresses", err)
	}

	snap.Routes, err = retry(ctx, func() ([]netview.Route, error) { return rt.dumpRoutes(names, snap.Routes) })
	if err != nil {
		return nil, wrapNS(ns, "listing routes", err)
	}

	snap.Neighs, err = retry(ctx, func() ([]netview.Neigh, error) { return rt.dumpNeighs(names) })
	if err != nil {
		return nil, wrapNS(ns, "listing neighbours", err)
	}

	for i := range snap.Links {
		l := &snap.Links[i]
		if l.Sysctls == nil {
			l.Sysctls = linkSysctls(l.Name)
		} else if v, ok := linkSysctl(l.Name, netview.SysctlProxyDelay); ok {
			l.Sysctls[netview.SysctlProxyDelay] = v
		}
	}
	if v, ok := readSysctl(netview.SysctlPath(netview.SysctlIPForward, "")); ok {
		snap.Sysctls = map[string]int{netview.SysctlIPForward: v}
	}

	ids, self := nsidMap(h, ns)
	snap.NS.NSIDs = ids
	if snap.NS.Name == "" {
		snap.NS.Name = self
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Last: the sysctls above are read by the names as the kernel has them.
	snap.Sanitize()
	return snap, nil
}

func wrapNS(ns *nsFile, what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("network namespace %q: %s: %w", ns.ref.String(), what, err)
}

// RetryDump runs a netlink dump again while the kernel reports it
// interrupted (tables changing while it is read), a bounded number of times.
func RetryDump[T any](ctx context.Context, dump func() ([]T, error)) ([]T, error) {
	return retry(ctx, dump)
}

// retry runs a dump again while the kernel reports it interrupted.
func retry[T any](ctx context.Context, dump func() ([]T, error)) ([]T, error) {
	var err error
	for range dumpRetries {
		if e := ctx.Err(); e != nil {
			return nil, e
		}
		var out []T
		out, err = dump()
		if err == nil {
			return out, nil
		}
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("the kernel kept interrupting the dump (tables changing fast), tried %d times: %w", dumpRetries, err)
}

// dumpLinks lists links with a raw RTM_GETLINK dump: the netlink
// package's Link leaves out the qdisc, broadcast address and ARPHRD type
// that `ip link` shows.
func (c *rtConn) dumpLinks() ([]netview.Link, error) {
	body := make([]byte, unix.SizeofIfInfomsg) // AF_UNSPEC
	var links []netview.Link
	upByIndex := map[int]bool{}
	err := c.dump(unix.RTM_GETLINK, body, func(typ uint16, m []byte) error {
		if typ != unix.RTM_NEWLINK || len(m) < unix.SizeofIfInfomsg {
			return nil
		}
		// struct ifinfomsg: family, pad, type, index, flags, change.
		ifType := native.Uint16(m[2:])
		index := int(int32(native.Uint32(m[4:])))
		flags := native.Uint32(m[8:])
		if len(links) == tableLimits.links {
			return tooMany(tableLimits.links, "links")
		}
		l := netview.Link{Index: index, LinkNetNSID: -1, Group: "default", LinkType: linkTypeName(ifType)}
		var addr, brd []byte
		b := m[unix.SizeofIfInfomsg:]
		for {
			t, v, rest, ok := nextAttr(b)
			if !ok {
				break
			}
			b = rest
			linkAttr(&l, t, v, &addr, &brd)
		}
		if len(b) >= unix.SizeofRtAttr {
			return fmt.Errorf("parsing link %d: a malformed attribute", index)
		}
		finishLink(&l, ifType, flags, addr, brd)
		upByIndex[l.Index] = flags&unix.IFF_UP != 0
		links = append(links, l)
		return nil
	})
	if err != nil {
		return nil, err
	}
	finishLinks(links, upByIndex)
	return links, nil
}

func native32(b []byte) uint32 {
	if len(b) < 4 {
		return 0
	}
	return nl.NativeEndian().Uint32(b)
}

func linkKind(info []byte) string {
	for b := info; ; {
		t, v, rest, ok := nextAttr(b)
		if !ok {
			return ""
		}
		if t == unix.IFLA_INFO_KIND {
			return cString(v)
		}
		b = rest
	}
}

func convAddr(a netlink.Addr, names map[int]string) (netview.Addr, error) {
	p, err := ipNetToPrefix(a.IPNet)
	if err != nil {
		return netview.Addr{}, err
	}
	x := netview.Addr{
		Index:        a.LinkIndex,
		Dev:          names[a.LinkIndex],
		Prefix:       p,
		Broadcast:    ipToAddr(a.Broadcast),
		Scope:        scopeName(uint8(a.Scope), false),
		Label:        a.Label,
		Flags:        addrFlagNames(a.Flags, p.Addr().Is6()),
		ValidLft:     uint32(a.ValidLft),
		PreferredLft: uint32(a.PreferedLft),
	}
	if a.Peer != nil {
		if x.Peer, err = ipNetToPrefix(a.Peer); err != nil {
			return netview.Addr{}, err
		}
	}
	return x, nil
}

func convRoute(r netlink.Route, names map[int]string) (netview.Route, error) {
	x := netview.Route{
		Family:   4,
		Table:    r.Table,
		Type:     routeTypeName(r.Type),
		Gw:       ipToAddr(r.Gw),
		DevIndex: r.LinkIndex,
		Scope:    scopeName(uint8(r.Scope), true),
		Protocol: int(r.Protocol),
		Src:      ipToAddr(r.Src),
		Metric:   r.Priority,
		Flags:    routeFlagNames(r.Flags),
	}
	if r.Family == unix.AF_INET6 {
		x.Family = 6
	}
	for _, nh := range r.MultiPath {
		h := netview.NextHop{Gw: ipToAddr(nh.Gw), DevIndex: nh.LinkIndex, Weight: nh.Hops + 1, Flags: routeFlagNames(nh.Flags)}
		if v, ok := nh.Via.(*netlink.Via); ok && !h.Gw.IsValid() {
			h.Gw = ipToAddr(v.Addr)
		}
		x.NextHops = append(x.NextHops, h)
	}
	if v, ok := r.Via.(*netlink.Via); ok && !x.Gw.IsValid() {
		x.Gw = ipToAddr(v.Addr)
	}
	nameRoute(&x, names)
	if r.Dst == nil {
		if x.Family == 6 {
			x.Dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		} else {
			x.Dst = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		}
	} else {
		p, err := ipNetToPrefix(r.Dst)
		if err != nil {
			return netview.Route{}, err
		}
		x.Dst = p
	}
	return x, nil
}

// convNeigh keeps what `ip neigh show` shows: not the NOARP and NONE
// entries (loopback, multicast), unless they are proxy or externally
// learned ones.
func convNeigh(n netlink.Neigh, names map[int]string) (netview.Neigh, bool) {
	shown := n.State&(0xff&^unix.NUD_NOARP) != 0 || n.Flags&(unix.NTF_PROXY|unix.NTF_EXT_LEARNED) != 0
	if !shown || n.IP == nil {
		return netview.Neigh{}, false
	}
	x := netview.Neigh{
		Index: n.LinkIndex,
		Dev:   names[n.LinkIndex],
		IP:    ipToAddr(n.IP),
		State: neighStateNames(n.State),
		Flags: neighFlagNames(n.Flags),
	}
	if len(n.HardwareAddr) > 0 {
		x.MAC = n.HardwareAddr.String()
	}
	return x, true
}

// linkSysctls reads the interface settings that explain Calico from
// /proc/sys, which shows the namespace of the reading thread (this one).
func linkSysctls(dev string) map[string]int {
	out := map[string]int{}
	for _, key := range netview.LinkSysctls {
		// A link that went away since the dump, or IPv6 disabled,
		// simply has no value.
		if v, ok := linkSysctl(dev, key); ok {
			out[key] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// linkSysctl reads one of netview.LinkSysctls for dev (in the calling
// thread's namespace), or reports false for a name that is not a plain one.
func linkSysctl(dev, key string) (int, bool) {
	if dev == "" || strings.ContainsAny(dev, "/") || dev == "." || dev == ".." {
		return 0, false
	}
	return readSysctl(netview.SysctlPath(key, dev))
}

// readSysctl reads one number under /proc/sys/net: open, one read,
// close, without os.ReadFile's stat and second read (a node's links make
// a hundred of these per snapshot).
func readSysctl(rel string) (int, bool) {
	fd, err := unix.Open("/proc/sys/net/"+rel, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	for err == unix.EINTR {
		fd, err = unix.Open("/proc/sys/net/"+rel, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return 0, false
	}
	defer unix.Close(fd)
	var buf [64]byte
	n, err := unix.Read(fd, buf[:])
	for err == unix.EINTR {
		n, err = unix.Read(fd, buf[:])
	}
	if err != nil || n <= 0 || n == len(buf) {
		return 0, false
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil {
		return 0, false
	}
	return v, true
}

// nsidMap asks this namespace which id it gives each named namespace under
// /run/netns (RTM_GETNSID, the query `ip netns list` makes). The query
// itself does not allocate ids; ids exist because the kernel gave them
// when a veth peer moved there or when a link dump reported a peer's
// link-netnsid. It also returns this namespace's own name, if it has one.
func nsidMap(h *netlink.Handle, ns *nsFile) (map[int]string, string) {
	entries, err := os.ReadDir(NetnsDir)
	if err != nil {
		return nil, ""
	}
	ids := map[int]string{}
	self := ""
	for _, e := range entries {
		// Only root writes here, but what lies here is opened as any
		// namespace path is: never blocking, never through a link.
		f, err := openNSFile(filepath.Join(NetnsDir, e.Name()))
		if err != nil {
			continue
		}
		var st unix.Stat_t
		if unix.Fstat(int(f.Fd()), &st) != nil {
			f.Close()
			continue
		}
		if st.Dev == ns.dev && st.Ino == ns.inode {
			if self == "" {
				self = e.Name()
			}
			f.Close()
			continue
		}
		id, err := h.GetNetNsIdByFd(int(f.Fd()))
		f.Close()
		if err != nil || id < 0 {
			continue
		}
		if _, dup := ids[id]; !dup {
			ids[id] = e.Name()
		}
	}
	if len(ids) == 0 {
		ids = nil
	}
	return ids, self
}

// linkAttr sets what one IFLA attribute says on l; the hardware and
// broadcast addresses wait in hw and brd for the link's type (finishLink).
func linkAttr(l *netview.Link, t uint16, v []byte, hw, brd *[]byte) {
	switch t {
	case unix.IFLA_IFNAME:
		l.Name = cString(v)
	case unix.IFLA_MTU:
		l.MTU = int(native32(v))
	case unix.IFLA_TXQLEN:
		l.TxQLen = int(native32(v))
	case unix.IFLA_QDISC:
		l.Qdisc = cString(v)
	case unix.IFLA_OPERSTATE:
		if len(v) > 0 {
			l.OperState = operStateName(v[0])
		}
	case unix.IFLA_GROUP:
		l.Group = groupName(native32(v))
	case unix.IFLA_ADDRESS:
		*hw = v
	case unix.IFLA_BROADCAST:
		*brd = v
	case unix.IFLA_LINK:
		l.ParentIndex = int(native32(v))
	case unix.IFLA_LINK_NETNSID:
		l.LinkNetNSID = int(int32(native32(v)))
	case unix.IFLA_MASTER:
		l.MasterIndex = int(native32(v))
	case unix.IFLA_LINKINFO:
		l.Kind = linkKind(v)
	case unix.IFLA_AF_SPEC:
		l.Sysctls = afSysctls(v)
	}
}

// finishLink sets what needs all of a link's attributes: its addresses as
// text, its flags, and its parent as ip shows it.
func finishLink(l *netview.Link, ifType uint16, flags uint32, hw, brd []byte) {
	// ip prints @ifN only for a parent other than the link itself.
	if l.ParentIndex == l.Index && l.LinkNetNSID < 0 {
		l.ParentIndex = 0
	}
	l.MAC = hwAddr(hw, ifType)
	l.Broadcast = hwAddr(brd, ifType)
	l.Flags = linkFlagNames(flags, false)
}

// finishLinks marks the links whose master is down, as ip does, and puts
// them in index order.
func finishLinks(links []netview.Link, upByIndex map[int]bool) {
	for i := range links {
		if m := links[i].MasterIndex; m != 0 {
			if up, ok := upByIndex[m]; ok && !up {
				links[i].Flags = append(links[i].Flags, "M-DOWN")
			}
		}
	}
	slices.SortFunc(links, func(a, b netview.Link) int { return a.Index - b.Index })
}
