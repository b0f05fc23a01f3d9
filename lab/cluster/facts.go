package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"podlab/netview"
)

// discovery reads what the API server knows about the pod and its
// neighbours. Only failing to read the pod itself is fatal; every other
// gap becomes a note.
type discovery struct {
	client *coreClient
	server string
	opts   Options
	notes  []string
	// container is the one exec runs in: the default-container
	// annotation's, or the first.
	container string
}

func (d *discovery) note(format string, args ...any) {
	d.notes = append(d.notes, fmt.Sprintf(format, args...))
}

// facts discovers the pod, its node, the pods on that node, the nodes and
// the Calico blocks.
func (d *discovery) facts(ctx context.Context) (netview.Facts, error) {
	var f netview.Facts
	pod, err := d.pod(ctx)
	if err != nil {
		return f, err
	}
	f.Pod = podFact(pod)
	f.Node = pod.Spec.NodeName
	f.Pods = d.nodePods(ctx, pod)
	f.Nodes = d.nodes(ctx)
	f.Blocks = d.blocks(ctx)
	f.InterfacePrefix = d.opts.InterfacePrefix
	if f.InterfacePrefix == "" {
		f.InterfacePrefix = d.interfacePrefix(ctx)
	}
	for _, b := range f.Blocks {
		if b.Node == f.Node && b.CIDR.Contains(f.Pod.IP) {
			f.BlockSize = b.CIDR.Bits()
		}
	}
	if f.BlockSize == 0 && len(f.Blocks) > 0 {
		f.BlockSize = f.Blocks[0].CIDR.Bits()
	}
	return f, nil
}

// pod finds the pod to show: by name, or the first Running one the
// selector matches.
func (d *discovery) pod(ctx context.Context) (*corev1.Pod, error) {
	ns := d.opts.Namespace
	var pod *corev1.Pod
	if d.opts.Pod != "" {
		p, err := d.client.pod(ctx, ns, d.opts.Pod)
		if apierrors.IsNotFound(err) {
			if nsErr := d.namespaceMissing(ctx); nsErr != nil {
				return nil, nsErr
			}
			return nil, errorf(err, "pod %s/%s not found: check the name (kubectl get pods -n %s) and the namespace (-n)", ns, d.opts.Pod, ns)
		}
		if err != nil {
			return nil, apiError(err, request{"get", "pods", ns}, d.server)
		}
		pod = p
	} else {
		list, err := d.client.pods(ctx, ns, metav1.ListOptions{LabelSelector: d.opts.Selector})
		if long, ok := errors.AsType[*AnswerTooLongError](err); ok {
			return nil, errorf(err, "the pods matching -l %s in namespace %s are more than podlab reads (%s): name one with --pod", d.opts.Selector, ns, sizeName(long.Limit))
		}
		if err != nil {
			return nil, apiError(err, request{"list", "pods", ns}, d.server)
		}
		if len(list.Items) == 0 {
			if nsErr := d.namespaceMissing(ctx); nsErr != nil {
				return nil, nsErr
			}
			return nil, &Error{Msg: fmt.Sprintf("no pod matches -l %s in namespace %s: check the namespace (-n) and selector (-l), or use --lab sandbox", d.opts.Selector, ns)}
		}
		items := list.Items
		sort.SliceStable(items, func(i, j int) bool { return items[i].Name < items[j].Name })
		pod = &items[0]
		running := 0
		for i := range items {
			if items[i].Status.Phase == corev1.PodRunning && items[i].DeletionTimestamp == nil {
				if running == 0 {
					pod = &items[i]
				}
				running++
			}
		}
		if len(items) > 1 {
			d.note("%d pods match -l %s (%d Running); showing %s (use --pod to pick another)", len(items), d.opts.Selector, running, pod.Name)
		}
	}
	if c := pod.Annotations["kubectl.kubernetes.io/default-container"]; c != "" {
		d.container = c
	} else if len(pod.Spec.Containers) > 0 {
		d.container = pod.Spec.Containers[0].Name
	}
	if pod.Spec.HostNetwork {
		return nil, &Error{Msg: fmt.Sprintf("pod %s/%s uses the host network, so it has no namespace of its own to show: pick another pod (--pod or -l)", pod.Namespace, pod.Name)}
	}
	if pod.Status.Phase != corev1.PodRunning {
		phase := string(pod.Status.Phase)
		if phase == "" {
			phase = "not yet scheduled"
		}
		return nil, &Error{Msg: fmt.Sprintf("pod %s/%s is %s, not Running: wait for it (kubectl get pods -n %s -w)", pod.Namespace, pod.Name, phase, pod.Namespace)}
	}
	if pod.Spec.NodeName == "" {
		return nil, &Error{Msg: fmt.Sprintf("pod %s/%s has no node yet: wait for it (kubectl get pods -n %s -w)", pod.Namespace, pod.Name, pod.Namespace)}
	}
	if _, ok := podIP(pod); !ok {
		return nil, &Error{Msg: fmt.Sprintf("pod %s/%s has no IPv4 address yet: wait for it (kubectl get pods -n %s -o wide -w)", pod.Namespace, pod.Name, pod.Namespace)}
	}
	return pod, nil
}

// namespaceMissing says so when the namespace does not exist; nil when it
// exists or cannot be read.
func (d *discovery) namespaceMissing(ctx context.Context) error {
	_, err := d.client.namespace(ctx, d.opts.Namespace)
	if apierrors.IsNotFound(err) {
		return errorf(err, "namespace %s not found: check the namespace (-n; kubectl get namespaces), or use --lab sandbox", d.opts.Namespace)
	}
	return nil
}

