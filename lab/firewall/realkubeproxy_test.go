package firewall

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"podlab/internal/kpgen"
	"podlab/internal/kubetest"
	"podlab/internal/netnstest"
	"podlab/kubeproxy"
	"podlab/lab"
)

func TestMain(m *testing.M) { kubetest.Main(m) }

// ruleWait bounds how long kube-proxy may take to write what the API
// says: it syncs within a second of a change, but a loaded two-core
// machine is slow to start it.
const ruleWait = 2 * time.Minute

// The real kube-proxy, in a namespace of its own as a node's proxy: the
// summary service and an EndpointSlice with two ready endpoints, written
// as the EndpointSlice controller writes them, become chains whose names
// are the ones kubeproxy computes, with kube-proxy's probabilities; the
// slice grows to three and the third endpoint's chain appears, the
// probabilities becoming 0.333…, 0.5 and the rest. In iptables mode read
// with ReadIPTables, in nftables mode with ReadNFT.
func TestRealKubeProxy(t *testing.T) {
	netnstest.RequireRoot(t)
	srv := kubetest.Start(t)
	before := hostKnobs()
	t.Cleanup(func() {
		for f, v := range hostKnobs() {
			if was, ok := before[f]; ok && was != v {
				t.Errorf("kube-proxy changed the host's %s from %s to %s", f, was, v)
			}
		}
	})
	for _, tt := range []struct {
		name, mode string
		// ClientIP affinity: in nftables mode the one way kube-proxy
		// makes endpoint chains, whose names are then checked too.
		affinity bool
		check    func(tab *kubeproxy.Table, clusterIP string, n int, affinity bool) error
	}{
		{"iptables", "iptables", false, checkIPTables},
		{"iptables affinity", "iptables", true, checkIPTables},
		{"nftables", "nftables", false, checkNFT},
		{"nftables affinity", "nftables", true, checkNFT},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ns := netnstest.New(t, "plkp")
			t.Cleanup(func() {
				// After kube-proxy's own cleanup, before the namespace's:
				// nothing may be left running in it. The test itself may
				// be listed: a reader's thread left in the namespace
				// (lab.InNS) parks there when it is the main thread.
				out, _ := exec.Command("ip", "netns", "pids", ns).Output()
				left := slices.DeleteFunc(strings.Fields(string(out)), func(p string) bool { return p == strconv.Itoa(os.Getpid()) })
				if len(left) > 0 {
					ps, _ := exec.Command("ps", "-o", "pid,ppid,pgid,stat,args", "-p", strings.Join(left, ",")).CombinedOutput()
					t.Errorf("processes left in %s:\n%s", ns, ps)
				}
			})
			read := func() (*kubeproxy.Table, error) { return ReadIPTables(context.Background(), lab.NSRef{Name: ns}) }
			if tt.mode == "nftables" {
				netnstest.RequireCommand(t, "nft", "apt-get install nftables")
				read = func() (*kubeproxy.Table, error) { return ReadNFT(context.Background(), lab.NSRef{Name: ns}) }
			} else {
				netnstest.RequireCommand(t, "iptables-save", "apt-get install iptables")
			}
			node := netnstest.Name("kp-")
			srv.AddNode(t, node, "10.0.0.10")
			srv.EnsureNamespace(t, summary.Namespace)
			c := srv.Client(t)
			svc := createSummary(t, c, tt.affinity)
			slice := createSlice(t, c, svc, node, kpgen.Summary(2).Endpoints)

			kp := srv.StartKubeProxy(t, ns, node, tt.mode)
			waitRules(t, kp, read, func(tab *kubeproxy.Table) error { return tt.check(tab, svc.Spec.ClusterIP, 2, tt.affinity) })

			slice.Endpoints = sliceEndpoints(node, kpgen.Summary(3).Endpoints)
			if _, err := c.DiscoveryV1().EndpointSlices(summary.Namespace).Update(apiContext(t), slice, metav1.UpdateOptions{}); err != nil {
				t.Fatalf("scale the summary slice to 3: %v", err)
			}
			waitRules(t, kp, read, func(tab *kubeproxy.Table) error { return tt.check(tab, svc.Spec.ClusterIP, 3, tt.affinity) })
		})
	}
}

