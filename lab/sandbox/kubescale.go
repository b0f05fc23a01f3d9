package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"k8s.io/client-go/kubernetes"

	"podlab/termtext"
)

// MaxScale bounds `sandbox scale`: the lesson's point (1/n shares, a
// chain per endpoint) shows with a handful.
const MaxScale = 5

// summaryBase is the summary Deployment's pods' name without the suffix.
var summaryBase = baseName("summary-85c56b76d7-28hm5")

// Scale makes the summary Deployment have n pods, as its ReplicaSet
// would: new pods (a fresh suffix, an address from the node's block, on
// the node with the fewest) wired as the CNI plugin wires them, or the
// newest removed as the CNI plugin's DEL removes them. With --kube the
// pods and the EndpointSlice follow in the API, the new pods answer on
// the Service's port, and kube-proxy rewrites its rules.
func Scale(ctx context.Context, opts Options, app string, n int) (pods []PodInfo, err error) {
	if app != "summary" {
		return nil, fmt.Errorf("the sandbox scales the summary deployment only, not %q", app)
	}
	if n < 1 || n > MaxScale {
		return nil, fmt.Errorf("scale summary to 1 to %d pods, not %d", MaxScale, n)
	}
	o, st, unlock, err := upState(opts)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var c kubernetes.Interface
	if st.Kube != nil {
		if c, err = kubeClient(o, st); err != nil {
			return nil, err
		}
	}
	b := &builder{o: o, st: st, nodes: map[string]*NodeInfo{}}
	for i := range st.Nodes {
		b.nodes[st.Nodes[i].Name] = &st.Nodes[i]
	}
	cur := summaryPods(st)
	var added, removed []PodInfo
	for len(cur) < n {
		node := scaleNode(st, cur)
		ip, err := freeAddr(st, node, netip.Addr{})
		if err != nil {
			return nil, err
		}
		spec := podSpec{namespace: CustomerNamespace, name: replacementName(st, PodInfo{Namespace: CustomerNamespace, Name: summaryBase + "-x"}), node: node.Name, ip: ip}
		if err := b.pod(spec, 0); err != nil {
			nsName := podNSName(o.Prefix, spec.namespace, spec.name)
			var rerr error
			if owned(st, nsName) {
				rerr = deletePodNS(nsName)
			}
			forgetPod(st, nsName)
			return nil, errors.Join(fmt.Errorf("scale summary: %w", err), rerr, st.write(o))
		}
		p := *st.Pod(spec.namespace, spec.name)
		cur, added = append(cur, p), append(added, p)
	}
	for len(cur) > n {
		p := cur[len(cur)-1]
		cur, removed = cur[:len(cur)-1], append(removed, p)
		if err := stopResponder(st, p); err != nil {
			return nil, err
		}
		if owned(st, p.NS) {
			if err := deletePodNS(p.NS); err != nil {
				return nil, fmt.Errorf("scale summary: delete pod %s: %w", p.Name, err)
			}
		}
		forgetPod(st, p.NS)
		if err := st.write(o); err != nil {
			return nil, err
		}
	}
	if err := kubePodsChanged(ctx, b, c, added, removed); err != nil {
		return nil, err
	}
	return summaryPods(st), nil
}

// kubePodsChanged tells the API server of pods added and removed, gives
// the new ones their responders, and rewrites the EndpointSlices, as a
// kubelet and the EndpointSlice controller would. Without --kube it does
// nothing.
func kubePodsChanged(ctx context.Context, b *builder, c kubernetes.Interface, added, removed []PodInfo) error {
	if b.st.Kube == nil || len(added)+len(removed) == 0 {
		return nil
	}
	var err error
	if c == nil {
		if c, err = kubeClient(b.o, b.st); err != nil {
			return err
		}
	}
	for _, p := range added {
		if err := b.startResponder(p); err != nil {
			return err
		}
		if err := registerPod(ctx, c, b.st, p); err != nil {
			return err
		}
	}
	for _, p := range removed {
		if err := unregisterPod(ctx, c, p); err != nil {
			return err
		}
	}
	return syncSlices(ctx, c, b.st)
}

// summaryPods are the summary Deployment's pods, in the order they came.
func summaryPods(st *State) []PodInfo {
	var out []PodInfo
	for _, p := range st.Pods {
		if p.Namespace == CustomerNamespace && podLabels(p.Namespace, p.Name)["app"] == "summary" {
			out = append(out, p)
		}
	}
	return out
}

