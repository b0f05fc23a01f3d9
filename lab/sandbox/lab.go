package sandbox

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/labels"

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
	// Namespace, Selector and Pod choose the pod shown, as kubectl's -n,
	// -l and a pod's name do: by name when Pod is set, else the first pod
	// (by name) in Namespace that Selector matches. By default the
	// lesson's customer pod by its label, so that after delete-pod a new
	// podlab finds the replacement as `kubectl get pods -l` would.
	Namespace, Selector, Pod string

	// mu guards st and followed, which change when the pod shown is
	// deleted and its replacement comes up, and the watch.
	mu sync.Mutex
	// followed is the pod shown once chosen (Pod, the selector's pick,
	// then a replacement); chooseErr why none was.
	followed  string
	chooseErr error
	// kept keeps the snapshots of the pod's namespace and its node's
	// current while Changes watches them.
	kept lab.Kept
	// wants is what the lesson reads beyond the pair (Want).
	wants netview.Wants
}

// newLab is a Lab on st choosing the customer pod by its label.
func newLab(o Options, st *State) *Lab {
	return &Lab{opts: o, st: st, Namespace: CustomerNamespace, Selector: CustomerSelector}
}

// Choose sets the pod shown (see Lab's fields); it refuses a selector
// that is not one.
func (l *Lab) Choose(namespace, selector, pod string) error {
	if pod == "" {
		if _, err := labels.Parse(selector); err != nil {
			return fmt.Errorf("-l %q is not a label selector: write it as kubectl does, e.g. app=customer", selector)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Namespace, l.Selector, l.Pod = namespace, selector, pod
	l.followed, l.chooseErr = "", nil
	return nil
}

// current is the state and the pod shown now; name is "" when no pod
// matches, and err says why.
func (l *Lab) current() (st *State, namespace, name string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.followed == "" && l.chooseErr == nil {
		l.followed, l.chooseErr = l.st.choose(l.Namespace, l.Selector, l.Pod)
	}
	return l.st, l.Namespace, l.followed, l.chooseErr
}

// choose is the pod a lab shows: by name, or the first (by name) in
// namespace that selector matches.
func (s *State) choose(namespace, selector, pod string) (string, error) {
	if pod != "" {
		p, err := s.findPod(namespace, pod)
		if err != nil {
			return "", fmt.Errorf("%w (sudo podlab sandbox status lists them)", err)
		}
		return p.Name, nil
	}
	sel, err := labels.Parse(selector)
	if err != nil {
		return "", fmt.Errorf("-l %q is not a label selector: write it as kubectl does, e.g. app=customer", selector)
	}
	var names []string
	for _, p := range s.Pods {
		if p.Namespace == namespace && sel.Matches(labels.Set(podLabels(p.Namespace, p.Name))) {
			names = append(names, p.Name)
		}
	}
	if len(names) == 0 {
		return "", fmt.Errorf("sandbox %q has no pod matching -l %s in namespace %s: pick one with --pod (sudo podlab sandbox status lists them)", s.Prefix, selector, namespace)
	}
	return slices.Min(names), nil
}

// Open returns the sandbox as a lab. A healthy running sandbox is used
// as it is, whatever its mode: opts.Mode only says how to build one.
// With build it builds the sandbox if it is not up (and Close will
// remove it); without, the sandbox must be up.
func Open(ctx context.Context, opts Options, build bool) (*Lab, error) {
	o := opts.withDefaults()
	l := newLab(o, nil)
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
	return newLab(o, st), st.Problems, nil
}

// Kind is "sandbox".
func (l *Lab) Kind() string { return "sandbox" }

// State is the sandbox's recorded state.
func (l *Lab) State() *State {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.st
}

// Describe says in one line what the lab shows.
func (l *Lab) Describe() string {
	st, ns, name, err := l.current()
	if err != nil {
		return netview.Clean(fmt.Sprintf("sandbox %s (%s): no pod matching -l %s in %s", st.Prefix, modeLine(st), l.Selector, ns))
	}
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
	st, ns, name, _ := l.current()
	f := st.Facts(ns, name)
	f.Sanitize()
	return f
}

// Facts builds the cluster facts with the given pod as the one followed.
func (s *State) Facts(namespace, name string) netview.Facts {
	f := netview.Facts{
		Mode:            s.Mode,
		InterfacePrefix: netview.DefaultInterfacePrefix,
		BlockSize:       blockSize,
		ClusterCIDR:     clusterCIDR,
	}
	if s.IPv6 {
		f.ClusterCIDR6, f.BlockSize6 = clusterCIDR6, blockSize6
	}
	for _, p := range s.Pods {
		pf := netview.PodFact{Namespace: p.Namespace, Name: p.Name, IP: p.IP, IP6: p.IP6, Node: p.Node, Phase: "Running"}
		f.Pods = append(f.Pods, pf)
		if p.Namespace == namespace && p.Name == name {
			f.Pod, f.Node = pf, p.Node
		}
	}
	for _, n := range s.Nodes {
		f.Nodes = append(f.Nodes, netview.NodeFact{Name: n.Name, InternalIP: n.IP, InternalIP6: n.IP6})
		f.Blocks = append(f.Blocks, netview.Block{CIDR: n.Block, Node: n.Name})
		if n.Block6.IsValid() {
			f.Blocks = append(f.Blocks, netview.Block{CIDR: n.Block6, Node: n.Name})
		}
	}
	for _, n := range s.Nodes {
		if n.ExtBlock.IsValid() {
			f.Blocks = append(f.Blocks, netview.Block{CIDR: n.ExtBlock, Node: n.Name})
		}
	}
	return f
}

// Collect snapshots the pod's namespace and its node's, with the facts.
// The state file is read again each time, so the facts follow pods that
// other podlab commands deleted or brought up; and when the pod shown has
// been deleted and replaced (podlab sandbox delete-pod), it follows the
// replacement, as a Deployment's pods are followed.
func (l *Lab) Collect(ctx context.Context) (*netview.Pair, error) {
	prev, ns, name, err := l.current()
	if err != nil {
		return nil, err
	}
	now := prev
	if st, rerr := readState(l.opts); rerr == nil && st != nil {
		now = st
	}
	p, err := now.findPod(ns, name)
	if err == nil {
		var pair *netview.Pair
		if pair, err = l.collectPod(ctx, now, p); err == nil {
			l.mu.Lock()
			l.st = now
			l.mu.Unlock()
			return pair, nil
		}
	} else if gone := prev.Pod(ns, name); gone != nil {
		// Deleted since: reading where it was says so (its namespace
		// is gone), which is what a watcher of the lab wants to hear.
		if _, cerr := l.collectPod(ctx, prev, gone); cerr != nil {
			err = cerr
		}
	}
	np := replacement(prev, now, ns, name)
	if np == nil {
		// Gone, and no replacement yet: the state kept is the one that
		// still has the pod, to find its replacement by once it comes.
		return nil, err
	}
	l.mu.Lock()
	l.st, l.followed = now, np.Name
	l.mu.Unlock()
	return l.collectPod(ctx, now, np)
}

// replacement is the pod of now that replaced prev's pod ns/name, deleted
// since: same namespace, same base name, on the same node, and new.
func replacement(prev, now *State, ns, name string) *PodInfo {
	old := prev.Pod(ns, name)
	if old == nil || now.Pod(ns, name) != nil {
		return nil
	}
	var found *PodInfo
	for i, p := range now.Pods {
		if p.Namespace == ns && baseName(p.Name) == baseName(name) && p.Node == old.Node && prev.Pod(ns, p.Name) == nil {
			found = &now.Pods[i]
		}
	}
	return found
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
	return &netview.Pair{Pod: *pod, Host: *host, Facts: f, Extra: l.extra(ctx, st, p.Node)}, nil
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
	st, ns, name, err := l.current()
	if err != nil {
		return netview.Route{}, err
	}
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
	st, ns, name, err := l.current()
	if err != nil {
		return closed
	}
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