// hostKnobs reads what kube-proxy's defaults would write outside its
// namespace (the conntrack table's size and hash, global) or in the
// host's own namespace, as the test sees them; a file absent (the
// conntrack module not loaded) is left out.
func hostKnobs() map[string]string {
	knobs := map[string]string{}
	for _, f := range []string{
		"/proc/sys/net/netfilter/nf_conntrack_max",
		"/sys/module/nf_conntrack/parameters/hashsize",
		"/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established",
		"/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_close_wait",
		"/proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal",
		"/proc/sys/net/ipv4/conf/all/route_localnet",
	} {
		if b, err := os.ReadFile(f); err == nil {
			knobs[f] = strings.TrimSpace(string(b))
		}
	}
	return knobs
}

// The probabilities iptables-save prints for kube-proxy's 1/(n-i).
var wantProbs = map[int][]string{
	2: {"0.50000000000", ""},
	3: {"0.33333333349", "0.50000000000", ""},
}

// checkIPTables: KUBE-SERVICES sends the cluster IP to the chain named
// kubeproxy.SVCChain, which picks each endpoint's chain (named
// kubeproxy.SEPChain) with kube-proxy's probabilities; with affinity,
// a recent-match rule per endpoint comes first.
func checkIPTables(tab *kubeproxy.Table, clusterIP string, n int, affinity bool) error {
	services := tab.Chain(kubeproxy.ChainServices)
	if services == nil {
		return fmt.Errorf("no %s chain", kubeproxy.ChainServices)
	}
	var entry *kubeproxy.Rule
	for i := range services.Rules {
		if services.Rules[i].Match().Comment == summary.String()+" cluster IP" {
			entry = &services.Rules[i]
		}
	}
	if entry == nil {
		return fmt.Errorf("no rule for %s in %s", summary, kubeproxy.ChainServices)
	}
	if m := entry.Match(); entry.Target != kubeproxy.SVCChain(summary) || m.Dest.Value != clusterIP+"/32" {
		return fmt.Errorf("%s's rule %q: target %s, computed %s, cluster IP %s", summary, entry.Text, entry.Target, kubeproxy.SVCChain(summary), clusterIP)
	}
	w := kubeproxy.WalkService(tab, summary)
	if !w.Found || w.Chain != kubeproxy.SVCChain(summary) {
		return fmt.Errorf("no chain %s", kubeproxy.SVCChain(summary))
	}
	var probs, dests []string
	for _, h := range w.Hops {
		probs, dests = append(probs, h.Probability), append(dests, h.ToDest)
		if h.ToDest == "" || h.Chain != kubeproxy.SEPChain(summary, h.ToDest) {
			return fmt.Errorf("endpoint chain %s DNATs to %q, computed %s", h.Chain, h.ToDest, kubeproxy.SEPChain(summary, h.ToDest))
		}
	}
	if want := endpoints(n); !slices.Equal(sorted(dests), want) || !slices.Equal(probs, wantProbs[n]) {
		return fmt.Errorf("hops to %q with probabilities %q, want %q with %q", dests, probs, want, wantProbs[n])
	}
	sticky := 0
	for _, r := range tab.Chain(w.Chain).Rules {
		if r.Match().Affinity {
			sticky++
		}
	}
	if affinity && sticky != n || !affinity && sticky != 0 {
		return fmt.Errorf("%d affinity rules for %d endpoints (affinity %v)", sticky, n, affinity)
	}
	return nil
}

// checkNFT: the service-ips map sends the cluster IP to the chain named
// kubeproxy.NFTServiceChain, whose numgen map gives each endpoint 1/n:
// a DNAT, or with affinity a goto to the endpoint's chain, named as
// kubeproxy.NFTEndpointChain computes.
func checkNFT(tab *kubeproxy.Table, clusterIP string, n int, affinity bool) error {
	ips := tab.Map(kubeproxy.NFTServiceIPsMap)
	if ips == nil {
		return fmt.Errorf("no %s map", kubeproxy.NFTServiceIPsMap)
	}
	key := clusterIP + " tcp 80"
	var target string
	for _, e := range ips.Elems {
		if strings.Join(e.Key, " ") == key {
			target = e.Target
		}
	}
	if target != kubeproxy.NFTServiceChain(summary) {
		return fmt.Errorf("%s sends %s to %q, computed %s", kubeproxy.NFTServiceIPsMap, key, target, kubeproxy.NFTServiceChain(summary))
	}
	w := kubeproxy.WalkService(tab, summary)
	if !w.Found {
		return fmt.Errorf("no chain %s", w.SVC)
	}
	var dests []string
	for _, h := range w.Hops {
		dests = append(dests, h.ToDest)
		if h.Share != 1/float64(n) || affinity != (h.Chain != "") || affinity && !h.Named {
			return fmt.Errorf("hop to %s through chain %q, computed %s, share %v (affinity %v)", h.ToDest, h.Chain, h.Want, h.Share, affinity)
		}
	}
	if want := endpoints(n); !slices.Equal(sorted(dests), want) {
		return fmt.Errorf("hops to %q, want %q", dests, want)
	}
	want := map[string]bool{}
	for _, ep := range endpoints(n) {
		want[kubeproxy.NFTEndpointChain(summary, ep)] = true
	}
	made := 0
	for _, ch := range tab.Chains {
		if !strings.HasPrefix(ch.Name, kubeproxy.NFTPrefixEndpoint) {
			continue
		}
		if !want[ch.Name] {
			return fmt.Errorf("endpoint chain %s is none of the computed %v", ch.Name, want)
		}
		made++
	}
	if affinity && made != n || !affinity && made != 0 {
		return fmt.Errorf("%d endpoint chains for %d endpoints (affinity %v)", made, n, affinity)
	}
	return nil
}

