package netview

import (
	"fmt"
	"strconv"
)

// Uplink is the node's own way out: the link its default route leaves
// by, else the one holding its address.
type Uplink struct {
	Link *Link
	// Veth: the uplink is itself a veth into another namespace (its ip
	// link line reads eth0@if4 … link-netnsid 0, the shape of a pod's
	// cable), because the node is a network namespace: in podlab's
	// sandbox each node's uplink is a veth into the fabric namespace.
	// A real node's uplink is its NIC (2: eth0: with no @if).
	Veth bool
}

// HostUplink finds the node's uplink in the pair's host snapshot; ok is
// false when the node has neither a default route nor an address the
// facts name, or when that link is a pod's host end.
func HostUplink(p *Pair) (u Uplink, ok bool) {
	h := &p.Host
	var l *Link
	for i := range h.Routes {
		r := &h.Routes[i]
		if r.Table == TableMain && r.Dst.IsValid() && r.Dst.Bits() == 0 && r.Dst.Addr().Is4() && r.Dev != "" {
			l = h.LinkByName(r.Dev)
			break
		}
	}
	if l == nil {
		for _, n := range p.Facts.Nodes {
			if n.Name != p.Facts.Node || !n.InternalIP.IsValid() {
				continue
			}
			for _, a := range h.Addrs {
				if a.Prefix.Addr() == n.InternalIP {
					l = h.LinkByIndex(a.Index)
				}
			}
		}
	}
	if l == nil || (l.Kind == "veth" && isPodEnd(p, l)) {
		return Uplink{}, false
	}
	return Uplink{Link: l, Veth: l.Kind == "veth" || l.ParentIndex > 0 && l.LinkNetNSID >= 0}, true
}

// isPodEnd: a host end of a pod's veth, by Felix's prefix.
func isPodEnd(p *Pair, l *Link) bool {
	pre := p.Facts.Prefix()
	return len(l.Name) >= len(pre) && l.Name[:len(pre)] == pre
}

// Name is the uplink as ip link names it: eth0@if4 for a veth.
func (u Uplink) Name() string {
	if u.Link == nil {
		return ""
	}
	if u.Veth && u.Link.ParentIndex > 0 {
		return u.Link.Name + "@if" + strconv.Itoa(u.Link.ParentIndex)
	}
	return u.Link.Name
}

// Why says what the uplink is, and for a veth why a node has one.
func (u Uplink) Why() string {
	if u.Link == nil {
		return ""
	}
	if !u.Veth {
		return fmt.Sprintf("%s is the node's own uplink, its NIC: the way to the other nodes and out (no @if: it is no veth)", u.Link.Name)
	}
	return fmt.Sprintf("%s is the node's own uplink, not a pod's cable. It is a veth too (@if%d, link-netnsid %d) because this node is itself a network namespace: in podlab's sandbox each node's uplink is a veth into the fabric namespace. On a real node it is the NIC, shown as %s: with no @if.",
		u.Name(), u.Link.ParentIndex, u.Link.LinkNetNSID, u.Link.Name)
}