// nodePods lists the pods on the pod's node, to name each local /32.
func (d *discovery) nodePods(ctx context.Context, pod *corev1.Pod) []netview.PodFact {
	sel := fields.OneTermEqualSelector("spec.nodeName", pod.Spec.NodeName).String()
	list, err := d.client.pods(ctx, metav1.NamespaceAll, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		// Without the cluster-wide list, the pod's own namespace still
		// names its neighbours there.
		d.note("%s (only pods in namespace %s will be named): ask for \"list pods\" in all namespaces or ignore",
			d.gap(err, request{"list", "pods", ""}), pod.Namespace)
		list, err = d.client.pods(ctx, pod.Namespace, metav1.ListOptions{FieldSelector: sel})
		if err != nil {
			return []netview.PodFact{podFact(pod)}
		}
	}
	var out []netview.PodFact
	seen := false
	for i := range list.Items {
		p := &list.Items[i]
		if p.Spec.HostNetwork {
			continue // its IP is the node's, not a pod route
		}
		if _, ok := podIP(p); !ok {
			continue
		}
		if p.Namespace == pod.Namespace && p.Name == pod.Name {
			seen = true
		}
		out = append(out, podFact(p))
	}
	if !seen {
		out = append(out, podFact(pod))
	}
	slices.SortFunc(out, func(a, b netview.PodFact) int { return a.IP.Compare(b.IP) })
	return out
}

// nodes lists every node's InternalIPs (IPv4 and IPv6), to name remote
// blocks.
func (d *discovery) nodes(ctx context.Context) []netview.NodeFact {
	list, err := d.client.nodes(ctx)
	if err != nil {
		d.note("%s (remote blocks will not be named): ask for \"list nodes\" or ignore", d.gap(err, request{"list", "nodes", ""}))
		return nil
	}
	var out []netview.NodeFact
	for _, n := range list.Items {
		nf := netview.NodeFact{Name: n.Name}
		for _, a := range n.Status.Addresses {
			if a.Type != corev1.NodeInternalIP {
				continue
			}
			// A dual-stack node lists an InternalIP of each family.
			ip, err := netip.ParseAddr(a.Address)
			switch {
			case err != nil:
			case ip.Is4() && !nf.InternalIP.IsValid():
				nf.InternalIP = ip
			case ip.Is6() && !ip.Is4In6() && ip.Zone() == "" && !nf.InternalIP6.IsValid():
				nf.InternalIP6 = ip
			}
		}
		out = append(out, nf)
	}
	return out
}

// blocks reads Calico's block affinities; a cluster without Calico's CRDs
// (or with them hidden from us) simply has no named blocks.
func (d *discovery) blocks(ctx context.Context) []netview.Block {
	affinities, err := d.client.blockAffinities(ctx)
	switch {
	case err == nil:
	case apierrors.IsNotFound(err):
		d.note("no Calico block affinities (blockaffinities.crd.projectcalico.org is not installed): blocks are named from routes only")
		return nil
	default:
		d.note("%s (blocks are named from routes only): ask for \"list blockaffinities.crd.projectcalico.org\" or ignore",
			d.gap(err, request{"list", "blockaffinities.crd.projectcalico.org", ""}))
		return nil
	}
	var out []netview.Block
	for _, a := range affinities {
		p, err := netip.ParsePrefix(a.CIDR)
		if err != nil || a.Node == "" || a.Deleted == "true" {
			continue
		}
		// Only confirmed affinities say a block is really the node's;
		// pending ones may still go to another node.
		if a.State != "" && a.State != "confirmed" {
			continue
		}
		out = append(out, netview.Block{CIDR: p.Masked(), Node: a.Node})
	}
	slices.SortFunc(out, func(a, b netview.Block) int { return a.CIDR.Addr().Compare(b.CIDR.Addr()) })
	return out
}

// gap words a non-fatal failure: "forbidden: cannot list nodes", or the
// transport error.
func (d *discovery) gap(err error, r request) string {
	if apierrors.IsForbidden(err) {
		return "forbidden: cannot " + r.String()
	}
	var e *Error
	if errors.As(apiError(err, r, d.server), &e) {
		return e.Msg
	}
	return err.Error()
}

func podIP(p *corev1.Pod) (netip.Addr, bool) {
	for _, pi := range p.Status.PodIPs {
		if ip, err := netip.ParseAddr(pi.IP); err == nil && ip.Is4() {
			return ip, true
		}
	}
	if ip, err := netip.ParseAddr(p.Status.PodIP); err == nil && ip.Is4() {
		return ip, true
	}
	return netip.Addr{}, false
}

// podIP6 is a dual-stack pod's IPv6 address: the second family of
// status.podIPs.
func podIP6(p *corev1.Pod) netip.Addr {
	for _, pi := range p.Status.PodIPs {
		if ip, err := netip.ParseAddr(pi.IP); err == nil && ip.Is6() && !ip.Is4In6() && ip.Zone() == "" {
			return ip
		}
	}
	return netip.Addr{}
}

func podFact(p *corev1.Pod) netview.PodFact {
	ip, _ := podIP(p)
	return netview.PodFact{
		Namespace: p.Namespace,
		Name:      p.Name,
		IP:        ip,
		IP6:       podIP6(p),
		Node:      p.Spec.NodeName,
		Phase:     string(p.Status.Phase),
	}
}
