package sandbox

import (
	"fmt"
	"net/netip"

	"podlab/netview"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func (b *builder) recordRoute(ns string, r *netlink.Route) error {
	b.st.Routes = append(b.st.Routes, RouteInfo{NS: ns, Route: r.String()})
	return b.save()
}

// staticRoutes writes, without BGP, the routes BIRD would: the other
// nodes' blocks via them and our own blackhole, all proto bird (12). The
// state says static_routes so every view can say so. In vxlan mode the
// block routes are Felix's, already written.
func (b *builder) staticRoutes() error {
	for _, n := range b.st.Nodes {
		if b.o.Mode == netview.ModeVXLAN {
			continue
		}
		h, ns, err := handle(n.NS)
		if err != nil {
			return err
		}
		err = b.writeRoutes(h, n, protoBird)
		h.Close()
		ns.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// writeRoutes writes a node's block routes the way the routing daemon of
// the mode would: for bgp via the other nodes on eth0, for vxlan via
// their VTEPs, onlink, after a route to each VTEP; plus the own block's
// blackhole and a borrowed /32.
func (b *builder) writeRoutes(h *netlink.Handle, n NodeInfo, proto netlink.RouteProtocol) error {
	dev := "eth0"
	if b.o.Mode == netview.ModeVXLAN {
		dev = vxlanName
	}
	l, err := h.LinkByName(dev)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", dev, n.Name, err)
	}
	add := func(r *netlink.Route) error {
		if err := b.recordRoute(n.NS, r); err != nil {
			return err
		}
		if err := h.RouteAdd(r); err != nil {
			return fmt.Errorf("route %s on %s: %w", r, n.Name, err)
		}
		return nil
	}
	via := func(o NodeInfo, dst netip.Prefix) *netlink.Route {
		r := &netlink.Route{LinkIndex: l.Attrs().Index, Dst: ipnet(dst), Gw: o.IP.AsSlice(), Protocol: proto}
		if b.o.Mode == netview.ModeVXLAN {
			r.Gw = o.VTEP.AsSlice()
			r.Flags = int(netlink.FLAG_ONLINK)
		}
		return r
	}
	for _, o := range b.st.Nodes {
		if o.Name == n.Name {
			continue
		}
		if b.o.Mode == "vxlan" {
			// Current Felix's route to the node's tunnel address itself:
			// no gateway, the address is on the VXLAN device's far side.
			r := &netlink.Route{LinkIndex: l.Attrs().Index, Dst: host32(o.VTEP), Scope: netlink.SCOPE_LINK, Protocol: proto}
			if err := add(r); err != nil {
				return err
			}
		}
		if err := add(via(o, o.Block)); err != nil {
			return err
		}
	}
	if err := add(&netlink.Route{Dst: ipnet(n.Block), Type: unix.RTN_BLACKHOLE, Protocol: proto}); err != nil {
		return err
	}
	if b.o.Borrowed && n.Name != borrowedPod.node {
		o := *b.nodes[borrowedPod.node]
		if err := add(via(o, netip.PrefixFrom(borrowedPod.ip, 32))); err != nil {
			return err
		}
	}
	return nil
}

// vxlan gives each node a vxlan.calico VTEP and writes, as Felix does,
// the static neighbour and FDB entries for the other VTEPs and the
// routes to their blocks with proto 80.
func (b *builder) vxlan() error {
	for i := range b.st.Nodes {
		n := b.st.Nodes[i]
		if err := b.recordLinks(LinkRec{NS: n.NS, Name: vxlanName, Kind: "vxlan"}); err != nil {
			return err
		}
		h, ns, err := handle(n.NS)
		if err != nil {
			return err
		}
		err = b.vxlanNode(h, n)
		h.Close()
		ns.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) vxlanNode(h *netlink.Handle, n NodeInfo) error {
	eth0, err := h.LinkByName("eth0")
	if err != nil {
		return fmt.Errorf("find eth0 in %s: %w", n.NS, err)
	}
	mac := vtepMAC(n.VTEP)
	vx := &netlink.Vxlan{
		LinkAttrs:    netlink.LinkAttrs{Name: vxlanName, Index: vxlanIdx, MTU: vxlanMTU, HardwareAddr: mac},
		VxlanId:      vxlanVNI,
		VtepDevIndex: eth0.Attrs().Index,
		SrcAddr:      n.IP.AsSlice(),
		Port:         vxlanPort,
		Learning:     false,
	}
	if err := h.LinkAdd(vx); err != nil {
		vx.Index = 0
		if err2 := h.LinkAdd(vx); err2 != nil {
			return fmt.Errorf("add %s on %s: %w", vxlanName, n.Name, err2)
		}
	}
	l, err := h.LinkByName(vxlanName)
	if err != nil {
		return fmt.Errorf("find %s in %s: %w", vxlanName, n.NS, err)
	}
	b.setLinkIndex(n.NS, vxlanName, l.Attrs().Index)
	if err := h.AddrAdd(l, &netlink.Addr{IPNet: host32(n.VTEP)}); err != nil {
		return fmt.Errorf("address on %s of %s: %w", vxlanName, n.Name, err)
	}
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("set %s up in %s: %w", l.Attrs().Name, n.NS, err)
	}
	for _, o := range b.st.Nodes {
		if o.Name == n.Name {
			continue
		}
		omac := vtepMAC(o.VTEP)
		if err := h.NeighSet(&netlink.Neigh{LinkIndex: l.Attrs().Index, Family: unix.AF_INET, State: netlink.NUD_PERMANENT,
			IP: o.VTEP.AsSlice(), HardwareAddr: omac}); err != nil {
			return fmt.Errorf("neighbour %s on %s: %w", o.VTEP, n.Name, err)
		}
		if err := h.NeighSet(&netlink.Neigh{LinkIndex: l.Attrs().Index, Family: unix.AF_BRIDGE, State: netlink.NUD_PERMANENT,
			Flags: netlink.NTF_SELF, IP: o.IP.AsSlice(), HardwareAddr: omac}); err != nil {
			return fmt.Errorf("fdb %s on %s: %w", omac, n.Name, err)
		}
	}
	return b.writeRoutes(h, n, protoFelix)
}
