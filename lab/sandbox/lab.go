package sandbox

import (
	"context"
	"fmt"
	"net/netip"
	"sync"

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

	// mu guards st and replaced, which change when the pod shown is
	// deleted and its replacement comes up, and the watch.
	mu       sync.Mutex
	replaced string // the replacement's name, once followed
	// kept keeps the snapshots of the pod's namespace and its node's
	// current while Changes watches them.
	kept lab.Kept
}

// current is the state and the pod shown now.
func (l *Lab) current() (st *State, namespace, name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	name = l.Pod
	if l.replaced != "" {
		name = l.replaced
	}
	return l.st, l.Namespace, name
}

// Open returns the sandbox as a lab. A healthy running sandbox is used
// as it is, whatever its mode: opts.Mode only says how to build one.
// With build it builds the sandbox if it is not up (and Close will
// remove it); without, the sandbox must be up.
func Open(ctx context.Context, opts Options, build bool) (*Lab, error) {
	o := opts.withDefaults()
	l := &Lab{opts: o, Namespace: CustomerNamespace, Pod: CustomerPod}
	if st, err := Status(o); build && err == nil && len(st.Problems) == 0 {
		l.st = st
		return l, nil
	}
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

// OpenAsIs returns a sandbox that is up as a lab even when it is not
// healthy (a BIRD stopped, a route deleted), for `podlab check` to say
// what is missing; it never builds or repairs. Problems are the
// sandbox's own findings.
func OpenAsIs(opts Options) (l *Lab, problems []string, err error) {
	o := opts.withDefaults()
	st, err := Status(o)
	if err != nil {
		return nil, nil, err
	}
	return &Lab{opts: o, st: st, Namespace: CustomerNamespace, Pod: CustomerPod}, st.Problems, nil
}

// Kind is "sandbox".
func (l *Lab) Kind() string { return "sandbox" }

// State is the sandbox's recorded state.
func (l *Lab) State() *State {
	st, _, _ := l.current()
	return st
}

// Describe says in one line what the lab shows.
func (l *Lab) Describe() string {
	st, ns, name := l.current()
	node := "?"
	if p := st.Pod(ns, name); p != nil {
		node = p.Node
	}
	return netview.Clean(fmt.Sprintf("sandbox %s (%s): pod %s/%s on %s", st.Prefix, modeLine(st), ns, name, node))
}

// Facts are what a cluster would say about the sandbox's pods and nodes.
// Its names come from the state file: validated there, and cleaned here
// as every string that enters netview is.
func (l *Lab) Facts() netview.Facts {
	st, ns, name := l.current()
	f := st.Facts(ns, name)
	f.Sanitize()
	return f
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
// When the pod has been deleted and replaced (podlab sandbox delete-pod),
// it follows the replacement, as a Deployment's pods are followed.
func (l *Lab) Collect(ctx context.Context) (*netview.Pair, error) {
	st, ns, name := l.current()
	p, err := st.findPod(ns, name)
	if err == nil {
		var pair *netview.Pair
		if pair, err = l.collectPod(ctx, st, p); err == nil {
			return pair, nil
		}
	}
	now, np := l.replacement(ns, name)
	if np == nil {
		return nil, err
	}
	l.mu.Lock()
	l.st, l.replaced = now, np.Name
	l.mu.Unlock()
	return l.collectPod(ctx, now, np)
}

// replacement is the pod that replaced a deleted one: same namespace,
// same base name, on the same node, per the state file now.
func (l *Lab) replacement(ns, name string) (*State, *PodInfo) {
	st, _, _ := l.current()
	old := st.Pod(ns, name)
	now, err := Status(l.opts)
	if err != nil || old == nil || now.Pod(ns, name) != nil {
		return nil, nil
	}
	var found *PodInfo
	for i, p := range now.Pods {
		if p.Namespace == ns && baseName(p.Name) == baseName(name) && p.Node == old.Node && st.Pod(ns, p.Name) == nil {
			found = &now.Pods[i]
		}
	}
	return now, found
}

// collectPod gives the pod's and its node's snapshots: the ones the watch
// keeps current when it watches this pod, else read afresh.
func (l *Lab) collectPod(ctx context.Context, st *State, p *PodInfo) (*netview.Pair, error) {
	podRef, hostRef := lab.NSRef{Name: p.NS}, lab.NSRef{Name: st.NodeNS(p.Node)}
	var pod, host *netview.Snapshot
	if kept, ok := l.kept.Snapshots(podRef, hostRef); ok {
		pod, host = kept[0], kept[1]
	} else {
		var err error
		if pod, err = lab.Collect(ctx, podRef); err != nil {
			return nil, fmt.Errorf("pod %s/%s: %w", p.Namespace, p.Name, err)
		}
		if host, err = lab.Collect(ctx, hostRef); err != nil {
			return nil, fmt.Errorf("node %s: %w", p.Node, err)
		}
	}
	// On a real node the host namespace and the uplink's far side have no
	// name under /run/netns; the sandbox's do. Forget them, so the pod
	// shows `link-netnsid 0` as in the lesson rather than the node's name.
	forgetNames(pod, st.NodeNS(p.Node))
	forgetNames(host, st.FabricNS())
	f := st.Facts(p.Namespace, p.Name)
	f.Sanitize() // names from the state file, validated there
	return &netview.Pair{Pod: *pod, Host: *host, Facts: f}, nil
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
// the route to dst (see lab.RouteGet).
func (l *Lab) Route(ctx context.Context, dst netip.Addr) (netview.Route, error) {
	st, ns, name := l.current()
	p, err := st.findPod(ns, name)
	if err != nil {
		return netview.Route{}, err
	}
	return lab.RouteGet(ctx, lab.NSRef{Name: st.NodeNS(p.Node)}, dst)
}

// Close ends a watch, and removes the sandbox if this Lab built it and
// Keep is false.
func (l *Lab) Close() error {
	l.kept.Close()
	if !l.built || l.Keep {
		return nil
	}
	l.built = false
	return Down(context.Background(), l.opts)
}

// Changes keeps the pod's namespace and its node's current from their
// netlink notifications (see lab.Live) and signals after each change;
// Collect then gives the kept snapshots. A closed channel means: poll.
func (l *Lab) Changes(ctx context.Context) <-chan struct{} {
	closed := make(chan struct{})
	close(closed)
	st, ns, name := l.current()
	p, err := st.findPod(ns, name)
	if err != nil {
		return closed
	}
	return l.kept.Watch(ctx, lab.NSRef{Name: p.NS}, lab.NSRef{Name: st.NodeNS(p.Node)})
}

// Resyncs is how many times the watch read the namespaces again whole
// because notifications were lost.
func (l *Lab) Resyncs() int { return l.kept.Resyncs() }

// Resync reads the watched namespaces again whole (the UI's r).
func (l *Lab) Resync(ctx context.Context) error { return l.kept.Resync(ctx) }
