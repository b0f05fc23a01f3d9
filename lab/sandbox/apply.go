package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"podlab/netview"
)

// Action is a change `podlab sandbox apply` makes to a running sandbox,
// as a step of the course's lesson on IP pools, BGP peering and
// advertising services makes it to the course's cluster. Each is
// recorded in the state file, and Down undoes them all.
type Action string

// The actions, as the lesson takes them.
const (
	// ActPeerHost1 makes host1 (its namespace and its BIRD) and peers
	// the nodes with it, as a global BGPPeer does.
	ActPeerHost1 Action = "peer-host1"
	// ActExternalPool adds the external pool and external-ns's pods.
	ActExternalPool Action = "external-pool"
	// ActAdvertiseClusterIPs has the nodes advertise the service cluster
	// IP range (BGPConfiguration serviceClusterIPs).
	ActAdvertiseClusterIPs Action = "advertise-cluster-ips"
	// ActAdvertiseExternalIPs has the nodes advertise the external IP
	// range (serviceExternalIPs) and gives the customer Service an
	// external IP.
	ActAdvertiseExternalIPs Action = "advertise-external-ips"
	// ActLocalPolicy sets the customer Service's externalTrafficPolicy
	// to Local: only the nodes with one of its endpoints advertise its
	// IPs, as /32s.
	ActLocalPolicy Action = "local-policy"
)

// Actions are every action, in the lesson's order.
var Actions = []Action{ActPeerHost1, ActExternalPool, ActAdvertiseClusterIPs, ActAdvertiseExternalIPs, ActLocalPolicy}

// ActionWords say in a few words what each action does, for help texts.
var ActionWords = map[Action]string{
	ActPeerHost1:            "add host1 (" + host1IP.String() + ") with its own BIRD and peer every node with it",
	ActExternalPool:         "a pool " + externalPool.String() + " of /29 blocks, and " + externalNamespace + "'s pods in it",
	ActAdvertiseClusterIPs:  "advertise the service cluster IP range " + serviceCIDR.String(),
	ActAdvertiseExternalIPs: "advertise external IPs " + externalIPCIDR.String() + "; " + customerService + " gets " + customerExternalIP.String(),
	ActLocalPolicy:          customerService + " gets externalTrafficPolicy Local (its node advertises a /32)",
}

var (
	// externalIPCIDR is the range the course gives Services' external
	// IPs; host1 imports exactly it.
	externalIPCIDR = netip.MustParsePrefix("198.19.48.0/20")
	// customerExternalIP is the external IP the lesson gives customer.
	customerExternalIP = netip.MustParseAddr("198.19.48.10")
)

// customerService is the Service the lesson gives an external IP and
// the Local policy.
const customerService = "customer"

// ActionNames are the actions' names, in the lesson's order.
func ActionNames() []string {
	out := make([]string, len(Actions))
	for i, a := range Actions {
		out[i] = string(a)
	}
	return out
}

