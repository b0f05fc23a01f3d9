package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"podlab/lab"
	"podlab/netview"
)

// Lab is the sandbox as a lab: the customer pod and its node, node1.
type Lab struct {
	opts Options
	st   *State
	// built says Open built the sandbox; Close then removes it unless Keep.
	built bool
	// Keep leaves a sandbox this Lab built in place on Close.
	Keep bool
	// Namespace and Pod choose the pod shown; the customer pod by default.
	Namespace, Pod string
}

// Open returns the sandbox as a lab. With build it builds the sandbox if
// it is not up (and Close will remove it); without, the sandbox must be up.
func Open(ctx context.Context, opts Options, build bool) (*Lab, error) {
	o := opts.withDefaults()
	l := &Lab{opts: o, Namespace: CustomerNamespace, Pod: CustomerPod}
	if build {
		sb, err := Up(ctx, o)
		if err != nil {
			return nil, err
		}
		l.st, l.built = sb.State, sb.Built
		return l, nil
	}
	st, err := Status(o)
	if err != nil {
		return nil, err
	}
	if len(st.Problems) > 0 {
		return nil, fmt.Errorf("sandbox %q is not healthy (%s): run sudo podlab sandbox down, then up", o.Prefix, st.Problems[0])
	}
	l.st = st
	return l, nil
}

// Kind is "sandbox".
func (l *Lab) Kind() string { return "sandbox" }

// State is the sandbox's recorded state.
func (l *Lab) State() *State { return l.st }

// Describe says in one line what the lab shows.
func (l *Lab) Describe() string {
	p := l.pod()
	node := "?"
	if p != nil {
		node = p.Node
	}
	return fmt.Sprintf("sandbox %s (%s): pod %s/%s on %s", l.st.Prefix, modeLine(l.st), l.Namespace, l.Pod, node)
}

func (l *Lab) pod() *PodInfo { return l.st.Pod(l.Namespace, l.Pod) }

// Facts are what a cluster would say about the sandbox's pods and nodes.
func (l *Lab) Facts() netview.Facts {
	return l.st.Facts(l.Namespace, l.Pod)
}

// Facts builds the cluster facts with the given pod as the one followed.
func (s *State) Facts(namespace, name string) netview.Facts {
	f := netview.Facts{
		Mode:            s.Mode,
		InterfacePrefix: ifPrefix,
		BlockSize:       blockSize,
		ClusterCIDR:     clusterCIDR,
	}
	for _, p := range s.Pods {
		pf := netview.PodFact{Namespace: p.Namespace, Name: p.Name, IP: p.IP, Node: p.Node, Phase: "Running"}
		f.Pods = append(f.Pods, pf)
		if p.Namespace == namespace && p.Name == name {
			f.Pod, f.Node = pf, p.Node
		}
	}
	for _, n := range s.Nodes {
		f.Nodes = append(f.Nodes, netview.NodeFact{Name: n.Name, InternalIP: n.IP})
		f.Blocks = append(f.Blocks, netview.Block{CIDR: n.Block, Node: n.Name})
	}
	return f
}

