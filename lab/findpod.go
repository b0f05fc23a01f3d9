package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"podlab/netview"
)

// method is how findPodNSBy found a pod's namespace.
type method string

// The two ways to find a pod's namespace from its node.
const (
	// methodNSID follows the host route to the pod IP to its cali link,
	// and that link's link-netnsid to a named namespace (cni-<uuid>).
	methodNSID method = "nsid"
	// methodScan looks through /run/netns and /proc/*/ns/net for the
	// namespace whose eth0 holds the pod IP.
	methodScan method = "scan"
)

// FindPodNS finds the namespace of the pod with podIP, seen from the host
// namespace of its node: by nsid first, then by scanning.
func FindPodNS(ctx context.Context, host NSRef, podIP netip.Addr) (NSRef, error) {
	ref, _, err := findPodNSBy(ctx, host, podIP)
	return ref, err
}

// findPodNSBy is FindPodNS that also says which method found the
// namespace. methods chooses the methods and their order (default: nsid,
// then scan).
func findPodNSBy(ctx context.Context, host NSRef, podIP netip.Addr, methods ...method) (NSRef, method, error) {
	if !podIP.IsValid() {
		return NSRef{}, "", errors.New("no pod IP given: podlab needs the pod's IP to find its namespace")
	}
	podIP = podIP.Unmap()
	if len(methods) == 0 {
		methods = []method{methodNSID, methodScan}
	}
	hostNS, err := openNSWithin(ctx, host)
	if err != nil {
		return NSRef{}, "", err
	}
	defer hostNS.Close()

	var why []string
	for _, m := range methods {
		if err := ctx.Err(); err != nil {
			return NSRef{}, "", err
		}
		var ref NSRef
		var found bool
		switch m {
		case methodNSID:
			ref, found, err = findByNSID(hostNS, podIP)
		case methodScan:
			ref, found, err = findByScan(ctx, hostNS, podIP)
		default:
			return NSRef{}, "", fmt.Errorf("unknown method %q", m)
		}
		if errors.Is(err, ErrNeedRoot) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return NSRef{}, "", err
		}
		if found {
			return ref, m, nil
		}
		if err != nil {
			why = append(why, fmt.Sprintf("%s: %v", m, err))
		}
	}
	if os.Geteuid() != 0 {
		// A plain user sees no namespace but its own: say so, rather
		// than that the pod is not here.
		return NSRef{}, "", fmt.Errorf("%w: finding the pod with %s means looking into every namespace on this node: run podlab with sudo, or use its built-in recording", ErrNeedRoot, podIP)
	}
	msg := fmt.Sprintf("no network namespace on this node has %s on its eth0", podIP)
	for _, w := range why {
		msg += "; " + w
	}
	return NSRef{}, "", errors.New(msg + ": is the pod on this node?")
}

// findByNSID: host route to podIP → its link → link-netnsid → the named
// namespace the host gives that id.
func findByNSID(host *nsFile, podIP netip.Addr) (NSRef, bool, error) {
	var ref NSRef
	var found bool
	err := inNS(host, func() error {
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return err
		}
		defer h.Close()
		bits := podIP.BitLen()
		filter := &netlink.Route{
			Table: unix.RT_TABLE_MAIN,
			Dst:   &net.IPNet{IP: podIP.AsSlice(), Mask: net.CIDRMask(bits, bits)},
		}
		fam := netlink.FAMILY_V4
		if podIP.Is6() {
			fam = netlink.FAMILY_V6
		}
		routes, err := retry(context.Background(), func() ([]netlink.Route, error) {
			return h.RouteListFiltered(fam, filter, netlink.RT_FILTER_DST|netlink.RT_FILTER_TABLE)
		})
		if err != nil {
			return err
		}
		if len(routes) == 0 || routes[0].LinkIndex == 0 {
			return fmt.Errorf("no route %s/%d to a pod interface in %s", podIP, bits, host.ref.String())
		}
		link, err := h.LinkByIndex(routes[0].LinkIndex)
		if err != nil {
			return fmt.Errorf("link %d of the route to %s: %w", routes[0].LinkIndex, podIP, err)
		}
		id := link.Attrs().NetNsID
		if id < 0 {
			return fmt.Errorf("%s (the route to %s) has no link-netnsid: not a veth to another namespace", link.Attrs().Name, podIP)
		}
		ids, _ := nsidMap(h, host)
		name, ok := ids[id]
		if !ok {
			return fmt.Errorf("%s points to link-netnsid %d, which no namespace under %s has", link.Attrs().Name, id, NetnsDir)
		}
		ref, found = NSRef{Name: name}, true
		return nil
	})
	return ref, found, err
}