// ParseActions checks names against the known actions; an unknown one
// is a one-line error that lists them.
func ParseActions(names []string) ([]Action, error) {
	var out []Action
	for _, n := range names {
		a := Action(n)
		if !slices.Contains(Actions, a) {
			return nil, fmt.Errorf("unknown action \"%s\": use %s", netview.Cut(netview.Clean(n), 64), strings.Join(ActionNames(), ", "))
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

// Packs are the lesson packs whose end state `sandbox up --pack` builds.
var Packs = []string{"bgp-peering", "kube-proxy"}

// ForPack adds to o what the lesson pack name's steps create, so that
// up builds the lesson's end state at once.
func (o *Options) ForPack(name string) error {
	switch name {
	case "bgp-peering":
		o.Actions = append(o.Actions, Actions...)
	case "kube-proxy":
		// The API server, its Services and a kube-proxy per node.
		o.Kube = true
	default:
		return fmt.Errorf("no sandbox for pack \"%s\": use --pack %s", netview.Cut(netview.Clean(name), 64), strings.Join(Packs, " or --pack "))
	}
	return nil
}

// withActions is o with its --host1 and --external-pool among its
// actions, in the lesson's order without repeats, and Host1 and
// ExternalPool saying whether those are.
func (o Options) withActions() Options {
	acts := slices.Clone(o.Actions)
	if o.Host1 {
		acts = append(acts, ActPeerHost1, ActAdvertiseClusterIPs)
	}
	if o.ExternalPool {
		acts = append(acts, ActExternalPool)
	}
	o.Actions = nil
	for _, a := range Actions {
		if slices.Contains(acts, a) {
			o.Actions = append(o.Actions, a)
		}
	}
	for _, a := range acts {
		if !slices.Contains(Actions, a) && !slices.Contains(o.Actions, a) {
			o.Actions = append(o.Actions, a) // refused by checkActions
		}
	}
	o.Host1 = slices.Contains(o.Actions, ActPeerHost1)
	o.ExternalPool = slices.Contains(o.Actions, ActExternalPool)
	return o
}

// checkActions says whether a sandbox of this kind can take acts: every
// one but the external pool needs BIRD, and the pool is built in bgp
// mode, IPv4 only.
func checkActions(acts []Action, mode netview.Mode, static, ipv6 bool) error {
	for _, a := range acts {
		switch {
		case !slices.Contains(Actions, a):
			return fmt.Errorf("unknown action \"%s\": use %s", netview.Cut(netview.Clean(string(a)), 64), strings.Join(ActionNames(), ", "))
		case a == ActExternalPool && (mode != netview.ModeBGP || static || ipv6):
			return errors.New("the sandbox builds the external pool in bgp mode with BIRD, IPv4 only: build it without --mode, --static-routes and --ipv6")
		case static:
			return fmt.Errorf("%s needs the nodes' BIRDs, and a sandbox with --static-routes runs none: build it without --static-routes", a)
		}
	}
	return nil
}

// Applied says whether an action is applied.
func (s *State) Applied(a Action) bool { return slices.Contains(s.Actions, a) }

// legacyActions gives a state written before actions were recorded the
// actions its flags stand for.
func (s *State) legacyActions() {
	if len(s.Actions) > 0 {
		return
	}
	if s.Host1 {
		s.Actions = append(s.Actions, ActPeerHost1, ActAdvertiseClusterIPs)
	}
	if s.ExternalPool {
		s.Actions = append(s.Actions, ActExternalPool)
	}
}

// validActions checks the recorded actions: known, each once, and
// agreeing with what the state says was built.
func (s *State) validActions() error {
	for i, a := range s.Actions {
		if !slices.Contains(Actions, a) {
			return fmt.Errorf("unknown action %q", a)
		}
		if slices.Contains(s.Actions[:i], a) {
			return fmt.Errorf("action %q is listed twice", a)
		}
	}
	if s.Host1 != s.Applied(ActPeerHost1) || s.ExternalPool != s.Applied(ActExternalPool) {
		return errors.New("its actions do not agree with its host1 and external pool")
	}
	if len(s.Actions) > 0 && s.StaticRoutes {
		return errors.New("it records actions, which a sandbox with static routes never takes")
	}
	return nil
}

// Apply applies the actions not yet applied to the running sandbox of
// opts, in the order given, records each, and waits until the nodes and
// host1 have what every recorded action promises. It returns those it
// applied; already applied ones are nothing to do. On failure what was
// applied stays recorded, and Down removes it.
func Apply(ctx context.Context, opts Options, acts []Action) ([]Action, error) {
	o, st, unlock, err := upState(opts)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return applyLocked(ctx, o, st, acts)
}

// applyLocked is Apply with the lock held and the state read.
func applyLocked(ctx context.Context, o Options, st *State, acts []Action) ([]Action, error) {
	if err := checkActions(acts, st.Mode, st.StaticRoutes, st.IPv6); err != nil {
		return nil, err
	}
	if len(acts) == 0 {
		return nil, nil
	}
	var todo []Action
	for _, a := range acts {
		if !st.Applied(a) && !slices.Contains(todo, a) {
			todo = append(todo, a)
		}
	}
	if p := st.health(); len(p) > 0 {
		return nil, fmt.Errorf("sandbox %q is not healthy (%s): run sudo podlab sandbox down, then up", st.Prefix, p[0])
	}
	bird, err := st.recordedBird()
	if err != nil {
		return nil, err
	}
	b := stateBuilder(o, st, bird)
	for _, a := range todo {
		if err := b.apply(a); err != nil {
			return nil, fmt.Errorf("apply %s: %w", a, err)
		}
		if err := b.step(ctx, "apply "+string(a)); err != nil {
			return nil, err
		}
	}
	// The BIRDs are brought in line with every recorded action, not only
	// the new ones: a no-op for BIRD when they are, and the rest of an
	// apply that was stopped half-way when not.
	if err := b.reconfigureBirds(ctx); err != nil {
		return nil, err
	}
	if st.Host1 && !slices.ContainsFunc(st.Processes, func(p Process) bool { return p.Node == host1Name }) {
		if err := b.startHost1Bird(ctx); err != nil {
			return nil, fmt.Errorf("apply %s: %w", ActPeerHost1, err)
		}
	}
	if err := b.converge(ctx); err != nil {
		return nil, err
	}
	return todo, b.save()
}

// stateBuilder is a builder that changes the running sandbox st, with
// the options st was built with.
func stateBuilder(o Options, st *State, bird string) *builder {
	o.Mode, o.Borrowed, o.StaticRoutes, o.IPv6, o.ControlPlane = st.Mode, st.Borrowed, st.StaticRoutes, st.IPv6, st.ControlPlane
	o.Host1, o.ExternalPool, o.Actions = st.Host1, st.ExternalPool, st.Actions
	b := &builder{o: o, bird: bird, st: st, nodes: map[string]*NodeInfo{}}
	for i := range st.Nodes {
		b.nodes[st.Nodes[i].Name] = &st.Nodes[i]
	}
	return b
}

// recordedBird is the BIRD the sandbox runs, which a new one must be:
// the installed one, only if it is the recorded one.
func (s *State) recordedBird() (string, error) {
	bird, err := findBird()
	if err != nil {
		return "", err
	}
	if len(s.Processes) > 0 && s.Processes[0].Cmdline[0] != bird {
		return "", fmt.Errorf("the sandbox ran %s, but the installed bird is %s: run podlab sandbox down, then up", s.Processes[0].Cmdline[0], bird)
	}
	return bird, nil
}

// apply records one action and makes what it needs beyond the BIRDs'
// configs: host1's namespace, the external pool's blocks and pods.
func (b *builder) apply(a Action) error {
	record := func() {
		b.st.Actions = append(b.st.Actions, a)
		b.o.Actions = b.st.Actions
	}
	switch a {
	case ActPeerHost1:
		if err := free(b.o, b.st.Prefix+"-"+host1Name); err != nil {
			return err
		}
		record()
		b.st.Host1, b.o.Host1 = true, true
		if err := b.save(); err != nil {
			return err
		}
		if err := b.fabricGivesUpHost1(); err != nil {
			return err
		}
		return b.host1()
	case ActExternalPool:
		var names []string
		for _, p := range externalPods {
			if !(b.st.ControlPlane && p.node == controlNode) {
				names = append(names, podNSName(b.o.Prefix, p.namespace, p.name))
			}
		}
		if err := free(b.o, names...); err != nil {
			return err
		}
		record()
		b.st.ExternalPool, b.o.ExternalPool = true, true
		for i, n := range b.st.Nodes {
			if !(b.st.ControlPlane && n.Name == controlNode) {
				b.st.Nodes[i].ExtBlock = externalBlocks[n.Name]
			}
		}
		if err := b.save(); err != nil {
			return err
		}
		return b.externalPods()
	}
	record()
	return b.save()
}

// fabricGivesUpHost1 moves host1's address off the fabric's bridge,
// where a sandbox without host1 keeps it, for host1's own namespace to
// take; and the nodes forget its old MAC, so their sessions to host1
// start at once instead of after a stale neighbour entry times out.
func (b *builder) fabricGivesUpHost1() error {
	fab := b.st.FabricNS()
	h, ns, err := handle(fab)
	if err != nil {
		return err
	}
	defer ns.Close()
	defer h.Close()
	br, err := h.LinkByName(bridgeName)
	if err != nil {
		return fmt.Errorf("find %s in %s: %w", bridgeName, fab, err)
	}
	err = h.AddrDel(br, &netlink.Addr{IPNet: ipnet(netip.PrefixFrom(host1IP, fabricNet.Bits()))})
	if err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
		return fmt.Errorf("remove %s from the fabric: %w", host1IP, err)
	}
	for _, n := range b.st.Nodes {
		nh, nns, err := handle(n.NS)
		if err != nil {
			return err
		}
		ns, _ := nh.NeighList(0, netlink.FAMILY_V4)
		for _, x := range ns {
			if x.IP.Equal(host1IP.AsSlice()) {
				nh.NeighDel(&x)
			}
		}
		nh.Close()
		nns.Close()
	}
	return nil
}

// externalPods wires external-ns's pods, one on each node with a /29,
// after the pods the node has.
func (b *builder) externalPods() error {
	for _, p := range externalPods {
		if !b.nodes[p.node].ExtBlock.IsValid() || b.st.Pod(p.namespace, p.name) != nil {
			continue
		}
		next := firstCaliIf
		for _, q := range b.st.Pods {
			if q.Node == p.node && q.HostIndex >= next {
				next = q.HostIndex + 1
			}
		}
		if err := b.pod(p, next); err != nil {
			return err
		}
	}
	return nil
}

// reconfigureBirds writes each node's BIRD config as the actions now
// have it and has BIRD load it, as Calico's confd does when a resource
// changes: sessions whose settings did not change stay up.
func (b *builder) reconfigureBirds(ctx context.Context) error {
	for _, p := range b.st.Processes {
		n, ok := b.st.Node(p.Node)
		if !ok {
			continue // host1's, which no action changes
		}
		conf, _, _, _ := birdFiles(b.o.fileDir(), n.Name)
		text, err := b.nodeBirdConfig(n)
		if err != nil {
			return err
		}
		if err := b.o.inFile(conf, func(d *dirFD, name string) error { return writeFile(d, name, text) }); err != nil {
			return fmt.Errorf("write %s: %w", conf, err)
		}
		if err := birdConfigure(ctx, p.Socket); err != nil {
			return fmt.Errorf("%s's bird: %w", n.Name, err)
		}
	}
	return nil
}

// followEndpoints has the nodes' BIRDs announce a Local Service's /32s
// from where its endpoints are now, after a pod came or went, as
// Calico's do when an EndpointSlice changes.
func followEndpoints(ctx context.Context, o Options, st *State) error {
	if !st.Applied(ActLocalPolicy) {
		return nil
	}
	if err := stateBuilder(o, st, "").reconfigureBirds(ctx); err != nil {
		return fmt.Errorf("the nodes' BIRDs do not follow the Local Service's endpoints: %w", err)
	}
	return nil
}

// serviceRoutes are the service IPs node n's BIRD announces to host1,
// as Calico's do: each advertised range from every node, and the IPs of
// a Service with the Local policy as /32s from the nodes with one of its
// endpoints only, when they are in an advertised range.
func (s *State) serviceRoutes(node string) []netip.Prefix {
	var ranges []netip.Prefix
	if s.Applied(ActAdvertiseClusterIPs) {
		ranges = append(ranges, serviceCIDR)
	}
	if s.Applied(ActAdvertiseExternalIPs) {
		ranges = append(ranges, externalIPCIDR)
	}
	out := slices.Clone(ranges)
	local := map[string]bool{}
	for _, es := range s.EndpointSlices() {
		for _, e := range es.Endpoints {
			if e.Node == node {
				local[es.Service] = true
			}
		}
	}
	for _, svc := range s.Services() {
		if svc.ExternalTrafficPolicy != "Local" || !local[svc.Name] {
			continue
		}
		for _, ip := range slices.Concat(svc.ClusterIPs, svc.ExternalIPs) {
			if slices.ContainsFunc(ranges, func(r netip.Prefix) bool { return r.Contains(ip) }) {
				out = append(out, netip.PrefixFrom(ip, 32))
			}
		}
	}
	return out
}

// host1Routes are the routes host1's kernel must have once the actions
// have taken effect, each with exactly the next hops it must have: the
// external pool's /29s via their owners, each advertised range over
// every node, and a Local Service's IPs via the nodes that advertise
// them, if host1's filter lets them in (a cluster IP, not an external
// IP).
func (s *State) host1Routes() []hopsRoute {
	if !s.Host1 {
		return nil
	}
	var out []hopsRoute
	for _, n := range s.Nodes {
		if n.ExtBlock.IsValid() {
			out = append(out, hopsRoute{n.ExtBlock, []netip.Addr{n.IP}})
		}
	}
	via := map[netip.Prefix][]netip.Addr{}
	var order []netip.Prefix
	for _, n := range s.Nodes {
		for _, r := range s.serviceRoutes(n.Name) {
			if !host1Admits(r) {
				continue
			}
			if _, ok := via[r]; !ok {
				order = append(order, r)
			}
			via[r] = append(via[r], n.IP)
		}
	}
	for _, r := range order {
		out = append(out, hopsRoute{r, via[r]})
	}
	return out
}

// hopsRoute is a route host1 must have, with exactly these next hops.
type hopsRoute struct {
	dst netip.Prefix
	via []netip.Addr
}

func (r hopsRoute) String() string {
	var gws []string
	for _, a := range r.via {
		gws = append(gws, a.String())
	}
	if len(gws) == 1 {
		return fmt.Sprintf("%s via %s proto bird", r.dst, gws[0])
	}
	return fmt.Sprintf("%s proto bird nexthop via %s", r.dst, strings.Join(gws, ", "))
}

// actionLine says what the applied actions are, for status.
func (s *State) actionLine() string {
	if len(s.Actions) == 0 {
		return "none (sudo podlab sandbox apply ACTION: " + strings.Join(ActionNames(), ", ") + ")"
	}
	return actionList(s.Actions)
}
