package sandbox

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"podlab/lab"
	"podlab/netview"
)

// wantRoute is a route a converged node must have.
type wantRoute struct {
	dst   netip.Prefix
	gw    netip.Addr // zero for a blackhole
	proto int
}

func (w wantRoute) String() string {
	if !w.gw.IsValid() {
		return fmt.Sprintf("blackhole %s proto %s", w.dst, protoName(w.proto))
	}
	return fmt.Sprintf("%s via %s proto %s", w.dst, w.gw, protoName(w.proto))
}

func protoName(p int) string {
	if p == protoBird {
		return "bird"
	}
	return fmt.Sprint(p)
}

// wanted lists the routes BGP must have written on node n (bgp mode).
func (b *builder) wanted(n NodeInfo) []wantRoute {
	var w []wantRoute
	for _, o := range b.st.Nodes {
		if o.Name != n.Name {
			w = append(w, wantRoute{o.Block, o.IP, protoBird})
		}
	}
	w = append(w, wantRoute{dst: n.Block, proto: protoBird})
	for _, o := range b.st.Nodes {
		switch {
		case !o.ExtBlock.IsValid():
		case o.Name == n.Name:
			w = append(w, wantRoute{dst: o.ExtBlock, proto: protoBird})
		default:
			w = append(w, wantRoute{o.ExtBlock, o.IP, protoBird})
		}
	}
	// A borrowed address deleted since (delete-pod) is announced no more.
	borrowed := b.o.Borrowed && b.st.Pod(borrowedPod.namespace, borrowedPod.name) != nil
	if borrowed && n.Name != borrowedPod.node {
		w = append(w, wantRoute{netip.PrefixFrom(borrowedPod.ip, 32), b.nodes[borrowedPod.node].IP, protoBird})
	}
	if n.Block6.IsValid() {
		for _, o := range b.st.Nodes {
			if o.Name != n.Name {
				w = append(w, wantRoute{o.Block6, o.IP6, protoBird})
			}
		}
		w = append(w, wantRoute{dst: n.Block6, proto: protoBird})
		if borrowed && n.Name != borrowedPod.node {
			w = append(w, wantRoute{netip.PrefixFrom(ip6Of(borrowedPod.ip), 128), b.nodes[borrowedPod.node].IP6, protoBird})
		}
	}
	return w
}

// listMainRoutes dumps a namespace's main tables (IPv4 and IPv6); tests replace it
// to interrupt the dump as the kernel may.
var listMainRoutes = func(h *netlink.Handle) ([]netlink.Route, error) {
	return h.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
}

// missingRoutes returns which wanted routes node n's kernel lacks. BIRD
// writes routes while we read, so an interrupted dump is read again.
func missingRoutes(ctx context.Context, h *netlink.Handle, want []wantRoute) ([]wantRoute, error) {
	rs, err := lab.RetryDump(ctx, func() ([]netlink.Route, error) { return listMainRoutes(h) })
	if err != nil {
		return nil, err
	}
	var miss []wantRoute
	for _, w := range want {
		found := false
		for _, r := range rs {
			if r.Dst == nil || int(r.Protocol) != w.proto || prefixOf(r.Dst) != w.dst {
				continue
			}
			gw, _ := netip.AddrFromSlice(r.Gw)
			// BGP may give an IPv6 route the peer's link-local address.
			if w.gw.IsValid() && (gw.Unmap() == w.gw || w.gw.Is6() && gw.IsLinkLocalUnicast()) || !w.gw.IsValid() && r.Type == unix.RTN_BLACKHOLE {
				found = true
			}
		}
		if !found {
			miss = append(miss, w)
		}
	}
	return miss, nil
}

// converge waits, bounded, until every node's kernel has its BGP routes
// (bgp mode) or every mesh session is Established (vxlan mode, where
// BIRD writes no routes), and host1 has its sessions and the routes
// the applied actions promise.
func (b *builder) converge(ctx context.Context) error {
	if b.o.StaticRoutes {
		return nil
	}
	deadline := time.Now().Add(convergeTimeout)
	handles := map[string]*netlink.Handle{}
	for _, n := range b.st.Nodes {
		h, ns, err := handle(n.NS)
		if err != nil {
			return err
		}
		ns.Close()
		defer h.Close()
		handles[n.Name] = h
	}
	var host1 *netlink.Handle
	if b.o.Host1 {
		h, ns, err := handle(b.st.Host1NS())
		if err != nil {
			return err
		}
		ns.Close()
		defer h.Close()
		host1 = h
	}
	for {
		var lacking []string
		var worst NodeInfo
		for i, n := range b.st.Nodes {
			var what []string
			if b.o.Mode == netview.ModeVXLAN {
				var peers []birdPeer
				for _, o := range b.st.Nodes {
					if o.Name != n.Name {
						peers = append(peers, birdPeer{Name: meshName(o.IP.String())})
					}
				}
				miss, err := meshEstablished(b.st.Processes[i].Socket, peers)
				if err != nil {
					miss = []string{"its BIRD control socket (" + err.Error() + ")"}
				}
				for _, m := range miss {
					what = append(what, m+" Established")
				}
			} else {
				miss, err := missingRoutes(ctx, handles[n.Name], b.wanted(n))
				if err != nil {
					return err
				}
				for _, m := range miss {
					what = append(what, m.String())
				}
			}
			if len(what) > 0 {
				if len(lacking) == 0 {
					worst = n
				}
				lacking = append(lacking, n.Name+" lacks "+strings.Join(what, ", "))
			}
		}
		if host1 != nil {
			miss, err := b.host1Missing(ctx, host1)
			if err != nil {
				return err
			}
			if miss != "" {
				if len(lacking) == 0 {
					worst = NodeInfo{Name: host1Name}
				}
				lacking = append(lacking, host1Name+" lacks "+miss)
			}
		}
		if len(lacking) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			_, _, _, log := birdFiles(b.o.fileDir(), worst.Name)
			return &convergeError{
				msg: fmt.Sprintf("BGP did not converge within %s: %s; %s's bird log (%s) ends:",
					convergeTimeout, strings.Join(lacking, "; "), worst.Name, log),
				tail: logTail(b.o, log, 12),
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sandbox build stopped while waiting for BGP: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// convergeError is Up's failure to converge; its message ends with the
// tail of a BIRD log, which the command line prints after the error's
// one line (Detail).
type convergeError struct {
	msg, tail string
}

func (e *convergeError) Error() string  { return e.msg + "\n" + e.tail }
func (e *convergeError) Detail() string { return e.tail }