func endpoints(n int) []string {
	var eps []string
	for _, ip := range kpgen.Summary(n).Endpoints {
		eps = append(eps, kubeproxy.Endpoint(ip, 80))
	}
	return sorted(eps)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// waitRules reads the namespace's rules until check passes, kube-proxy
// dies, or ruleWait passes.
func waitRules(t *testing.T, kp *kubetest.KubeProxy, read func() (*kubeproxy.Table, error), check func(*kubeproxy.Table) error) {
	t.Helper()
	deadline := time.Now().Add(ruleWait)
	for {
		tab, err := read()
		if err == nil {
			if err = check(tab); err == nil {
				return
			}
		}
		if dead := kp.Alive(); dead != nil {
			t.Fatal(dead)
		}
		if time.Now().After(deadline) {
			t.Fatalf("kube-proxy's rules after %s: %v", ruleWait, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func apiContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// createSummary creates the lesson's summary service, its cluster IP
// given by the test server from its service range.
func createSummary(t *testing.T, c kubernetes.Interface, affinity bool) *corev1.Service {
	t.Helper()
	labels := map[string]string{"app": "summary"}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: summary.Name, Namespace: summary.Namespace, Labels: labels},
		Spec: corev1.ServiceSpec{
			Selector: labels,
			Ports:    []corev1.ServicePort{{Name: summary.Port, Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromInt32(80)}},
		},
	}
	if affinity {
		svc.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	}
	services := c.CoreV1().Services(summary.Namespace)
	created, err := services.Create(apiContext(t), svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create service %s: %v", summary, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := services.Delete(ctx, svc.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete service %s: %v", summary, err)
		}
	})
	if _, err := netip.ParseAddr(created.Spec.ClusterIP); err != nil {
		t.Fatalf("service %s has cluster IP %q", summary, created.Spec.ClusterIP)
	}
	return created
}

// createSlice writes the service's EndpointSlice as the EndpointSlice
// controller does: its labels, owner, address type and named port.
func createSlice(t *testing.T, c kubernetes.Interface, svc *corev1.Service, node string, ips []string) *discoveryv1.EndpointSlice {
	t.Helper()
	name, proto, port, yes := summary.Port, corev1.ProtocolTCP, int32(80), true
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: svc.Name + "-",
			Namespace:    svc.Namespace,
			Labels: map[string]string{
				discoveryv1.LabelServiceName: svc.Name,
				discoveryv1.LabelManagedBy:   "endpointslice-controller.k8s.io",
			},
			Annotations: map[string]string{corev1.EndpointsLastChangeTriggerTime: time.Now().UTC().Format(time.RFC3339)},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID,
				Controller: &yes, BlockOwnerDeletion: &yes,
			}},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   sliceEndpoints(node, ips),
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Protocol: &proto, Port: &port}},
	}
	api := c.DiscoveryV1().EndpointSlices(svc.Namespace)
	created, err := api.Create(apiContext(t), slice, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create the EndpointSlice of %s: %v", summary, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := api.Delete(ctx, created.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete EndpointSlice %s: %v", created.Name, err)
		}
	})
	return created
}

// sliceEndpoints are ready pods' endpoints on node.
func sliceEndpoints(node string, ips []string) []discoveryv1.Endpoint {
	var eps []discoveryv1.Endpoint
	for i, ip := range ips {
		yes, no := true, false
		eps = append(eps, discoveryv1.Endpoint{
			Addresses:  []string{ip},
			Conditions: discoveryv1.EndpointConditions{Ready: &yes, Serving: &yes, Terminating: &no},
			NodeName:   &node,
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: summary.Namespace, Name: fmt.Sprintf("summary-%d", i)},
		})
	}
	return eps
}