// Collect snapshots the pod's namespace and its node's, with the facts.
func (l *Lab) Collect(ctx context.Context) (*netview.Pair, error) {
	p := l.pod()
	if p == nil {
		return nil, fmt.Errorf("sandbox %q has no pod %s/%s", l.st.Prefix, l.Namespace, l.Pod)
	}
	pod, err := lab.Collect(ctx, lab.NSRef{Name: p.NS})
	if err != nil {
		return nil, fmt.Errorf("pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	host, err := lab.Collect(ctx, lab.NSRef{Name: l.st.NodeNS(p.Node)})
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", p.Node, err)
	}
	// On a real node the host namespace and the uplink's far side have no
	// name under /run/netns; the sandbox's do. Forget them, so the pod
	// shows `link-netnsid 0` as in the lesson rather than the node's name.
	forgetNames(pod, l.st.NodeNS(p.Node))
	forgetNames(host, l.st.FabricNS())
	return &netview.Pair{Pod: *pod, Host: *host, Facts: l.Facts()}, nil
}

func forgetNames(s *netview.Snapshot, names ...string) {
	for id, n := range s.NS.NSIDs {
		for _, drop := range names {
			if n == drop {
				delete(s.NS.NSIDs, id)
			}
		}
	}
}

// Route is the kernel's own answer, in the pod's node's namespace, for
// the route to dst. A blackhole makes the kernel refuse the lookup
// (EINVAL); the answer is then the blackhole route that matched.
func (l *Lab) Route(ctx context.Context, dst netip.Addr) (netview.Route, error) {
	p := l.pod()
	if p == nil {
		return netview.Route{}, fmt.Errorf("sandbox %q has no pod %s/%s", l.st.Prefix, l.Namespace, l.Pod)
	}
	return RouteGet(ctx, l.st.NodeNS(p.Node), dst)
}

// RouteGet asks the kernel in namespace ns for the route to dst.
func RouteGet(ctx context.Context, ns string, dst netip.Addr) (netview.Route, error) {
	if err := ctx.Err(); err != nil {
		return netview.Route{}, err
	}
	h, nsh, err := handle(ns)
	if err != nil {
		return netview.Route{}, err
	}
	defer nsh.Close()
	defer h.Close()
	rs, err := h.RouteGet(dst.AsSlice())
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EHOSTUNREACH) || errors.Is(err, unix.EACCES) {
		// The kernel matched a blackhole/unreachable/prohibit route: find it.
		if r, ok := rejectRoute(h, dst); ok {
			return r, nil
		}
	}
	if err != nil {
		return netview.Route{}, fmt.Errorf("route get %s in %s: %w", dst, ns, err)
	}
	if len(rs) == 0 {
		return netview.Route{}, fmt.Errorf("route get %s in %s: no answer", dst, ns)
	}
	return convRoute(h, rs[0]), nil
}

// rejectRoute is the longest main-table reject-type route covering dst.
func rejectRoute(h *netlink.Handle, dst netip.Addr) (netview.Route, bool) {
	rs, err := h.RouteListFiltered(unix.AF_INET, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return netview.Route{}, false
	}
	best, bits := -1, -1
	for i, r := range rs {
		if r.Type != unix.RTN_BLACKHOLE && r.Type != unix.RTN_UNREACHABLE && r.Type != unix.RTN_PROHIBIT {
			continue
		}
		p := prefixOf(r.Dst)
		if p.Contains(dst) && p.Bits() > bits {
			best, bits = i, p.Bits()
		}
	}
	if best < 0 {
		return netview.Route{}, false
	}
	return convRoute(h, rs[best]), true
}

func prefixOf(n *net.IPNet) netip.Prefix {
	if n == nil {
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	}
	a, _ := netip.AddrFromSlice(n.IP)
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones)
}

var routeTypes = map[int]string{
	unix.RTN_UNICAST: "unicast", unix.RTN_LOCAL: "local", unix.RTN_BROADCAST: "broadcast",
	unix.RTN_MULTICAST: "multicast", unix.RTN_BLACKHOLE: "blackhole", unix.RTN_UNREACHABLE: "unreachable",
	unix.RTN_PROHIBIT: "prohibit", unix.RTN_THROW: "throw",
}

var scopes = map[netlink.Scope]string{
	netlink.SCOPE_UNIVERSE: "universe", netlink.SCOPE_SITE: "site", netlink.SCOPE_LINK: "link",
	netlink.SCOPE_HOST: "host", netlink.SCOPE_NOWHERE: "nowhere",
}

func convRoute(h *netlink.Handle, r netlink.Route) netview.Route {
	out := netview.Route{
		Family:   4,
		Table:    r.Table,
		Type:     routeTypes[r.Type],
		Dst:      prefixOf(r.Dst),
		DevIndex: r.LinkIndex,
		Scope:    scopes[r.Scope],
		Protocol: int(r.Protocol),
		Metric:   r.Priority,
	}
	if out.Type == "" {
		out.Type = fmt.Sprint(r.Type)
	}
	if a, ok := netip.AddrFromSlice(r.Gw); ok {
		out.Gw = a.Unmap()
	}
	if a, ok := netip.AddrFromSlice(r.Src); ok {
		out.Src = a.Unmap()
	}
	if r.LinkIndex > 0 {
		if l, err := h.LinkByIndex(r.LinkIndex); err == nil {
			out.Dev = l.Attrs().Name
		}
	}
	if r.Flags&int(netlink.FLAG_ONLINK) != 0 {
		out.Flags = append(out.Flags, "onlink")
	}
	slices.Sort(out.Flags)
	return out
}

// Close removes the sandbox if this Lab built it and Keep is false.
func (l *Lab) Close() error {
	if !l.built || l.Keep {
		return nil
	}
	l.built = false
	return Down(context.Background(), l.opts)
}