// findByScan looks at every named namespace, then every process's one
// (each namespace once), for an eth0 holding podIP.
func findByScan(ctx context.Context, host *nsFile, podIP netip.Addr) (NSRef, bool, error) {
	type key struct{ dev, ino uint64 }
	seen := map[key]bool{{host.dev, host.inode}: true}
	var cands []NSRef
	add := func(ref NSRef, path string) {
		var st unix.Stat_t
		if unix.Stat(path, &st) != nil {
			return
		}
		if k := (key{st.Dev, st.Ino}); !seen[k] {
			seen[k] = true
			cands = append(cands, ref)
		}
	}
	if entries, err := os.ReadDir(NetnsDir); err == nil {
		for _, e := range entries {
			add(NSRef{Name: e.Name()}, filepath.Join(NetnsDir, e.Name()))
		}
	}
	if entries, err := os.ReadDir("/proc"); err == nil {
		for _, e := range entries {
			if pid, err := strconv.Atoi(e.Name()); err == nil {
				add(NSRef{Pid: pid}, filepath.Join("/proc", e.Name(), "ns/net"))
			}
		}
	}
	for _, ref := range cands {
		if err := ctx.Err(); err != nil {
			return NSRef{}, false, err
		}
		ok, err := eth0Has(ctx, ref, podIP, host)
		if errors.Is(err, ErrNeedRoot) {
			return NSRef{}, false, err
		}
		if ok {
			return ref, true, nil
		}
		// A namespace that vanished or is not readable is just not it.
	}
	return NSRef{}, false, fmt.Errorf("looked at %d namespaces", len(cands))
}

// eth0Has reports whether ref's eth0 holds ip and is the pod end of a veth
// whose other end lives in host: a namespace with the pod's IP whose peer
// is elsewhere (a pod on another sandbox node, say) is not this node's pod.
//
// Any process's namespace is looked at, a student's own among them: its
// addresses are read as a snapshot's are, bounded and within ctx.
func eth0Has(ctx context.Context, ref NSRef, ip netip.Addr, host *nsFile) (bool, error) {
	ns, err := openNSWithin(ctx, ref)
	if err != nil {
		return false, err
	}
	defer ns.Close()
	var has bool
	err = inNS(ns, func() error {
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return err
		}
		defer h.Close()
		link, err := h.LinkByName("eth0")
		if err != nil {
			return nil // no eth0 here
		}
		rt, err := openRT()
		if err != nil {
			return err
		}
		defer rt.Close()
		if d, ok := ctx.Deadline(); ok {
			if err := rt.setDeadline(d); err != nil {
				return err
			}
		}
		addrs, err := retry(ctx, func() ([]netview.Addr, error) { return rt.dumpAddrs(link.Attrs().Index, nil) })
		if err != nil {
			return err
		}
		holds := false
		for _, a := range addrs {
			if a.Prefix.Addr() == ip {
				holds = true
			}
		}
		if !holds {
			return nil
		}
		// The id this namespace gives host must be eth0's link-netnsid.
		// The link dump above has already made the kernel assign eth0's.
		id, err := h.GetNetNsIdByFd(int(host.f.Fd()))
		has = err == nil && id >= 0 && id == link.Attrs().NetNsID
		return nil
	})
	return has, err
}
