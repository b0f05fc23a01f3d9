package lab

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"podlab/netview"
)

// A node holds tens of thousands of routes, and a dump through the netlink
// package builds a net.IP, a net.IPNet and an attribute slice for each
// before podlab copies them again. rtConn reads a dump straight from one
// reused buffer into podlab's own types: no allocation per message beyond
// what the snapshot keeps.

// rtConn is a NETLINK_ROUTE socket in the namespace of the thread that
// opened it, used for one dump at a time.
type rtConn struct {
	fd  int
	seq uint32
	buf []byte
	// deadline, when set, ends every read: see setDeadline.
	deadline time.Time
}

// dumpBufSize holds the largest batch the kernel puts in one read of a
// dump (it sizes them to what the reader offered, at most 32 KiB).
const dumpBufSize = 64 << 10

var native = binary.NativeEndian

func openRT() (*rtConn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("opening netlink: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("binding netlink: %w", err)
	}
	return &rtConn{fd: fd, buf: make([]byte, dumpBufSize)}, nil
}

func (c *rtConn) Close() error { return unix.Close(c.fd) }

// setDeadline makes every read after t fail, and a read that waits bound
// to end at t: a dump of any size stays inside the command's deadline.
func (c *rtConn) setDeadline(t time.Time) error {
	c.deadline = t
	if t.IsZero() {
		return nil
	}
	left := max(time.Until(t), time.Millisecond)
	tv := unix.NsecToTimeval(left.Nanoseconds())
	return unix.SetsockoptTimeval(c.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
}

// The tables one snapshot reads from a namespace are bounded, as every
// reader of outside input is: a namespace a student made in a user
// namespace of their own holds tables of any size, and root reads it
// when it looks for the pod (or when told to). The bounds are far above
// a busy node's: a thousand nodes' blocks, a few hundred pods' veths.
var tableLimits = struct{ links, addrs, routes, hops, neighs int }{
	links: 16 << 10, addrs: 64 << 10, routes: 64 << 10, hops: 64 << 10, neighs: 64 << 10,
}

// tooMany is the error of a table over its bound.
func tooMany(limit int, what string) error {
	return fmt.Errorf("more than %d %s, the most podlab reads from one namespace", limit, what)
}

// dump asks for a dump of type typ with the given request body (an
// ifinfomsg, rtmsg... with its family) and hands each message's body to
// fn. A dump the kernel marks as interrupted is read to its end and then
// reported as netlink.ErrDumpInterrupted, which retry repeats.
func (c *rtConn) dump(typ uint16, body []byte, fn func(typ uint16, m []byte) error) error {
	c.seq++
	req := make([]byte, unix.SizeofNlMsghdr+len(body))
	native.PutUint32(req[0:], uint32(len(req)))
	native.PutUint16(req[4:], typ)
	native.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	native.PutUint32(req[8:], c.seq)
	copy(req[unix.SizeofNlMsghdr:], body)
	if err := unix.Sendto(c.fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("sending the dump request: %w", err)
	}
	interrupted := false
	var fnErr error
	for {
		n, flags, err := c.recv()
		if err != nil {
			return err
		}
		if flags&unix.MSG_TRUNC != 0 {
			return errors.New("a netlink message did not fit the read buffer")
		}
		b := c.buf[:n]
		for len(b) > 0 {
			if len(b) < unix.SizeofNlMsghdr {
				return errors.New("a truncated netlink header")
			}
			l := int(native.Uint32(b[0:]))
			mtyp := native.Uint16(b[4:])
			mflags := native.Uint16(b[6:])
			seq := native.Uint32(b[8:])
			if l < unix.SizeofNlMsghdr || l > len(b) {
				return fmt.Errorf("a netlink message of length %d in %d bytes", l, len(b))
			}
			m := b[unix.SizeofNlMsghdr:l]
			if a := nlmAlign(l); a < len(b) {
				b = b[a:]
			} else {
				b = nil
			}
			if seq != c.seq {
				continue // an answer to an earlier request
			}
			if mflags&unix.NLM_F_DUMP_INTR != 0 {
				interrupted = true
			}
			switch mtyp {
			case unix.NLMSG_DONE:
				if len(m) >= 4 {
					if e := int32(native.Uint32(m)); e < 0 {
						return fmt.Errorf("the dump ended with an error: %w", unix.Errno(-e))
					}
				}
				if fnErr != nil {
					return fnErr
				}
				if interrupted {
					return netlink.ErrDumpInterrupted
				}
				return nil
			case unix.NLMSG_ERROR:
				if len(m) < 4 {
					return errors.New("a truncated netlink error")
				}
				if e := int32(native.Uint32(m)); e < 0 {
					return unix.Errno(-e)
				}
			case unix.NLMSG_NOOP, unix.NLMSG_OVERRUN:
			default:
				if fnErr == nil {
					// Keep reading to the end so the socket stays usable.
					fnErr = fn(mtyp, m)
				}
			}
		}
	}
}

func (c *rtConn) recv() (int, int, error) {
	for {
		if !c.deadline.IsZero() && !time.Now().Before(c.deadline) {
			return 0, 0, fmt.Errorf("reading netlink: %w", context.DeadlineExceeded)
		}
		n, _, flags, from, err := unix.Recvmsg(c.fd, c.buf, nil, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) && !c.deadline.IsZero() {
			return 0, 0, fmt.Errorf("reading netlink: %w", context.DeadlineExceeded)
		}
		if err != nil {
			return 0, 0, fmt.Errorf("reading netlink: %w", err)
		}
		if sa, ok := from.(*unix.SockaddrNetlink); ok && sa.Pid != 0 {
			continue // only the kernel speaks here
		}
		return n, flags, nil
	}
}

func nlmAlign(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }
func rtaAlign(n int) int { return (n + unix.RTA_ALIGNTO - 1) &^ (unix.RTA_ALIGNTO - 1) }

// nextAttr splits the first rtattr off b: its type, its value and the
// rest. ok is false at the end or on a malformed attribute.
func nextAttr(b []byte) (typ uint16, val, rest []byte, ok bool) {
	if len(b) < unix.SizeofRtAttr {
		return 0, nil, nil, false
	}
	l := int(native.Uint16(b[0:]))
	if l < unix.SizeofRtAttr || l > len(b) {
		return 0, nil, nil, false
	}
	typ = native.Uint16(b[2:]) & nlaTypeMask
	val = b[unix.SizeofRtAttr:l]
	if a := rtaAlign(l); a < len(b) {
		rest = b[a:]
	}
	return typ, val, rest, true
}

// rawAddr is an address attribute as ipToAddr reads a net.IP: 4 bytes,
// or 16 (a v4-mapped one counting as IPv4). ok is false for any other
// length.
func rawAddr(b []byte) (netip.Addr, bool) {
	switch len(b) {
	case 4:
		return netip.AddrFrom4([4]byte(b)), true
	case 16:
		return netip.AddrFrom16([16]byte(b)).Unmap(), true
	}
	return netip.Addr{}, false
}

// dumpRoutes lists the routes of every table, as `ip route show table
// all` does (cloned ones left out), names their devices from names, and
// appends them to out.
func (c *rtConn) dumpRoutes(names map[int]string, out []netview.Route) ([]netview.Route, error) {
	return c.dumpRoutesOf(unix.AF_UNSPEC, names, out)
}

// dumpRoutesOf is dumpRoutes for one family (AF_UNSPEC: both).
func (c *rtConn) dumpRoutesOf(family uint8, names map[int]string, out []netview.Route) ([]netview.Route, error) {
	body := make([]byte, unix.SizeofRtMsg)
	body[0] = family
	// The messages are kept as they come and parsed once the dump is
	// complete, straight into a slice of the size it needs: a slice of
	// 20,000 routes grown one append at a time is copied over and over,
	// several times its size in garbage the collector must scan. The
	// messages hold no pointers and are a third of the routes' size.
	var kept [][]byte // blocks of messages, each after its length
	block := make([]byte, 0, 16<<10)
	n := 0
	err := c.dump(unix.RTM_GETROUTE, body, func(typ uint16, m []byte) error {
		if typ != unix.RTM_NEWROUTE {
			return nil
		}
		if n == tableLimits.routes {
			return tooMany(tableLimits.routes, "routes")
		}
		if cap(block)-len(block) < 4+len(m) {
			kept = append(kept, block)
			block = make([]byte, 0, max(256<<10, 4+len(m)))
		}
		block = native.AppendUint32(block, uint32(len(m)))
		block = append(block, m...)
		n++
		return nil
	})
	if err != nil {
		return out, err
	}
	start, hops := len(out), 0
	out = slices.Grow(out, n)
	for _, b := range append(kept, block) {
		for len(b) > 0 {
			l := int(native.Uint32(b))
			m := b[4 : 4+l]
			b = b[4+l:]
			r, keep, err := parseRoute(m)
			if err != nil {
				return out[:start], err
			}
			if keep {
				if hops += len(r.NextHops); hops > tableLimits.hops {
					return out[:start], tooMany(tableLimits.hops, "multipath next hops")
				}
				nameRoute(&r, names)
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// parseRoute reads one RTM_NEWROUTE body as convRoute reads the netlink
// package's Route. keep is false for what the listing leaves out.
func parseRoute(m []byte) (netview.Route, bool, error) {
	if len(m) < unix.SizeofRtMsg {
		return netview.Route{}, false, errors.New("a truncated route message")
	}
	family, dstLen := m[0], int(m[1])
	table, proto, scope, typ := int(m[4]), m[5], m[6], m[7]
	flags := int(native.Uint32(m[8:]))
	if flags&unix.RTM_F_CLONED != 0 || (family != unix.AF_INET && family != unix.AF_INET6) {
		return netview.Route{}, false, nil
	}
	x := netview.Route{
		Family:   4,
		Table:    table,
		Type:     routeTypeName(int(typ)),
		Scope:    scopeName(scope, true),
		Protocol: int(proto),
	}
	if family == unix.AF_INET6 {
		x.Family = 6
	}
	var dst []byte
	hasDst := false
	var nh []byte
	for b := m[unix.SizeofRtMsg:]; ; {
		t, v, rest, ok := nextAttr(b)
		if !ok {
			break
		}
		b = rest
		switch t {
		case unix.RTA_DST:
			dst, hasDst = v, true
		case unix.RTA_GATEWAY:
			x.Gw, _ = rawAddr(v)
		case unix.RTA_VIA:
			x.Gw, _ = viaAddr(v)
		case unix.RTA_PREFSRC:
			x.Src, _ = rawAddr(v)
		case unix.RTA_OIF:
			x.DevIndex = int(native32(v))
		case unix.RTA_PRIORITY:
			x.Metric = int(native32(v))
		case unix.RTA_TABLE:
			x.Table = int(native32(v))
		case unix.RTA_MULTIPATH:
			nh = v
		}
	}
	if len(nh) > 0 {
		hops, err := parseNextHops(nh)
		if err != nil {
			return netview.Route{}, false, err
		}
		x.NextHops = hops
	}
	x.Flags = routeFlagNames(flags)
	switch {
	case !hasDst && x.Family == 6:
		x.Dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	case !hasDst:
		x.Dst = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	default:
		a, ok := rawAddr(dst)
		if family == unix.AF_INET6 && len(dst) == 16 {
			// An IPv6 route's prefix stays IPv6: the kernel's
			// unreachable ::ffff:0.0.0.0/96 is no IPv4 prefix.
			a = netip.AddrFrom16([16]byte(dst))
		}
		if dstLen > 8*len(dst) {
			dstLen = 0 // as net.CIDRMask makes of it
		}
		p := netip.PrefixFrom(a, dstLen)
		if !ok || !p.IsValid() {
			return netview.Route{}, false, fmt.Errorf("bad prefix %x/%d", dst, dstLen)
		}
		x.Dst = p
	}
	return x, true, nil
}

// nameRoute names a route's devices, its next hops' too. The next hops
// may be shared with a snapshot already handed out: they are copied
// before they change.
func nameRoute(r *netview.Route, names map[int]string) {
	r.Dev = names[r.DevIndex]
	for i := range r.NextHops {
		if n := names[r.NextHops[i].DevIndex]; n != r.NextHops[i].Dev {
			hops := slices.Clone(r.NextHops)
			for j := range hops {
				hops[j].Dev = names[hops[j].DevIndex]
			}
			r.NextHops = hops
			return
		}
	}
}

// maxNextHops bounds one route's next hops (the kernel takes more; no
// node routes over more paths than this); tableLimits.hops bounds them
// all in one dump.
const maxNextHops = 256

// parseNextHops reads RTA_MULTIPATH: rtnexthop headers, each followed by
// its own attributes (a gateway), in the kernel's order.
func parseNextHops(b []byte) ([]netview.NextHop, error) {
	var hops []netview.NextHop
	for len(b) >= unix.SizeofRtNexthop {
		l := int(native.Uint16(b[0:]))
		if l < unix.SizeofRtNexthop || l > len(b) {
			return nil, errors.New("a malformed multipath next hop")
		}
		if len(hops) == maxNextHops {
			return nil, fmt.Errorf("a route with more than %d next hops, the most podlab reads", maxNextHops)
		}
		h := netview.NextHop{
			Flags:    routeFlagNames(int(b[2])),
			Weight:   int(b[3]) + 1, // as ip prints it: rtnh_hops + 1
			DevIndex: int(int32(native.Uint32(b[4:]))),
		}
		for a := b[unix.SizeofRtNexthop:l]; ; {
			t, v, rest, ok := nextAttr(a)
			if !ok {
				break
			}
			a = rest
			switch t {
			case unix.RTA_GATEWAY:
				h.Gw, _ = rawAddr(v)
			case unix.RTA_VIA:
				h.Gw, _ = viaAddr(v)
			}
		}
		hops = append(hops, h)
		b = b[min(rtaAlign(l), len(b)):]
	}
	return hops, nil
}

// viaAddr reads RTA_VIA (struct rtvia): an IPv4 route's IPv6 next hop.
func viaAddr(b []byte) (netip.Addr, bool) {
	if len(b) < 2 {
		return netip.Addr{}, false
	}
	switch native.Uint16(b) {
	case unix.AF_INET:
		if len(b) >= 6 {
			return netip.AddrFrom4([4]byte(b[2:6])), true
		}
	case unix.AF_INET6:
		if len(b) >= 18 {
			return netip.AddrFrom16([16]byte(b[2:18])), true
		}
	}
	return netip.Addr{}, false
}

// nlaTypeMask strips the nested and byte-order bits from an attribute type.
const nlaTypeMask = ^uint16(unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER)

// Indexes into the devconf arrays a link dump carries under IFLA_AF_SPEC
// (include/uapi/linux/ip.h and ipv6.h): IPv4's count from 1, IPv6's from 0.
const (
	ipv4DevconfForwarding    = 1
	ipv4DevconfProxyARP      = 3
	ipv4DevconfRPFilter      = 8
	ipv4DevconfRouteLocalnet = 26
	ipv6DevconfAcceptRA      = 3
)

// afSysctls reads a link's per-interface settings from its IFLA_AF_SPEC:
// the same values /proc/sys/net/ipv{4,6}/conf/<if>/ shows, without six
// file reads per link. proxy_delay is a neighbour-table setting and is
// not there. nil when the link has no IPv4 settings.
func afSysctls(spec []byte) map[string]int {
	var v4, v6 []byte
	for b := spec; ; {
		fam, v, rest, ok := nextAttr(b)
		if !ok {
			break
		}
		b = rest
		for c := v; ; {
			t, conf, rest, ok := nextAttr(c)
			if !ok {
				break
			}
			c = rest
			switch {
			case fam == unix.AF_INET && t == unix.IFLA_INET_CONF:
				v4 = conf
			case fam == unix.AF_INET6 && t == unix.IFLA_INET6_CONF:
				v6 = conf
			}
		}
	}
	at := func(conf []byte, i int) (int, bool) {
		if len(conf) < 4*(i+1) {
			return 0, false
		}
		return int(int32(native.Uint32(conf[4*i:]))), true
	}
	if len(v4) == 0 {
		return nil
	}
	out := make(map[string]int, 6)
	for key, i := range map[string]int{
		netview.SysctlProxyARP:      ipv4DevconfProxyARP - 1,
		netview.SysctlForwarding:    ipv4DevconfForwarding - 1,
		netview.SysctlRouteLocalnet: ipv4DevconfRouteLocalnet - 1,
		netview.SysctlRPFilter:      ipv4DevconfRPFilter - 1,
	} {
		if x, ok := at(v4, i); ok {
			out[key] = x
		}
	}
	if x, ok := at(v6, ipv6DevconfAcceptRA); ok {
		out[netview.SysctlAcceptRA] = x
	}
	return out
}

// dumpAddrs lists the addresses of link index (0: of every link) as the
// netlink package's AddrList reads them, named from names, bounded.
func (c *rtConn) dumpAddrs(index int, names map[int]string) ([]netview.Addr, error) {
	body := make([]byte, unix.SizeofIfAddrmsg) // AF_UNSPEC
	var out []netview.Addr
	err := c.dump(unix.RTM_GETADDR, body, func(typ uint16, m []byte) error {
		if typ != unix.RTM_NEWADDR || len(m) < unix.SizeofIfAddrmsg {
			return nil
		}
		a, err := parseAddr(m)
		if err != nil {
			return err
		}
		if index != 0 && a.LinkIndex != index {
			return nil
		}
		if len(out) == tableLimits.addrs {
			return tooMany(tableLimits.addrs, "addresses")
		}
		// The message's bytes are reused by the next read: convAddr
		// keeps none of them.
		x, err := convAddr(a, names)
		if err != nil {
			return fmt.Errorf("reading an address: %w", err)
		}
		out = append(out, x)
		return nil
	})
	return out, err
}

// parseAddr reads one RTM_NEWADDR body as the netlink package does
// (its parseAddr): with IFA_LOCAL, IFA_ADDRESS is the peer unless equal.
func parseAddr(m []byte) (netlink.Addr, error) {
	// struct ifaddrmsg: family, prefixlen, flags, scope, index.
	family, plen := m[0], int(m[1])
	a := netlink.Addr{LinkIndex: int(native.Uint32(m[4:])), Scope: int(m[3])}
	var local, dst *net.IPNet
	b := m[unix.SizeofIfAddrmsg:]
	for {
		t, v, rest, ok := nextAttr(b)
		if !ok {
			break
		}
		b = rest
		switch t {
		case unix.IFA_ADDRESS:
			dst = &net.IPNet{IP: v, Mask: net.CIDRMask(plen, 8*len(v))}
		case unix.IFA_LOCAL:
			// A local address with a peer has no prefix of its own.
			local = &net.IPNet{IP: v, Mask: net.CIDRMask(8*len(v), 8*len(v))}
		case unix.IFA_BROADCAST:
			a.Broadcast = v
		case unix.IFA_LABEL:
			a.Label = cString(v)
		case unix.IFA_FLAGS:
			a.Flags = int(native32(v))
		case unix.IFA_CACHEINFO:
			// struct ifa_cacheinfo: preferred, valid, cstamp, tstamp.
			if len(v) >= 8 {
				a.PreferedLft = int(native.Uint32(v[0:]))
				a.ValidLft = int(native.Uint32(v[4:]))
			}
		}
	}
	if len(b) >= unix.SizeofRtAttr {
		return a, fmt.Errorf("parsing an address of link %d: a malformed attribute", a.LinkIndex)
	}
	switch {
	case local != nil && family == unix.AF_INET && dst != nil && local.IP.Equal(dst.IP):
		a.IPNet = dst
	case local != nil:
		a.IPNet, a.Peer = local, dst
	default:
		a.IPNet = dst
	}
	if a.IPNet == nil {
		return a, fmt.Errorf("an address of link %d without one", a.LinkIndex)
	}
	return a, nil
}

// dumpNeighs lists the neighbour entries `ip neigh show` shows, named
// from names, bounded.
func (c *rtConn) dumpNeighs(names map[int]string) ([]netview.Neigh, error) {
	body := make([]byte, unix.SizeofNdMsg) // AF_UNSPEC
	var out []netview.Neigh
	n := 0
	err := c.dump(unix.RTM_GETNEIGH, body, func(typ uint16, m []byte) error {
		if typ != unix.RTM_NEWNEIGH || len(m) < unix.SizeofNdMsg {
			return nil
		}
		if n == tableLimits.neighs {
			return tooMany(tableLimits.neighs, "neighbour entries")
		}
		n++
		e, err := netlink.NeighDeserialize(m)
		if err != nil {
			return nil // as NeighList: an entry it cannot read is left out
		}
		// convNeigh copies what it keeps (the bytes are reused).
		if x, ok := convNeigh(*e, names); ok {
			out = append(out, x)
		}
		return nil
	})
	return out, err
}
