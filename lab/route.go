package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"podlab/netview"
)

// RouteGet is the kernel's own answer, in the namespace ref points to, to
// "which route does a packet to dst take". For a destination the kernel
// refuses (blackhole, unreachable, prohibit) it is the refusing route.
func RouteGet(ctx context.Context, ref NSRef, dst netip.Addr) (netview.Route, error) {
	if err := ctx.Err(); err != nil {
		return netview.Route{}, err
	}
	h, err := openHandle(ref)
	if err != nil {
		return netview.Route{}, err
	}
	defer h.Close()
	return routeGet(ctx, h, ref, dst)
}

// openHandle opens a netlink handle in ref's namespace.
func openHandle(ref NSRef) (*netlink.Handle, error) {
	ns, err := openNS(ref)
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	var h *netlink.Handle
	err = inNS(ns, func() error {
		var err error
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("network namespace %q: %w", ref.String(), err)
	}
	return h, nil
}

func routeGet(ctx context.Context, h *netlink.Handle, ref NSRef, dst netip.Addr) (netview.Route, error) {
	if err := ctx.Err(); err != nil {
		return netview.Route{}, err
	}
	routes, err := h.RouteGet(dst.AsSlice())
	if err == nil && len(routes) > 0 {
		r, err := convRoute(routes[0], nil)
		return named(h, r), err
	}
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EHOSTUNREACH) || errors.Is(err, unix.EACCES) {
		// The kernel answers these with an error, not the route: find the
		// route that made it refuse.
		list := func() ([]netlink.Route, error) {
			return h.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
		}
		r, ok, lerr := refusingRoute(ctx, list, h, dst)
		if lerr != nil {
			return netview.Route{}, fmt.Errorf("the kernel refuses %s in namespace %s (%v), and listing its routes to say why failed: %w", dst, ref, err, lerr)
		}
		if ok {
			return r, nil
		}
	}
	if err == nil {
		err = errors.New("empty answer")
	}
	return netview.Route{}, fmt.Errorf("the kernel has no route to %s in namespace %s: %w", dst, ref, err)
}

// refusingRoute is the main-table route dst matches, if it is not unicast.
// The dump is retried as Collect's are: one the kernel interrupted may
// lack the very route that refuses.
func refusingRoute(ctx context.Context, list func() ([]netlink.Route, error), h *netlink.Handle, dst netip.Addr) (netview.Route, bool, error) {
	rs, err := retry(ctx, list)
	if err != nil {
		return netview.Route{}, false, err
	}
	s := &netview.Snapshot{}
	for _, r := range rs {
		if x, err := convRoute(r, nil); err == nil {
			s.Routes = append(s.Routes, x)
		}
	}
	r, ok := netview.Lookup(s, dst)
	if !ok || r.Type == "unicast" {
		return netview.Route{}, false, nil
	}
	return named(h, r), true, nil
}

// named fills in the route's device name, which convRoute leaves to a
// link dump the caller did not make.
func named(h *netlink.Handle, r netview.Route) netview.Route {
	if r.DevIndex != 0 && h != nil {
		if l, err := h.LinkByIndex(r.DevIndex); err == nil {
			r.Dev = l.Attrs().Name
		}
	}
	for i := range r.NextHops {
		if h == nil {
			break
		}
		if l, err := h.LinkByIndex(r.NextHops[i].DevIndex); err == nil {
			r.NextHops[i].Dev = l.Attrs().Name
		}
	}
	r.Sanitize()
	return r
}
