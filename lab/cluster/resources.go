package cluster

import (
	"cmp"
	"context"
	"errors"
	"math"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"podlab/netview"
)

// The resources Resources reads. Calico's are cluster-wide, as its
// Kubernetes datastore keeps them.
var (
	ipPoolsGVR           = calicoGVR("ippools")
	bgpPeersGVR          = calicoGVR("bgppeers")
	bgpConfigurationsGVR = calicoGVR("bgpconfigurations")
	servicesGVR          = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	endpointSlicesGVR    = schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}
)

func calicoGVR(resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "crd.projectcalico.org", Version: "v1", Resource: resource}
}

// resourceName is a resource as RBAC and kubectl name it: "services",
// "ippools.crd.projectcalico.org".
func resourceName(gvr schema.GroupVersionResource) string {
	if gvr.Group == "" {
		return gvr.Resource
	}
	return gvr.Resource + "." + gvr.Group
}

// Resources reads, through client-go's dynamic client, Calico's IP pools,
// BGP peers and BGP configurations and a namespace's Services and
// EndpointSlices, with the bounds of the lab's other lists: pages of
// listPage items, and one budget of bytes for all of a list's pages.
type Resources struct {
	dyn    dynamic.Interface
	server string
	page   int64
	budget int
}

// OpenResources connects to the cluster of opts as Open does, without
// looking for a pod: the kubeconfig, context and sudo rules are the same.
func OpenResources(opts Options) (*Resources, error) {
	opts.setDefaults()
	config, _, server, err := connect(opts)
	if err != nil {
		return nil, err
	}
	return newResources(config, server)
}

// Resources reads the lab's cluster's resources.
func (l *Lab) Resources() (*Resources, error) { return newResources(l.config, l.server) }

func newResources(config *rest.Config, server string) (*Resources, error) {
	c := rest.CopyConfig(config)
	c.Wrap(func(rt http.RoundTripper) http.RoundTripper { return boundedBodies{rt} })
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	dyn, err := dynamic.NewForConfig(c)
	if err != nil {
		return nil, errorf(err, "cannot use the kubeconfig's cluster %s: %s", server, netview.FirstLine(strings.ReplaceAll(err.Error(), config.Host, server)))
	}
	return &Resources{dyn: dyn, server: server, page: listPage, budget: maxAnswer}, nil
}

// Read reads every kind: one that cannot be read (not installed,
// forbidden, too long) is listed in Unreadable, never an error.
// Everything is sanitised.
func (r *Resources) Read(ctx context.Context, namespace string) netview.Resources {
	var out netview.Resources
	gap := func(gvr schema.GroupVersionResource, err error) {
		if err != nil {
			out.Unreadable = append(out.Unreadable, netview.ResourceGap{Resource: resourceName(gvr), Reason: err.Error()})
		}
	}
	var err error
	out.Pools, err = r.IPPools(ctx)
	gap(ipPoolsGVR, err)
	out.Peers, err = r.BGPPeers(ctx)
	gap(bgpPeersGVR, err)
	out.BGPConfigs, err = r.BGPConfigurations(ctx)
	gap(bgpConfigurationsGVR, err)
	out.Services, err = r.Services(ctx, namespace)
	gap(servicesGVR, err)
	out.EndpointSlices, err = r.EndpointSlices(ctx, namespace)
	gap(endpointSlicesGVR, err)
	out.Sanitize()
	return out
}

// list reads every object of gvr in namespace ("" for cluster-wide),
// page by page, within one budget. Its error is one line.
func (r *Resources) list(ctx context.Context, gvr schema.GroupVersionResource, namespace string, keep func(*unstructured.Unstructured) error) error {
	ctx = withBudget(ctx, r.budget)
	opts := metav1.ListOptions{Limit: r.page}
	for {
		var page *unstructured.UnstructuredList
		var err error
		if namespace == "" {
			page, err = r.dyn.Resource(gvr).List(ctx, opts)
		} else {
			page, err = r.dyn.Resource(gvr).Namespace(namespace).List(ctx, opts)
		}
		if err != nil {
			return r.listError(answerError(err), gvr, namespace)
		}
		for i := range page.Items {
			if err := keep(&page.Items[i]); err != nil {
				return err
			}
		}
		if page.GetContinue() == "" {
			return nil
		}
		opts.Continue = page.GetContinue()
	}
}