// scaleNode is the node a new summary pod goes to: of the nodes that run
// the lesson's pods, the one with the fewest summary pods, the first in
// the lesson's order on a tie.
func scaleNode(st *State, cur []PodInfo) NodeInfo {
	var best NodeInfo
	least := -1
	for _, n := range st.Nodes {
		if st.ControlPlane && n.Name == controlNode {
			continue
		}
		k := 0
		for _, p := range cur {
			if p.Node == n.Name {
				k++
			}
		}
		if least < 0 || k < least {
			best, least = n, k
		}
	}
	return best
}

// ScaleCommand is `podlab sandbox scale summary N`.
func ScaleCommand(ctx context.Context, o Options, app string, n int, stdout io.Writer) error {
	pods, err := Scale(ctx, o, app, n)
	if err != nil {
		return err
	}
	plural := "s"
	if len(pods) == 1 {
		plural = ""
	}
	fmt.Fprintf(stdout, "summary has %d pod%s:\n", len(pods), plural)
	for _, p := range pods {
		fmt.Fprintf(stdout, "  %s/%s  %s  on %s\n", p.Namespace, p.Name, p.IP, p.Node)
	}
	st, err := Status(o)
	if err == nil && st.Kube != nil {
		fmt.Fprintln(stdout, "its EndpointSlice is written: each node's kube-proxy now rewrites its rules, a KUBE-SEP chain per endpoint")
	}
	return nil
}

// RequestCommand is `podlab sandbox request SERVICE -n COUNT`: COUNT
// HTTP requests, each on a new connection, from the customer pod's
// namespace to the Service's cluster IP and port, and which endpoint
// answered each.
func RequestCommand(ctx context.Context, o Options, service string, count int, stdout io.Writer) error {
	i := slices.IndexFunc(yaobankServices, func(s serviceSpec) bool { return s.name == service })
	if i < 0 {
		var names []string
		for _, s := range yaobankServices {
			names = append(names, s.name)
		}
		return fmt.Errorf("the sandbox has no service %q: use one of %s", service, strings.Join(names, ", "))
	}
	if count < 1 || count > 1000 {
		return fmt.Errorf("-n %d: make 1 to 1000 requests", count)
	}
	st, err := Status(o)
	if err != nil {
		return err
	}
	if st.Kube == nil {
		return fmt.Errorf("sandbox %q runs no kube-proxy, so nothing answers on a cluster IP: sudo podlab sandbox down, then sudo podlab sandbox up --kube", st.Prefix)
	}
	name, err := st.choose(CustomerNamespace, CustomerSelector, "")
	if err != nil {
		return err
	}
	from := st.Pod(CustomerNamespace, name)
	sp := yaobankServices[i]
	dst := netip.AddrPortFrom(sp.clusterIP, uint16(sp.port.Port))
	fmt.Fprintf(stdout, "%d requests from %s/%s (%s on %s) to service %s at %s:\n", count, from.Namespace, from.Name, from.IP, from.Node, service, dst)
	seen := map[string]int{}
	var order []string
	failed := 0
	for k := 1; k <= count; k++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		text, err := request(ctx, from.NS, dst)
		var a Answer
		if err == nil {
			a, err = st.parseAnswer(text)
		}
		if err != nil {
			failed++
			fmt.Fprintf(stdout, "  %3d  failed: %s\n", k, termtext.Clean(termtext.FirstLine(err.Error())))
			continue
		}
		ep := a.Endpoint.String() + "  " + a.Pod
		if a.Node != "" {
			ep += " on " + a.Node
		}
		if seen[ep] == 0 {
			order = append(order, ep)
		}
		seen[ep]++
		fmt.Fprintf(stdout, "  %3d  %s\n", k, ep)
	}
	fmt.Fprintln(stdout, "answered by:")
	for _, ep := range order {
		fmt.Fprintf(stdout, "  %3d  %s\n", seen[ep], ep)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d requests to %s failed", failed, count, dst)
	}
	return nil
}

// kubeAfter is kubePodsChanged for a change made outside Scale
// (delete-pod and its replacement).
func kubeAfter(ctx context.Context, o Options, st *State, added, removed []PodInfo) error {
	return kubePodsChanged(ctx, &builder{o: o, st: st}, nil, added, removed)
}