// listError words a failed list in one line, saying what to do.
func (r *Resources) listError(err error, gvr schema.GroupVersionResource, namespace string) error {
	name := resourceName(gvr)
	req := request{"list", name, namespace}
	if long, ok := errors.AsType[*AnswerTooLongError](err); ok {
		return errorf(err, "the %s are more than podlab reads (%s)", name, sizeName(long.Limit))
	}
	if apierrors.IsNotFound(err) && gvr.Group == ipPoolsGVR.Group {
		return errorf(err, "%s is not installed: this cluster has no Calico with the Kubernetes datastore", name)
	}
	if apierrors.IsForbidden(err) {
		return errorf(err, "forbidden: cannot %s: ask for %s", req, req.ask())
	}
	return apiError(err, req, r.server)
}

// IPPools lists Calico's IP pools, by name.
func (r *Resources) IPPools(ctx context.Context) ([]netview.IPPool, error) {
	var out []netview.IPPool
	err := r.list(ctx, ipPoolsGVR, "", func(u *unstructured.Unstructured) error {
		out = append(out, poolOf(u))
		return nil
	})
	slices.SortFunc(out, func(a, b netview.IPPool) int { return cmp.Compare(a.Name, b.Name) })
	return out, err
}

// BGPPeers lists Calico's BGP peers, by name.
func (r *Resources) BGPPeers(ctx context.Context) ([]netview.BGPPeer, error) {
	var out []netview.BGPPeer
	err := r.list(ctx, bgpPeersGVR, "", func(u *unstructured.Unstructured) error {
		out = append(out, peerOf(u))
		return nil
	})
	slices.SortFunc(out, func(a, b netview.BGPPeer) int { return cmp.Compare(a.Name, b.Name) })
	return out, err
}

// BGPConfigurations lists Calico's BGP configurations, by name.
func (r *Resources) BGPConfigurations(ctx context.Context) ([]netview.BGPConfiguration, error) {
	var out []netview.BGPConfiguration
	err := r.list(ctx, bgpConfigurationsGVR, "", func(u *unstructured.Unstructured) error {
		out = append(out, bgpConfigOf(u))
		return nil
	})
	slices.SortFunc(out, func(a, b netview.BGPConfiguration) int { return cmp.Compare(a.Name, b.Name) })
	return out, err
}

// Services lists the Services of namespace, by name.
func (r *Resources) Services(ctx context.Context, namespace string) ([]netview.Service, error) {
	var out []netview.Service
	err := r.list(ctx, servicesGVR, namespace, func(u *unstructured.Unstructured) error {
		var s corev1.Service
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &s); err != nil {
			return notA(u, "Service", err)
		}
		out = append(out, serviceOf(&s))
		return nil
	})
	slices.SortFunc(out, func(a, b netview.Service) int { return cmp.Compare(a.Name, b.Name) })
	return out, err
}

// EndpointSlices lists the EndpointSlices of namespace, by service and
// name.
func (r *Resources) EndpointSlices(ctx context.Context, namespace string) ([]netview.EndpointSlice, error) {
	var out []netview.EndpointSlice
	err := r.list(ctx, endpointSlicesGVR, namespace, func(u *unstructured.Unstructured) error {
		var s discoveryv1.EndpointSlice
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &s); err != nil {
			return notA(u, "EndpointSlice", err)
		}
		out = append(out, sliceOf(&s))
		return nil
	})
	slices.SortFunc(out, func(a, b netview.EndpointSlice) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(a.Name, b.Name))
	})
	return out, err
}

// poolOf, peerOf and bgpConfigOf read Calico's objects field by field:
// a field of another type than Calico's reads as unset, never fails the
// list.
func poolOf(u *unstructured.Unstructured) netview.IPPool {
	spec := specOf(u)
	return netview.IPPool{
		Name:         u.GetName(),
		CIDR:         prefix(str(spec, "cidr")),
		BlockSize:    int(min(max(number(spec["blockSize"]), 0), 128)),
		IPIPMode:     str(spec, "ipipMode"),
		VXLANMode:    str(spec, "vxlanMode"),
		NATOutgoing:  boolean(spec, "natOutgoing"),
		Disabled:     boolean(spec, "disabled"),
		NodeSelector: str(spec, "nodeSelector"),
	}
}

func peerOf(u *unstructured.Unstructured) netview.BGPPeer {
	spec := specOf(u)
	p := netview.BGPPeer{
		Name:         u.GetName(),
		ASNumber:     asNumber(spec["asNumber"]),
		Node:         str(spec, "node"),
		NodeSelector: str(spec, "nodeSelector"),
	}
	p.PeerIP, p.PeerPort = peerIP(str(spec, "peerIP"))
	return p
}

func bgpConfigOf(u *unstructured.Unstructured) netview.BGPConfiguration {
	spec := specOf(u)
	c := netview.BGPConfiguration{
		Name:               u.GetName(),
		ASNumber:           asNumber(spec["asNumber"]),
		ServiceClusterIPs:  cidrs(spec["serviceClusterIPs"]),
		ServiceExternalIPs: cidrs(spec["serviceExternalIPs"]),
	}
	if b, ok := spec["nodeToNodeMeshEnabled"].(bool); ok {
		c.NodeToNodeMeshEnabled = &b
	}
	return c
}

func notA(u *unstructured.Unstructured, kind string, err error) error {
	return errorf(err, "%s %s/%s is not a %s podlab can read: %s", strings.ToLower(kind), netview.Cut(u.GetNamespace(), 63), netview.Cut(u.GetName(), 253), kind, netview.FirstLine(netview.Cut(err.Error(), 512)))
}

func serviceOf(s *corev1.Service) netview.Service {
	out := netview.Service{
		Namespace:             s.Namespace,
		Name:                  s.Name,
		Type:                  string(s.Spec.Type),
		ExternalTrafficPolicy: string(s.Spec.ExternalTrafficPolicy),
		ExternalIPs:           addrs(s.Spec.ExternalIPs),
	}
	ips := s.Spec.ClusterIPs
	if len(ips) == 0 && s.Spec.ClusterIP != "" {
		ips = []string{s.Spec.ClusterIP}
	}
	out.ClusterIPs = addrs(ips) // "None" (headless) is no address
	for _, p := range s.Spec.Ports {
		out.Ports = append(out.Ports, netview.ServicePort{
			Name: p.Name, Protocol: string(p.Protocol), Port: p.Port,
			TargetPort: p.TargetPort.String(), NodePort: p.NodePort,
		})
	}
	return out
}

func sliceOf(s *discoveryv1.EndpointSlice) netview.EndpointSlice {
	out := netview.EndpointSlice{
		Namespace:   s.Namespace,
		Name:        s.Name,
		Service:     s.Labels[discoveryv1.LabelServiceName],
		AddressType: string(s.AddressType),
	}
	for _, e := range s.Endpoints {
		ne := netview.Endpoint{Addresses: addrs(e.Addresses), Ready: e.Conditions.Ready == nil || *e.Conditions.Ready}
		if e.NodeName != nil {
			ne.Node = *e.NodeName
		}
		if e.TargetRef != nil && e.TargetRef.Kind == "Pod" {
			ne.Pod = e.TargetRef.Name
		}
		out.Endpoints = append(out.Endpoints, ne)
	}
	return out
}

// specOf is an object's spec; nil (read as empty) when it is not an
// object.
func specOf(u *unstructured.Unstructured) map[string]any {
	spec, _ := u.Object["spec"].(map[string]any)
	return spec
}

// str is a string field of m; "" when absent or of another type.
func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func boolean(m map[string]any, key string) bool {
	b, _ := m[key].(bool)
	return b
}

// number is an integer the API server decoded from JSON (int64, or
// float64 when it did not fit); 0 for anything else.
func number(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case float64:
		if n >= math.MinInt64 && n <= math.MaxInt64 && n == math.Trunc(n) {
			return int64(n)
		}
	}
	return 0
}

// asNumber reads an AS number as Calico's numorstring.ASNumber does: a
// number, or a string of one in plain ("64512") or dotted ("1.10")
// notation. 0 when it is none.
func asNumber(v any) uint32 {
	switch n := v.(type) {
	case int64, float64:
		x := number(n)
		if x > 0 && x <= math.MaxUint32 {
			return uint32(x)
		}
	case string:
		if hi, lo, dotted := strings.Cut(n, "."); dotted {
			h, err1 := strconv.ParseUint(hi, 10, 16)
			l, err2 := strconv.ParseUint(lo, 10, 16)
			if err1 == nil && err2 == nil {
				return uint32(h<<16 | l)
			}
			return 0
		}
		if x, err := strconv.ParseUint(n, 10, 32); err == nil {
			return uint32(x)
		}
	}
	return 0
}

// peerIP reads a BGPPeer's peerIP: an address, or one with a port
// ("198.19.15.254:179", "[fd00::1]:179").
func peerIP(s string) (netip.Addr, uint16) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a, 0
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr(), ap.Port()
	}
	return netip.Addr{}, 0
}

// cidrs reads BGPConfiguration's lists of {cidr: …}.
func cidrs(v any) []netip.Prefix {
	l, _ := v.([]any)
	var out []netip.Prefix
	for _, item := range l {
		m, _ := item.(map[string]any)
		if p := prefix(str(m, "cidr")); p.IsValid() {
			out = append(out, p)
		}
	}
	return out
}

// prefix is a CIDR masked as Calico masks it; invalid when it is none.
func prefix(s string) netip.Prefix {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}
	}
	return p.Masked()
}

// addrs are the addresses among ss; what is not one is left out.
func addrs(ss []string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, a)
		}
	}
	return out
}
