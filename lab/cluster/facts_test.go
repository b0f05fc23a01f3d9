package cluster

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/clientcmd"

	"podlab/internal/kubetest"
	"podlab/netview"
)

// The lesson's cluster, as the API server knows it.
var (
	lessonNodes = []netview.NodeFact{
		{Name: "control", InternalIP: netip.MustParseAddr("198.19.0.1")},
		{Name: "node1", InternalIP: netip.MustParseAddr("198.19.0.2")},
		{Name: "node2", InternalIP: netip.MustParseAddr("198.19.0.3")},
	}
	lessonBlocks = []netview.Block{
		{CIDR: netip.MustParsePrefix("198.19.21.0/26"), Node: "control"},
		{CIDR: netip.MustParsePrefix("198.19.21.64/26"), Node: "node2"},
		{CIDR: netip.MustParsePrefix("198.19.22.128/26"), Node: "node1"},
	}
	customer = "customer-574bd6cc75-2blnv"
)

func addNodes(t *testing.T, s *kubetest.Server) {
	t.Helper()
	for _, n := range lessonNodes {
		s.AddNode(t, n.Name, n.InternalIP.String())
	}
}

// addYaobank registers the lesson's pods: the customer on node1, its
// neighbours on node1 in other namespaces, and the database on node2.
func addYaobank(t *testing.T, s *kubetest.Server) {
	t.Helper()
	run := corev1.PodRunning
	s.AddPod(t, "yaobank", customer, "node1", "198.19.22.132", map[string]string{"app": "customer", "version": "v1"}, run)
	s.AddPod(t, "yaobank", "summary-85c56b76d7-28dxz", "node1", "198.19.22.131", map[string]string{"app": "summary"}, run)
	s.AddPod(t, "kube-system", "coredns-7db6d8ff4d-5qhs4", "node1", "198.19.22.129", map[string]string{"k8s-app": "kube-dns"}, run)
	s.AddPod(t, "yaobank", "database-6c5db58d95-kq8xz", "node2", "198.19.21.66", map[string]string{"app": "database"}, run)
}

func addBlocks(t *testing.T, s *kubetest.Server) {
	t.Helper()
	for _, b := range lessonBlocks {
		s.AddBlockAffinity(t, b.Node, b.CIDR.String(), "confirmed")
	}
	// A pending affinity must not name a block.
	s.AddBlockAffinity(t, "node2", "198.19.23.0/26", "pending")
}

func open(t *testing.T, o Options) (*Lab, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*defaultTimeout)
	defer cancel()
	l, err := Open(ctx, o)
	if err == nil {
		t.Cleanup(func() { l.Close() })
	}
	return l, err
}

// rewriteKubeconfig copies a kubeconfig with the server changed.
func rewriteKubeconfig(t *testing.T, from, server string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		c.Server = server
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// closedPort is a port on 127.0.0.1 nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func TestOpenFacts(t *testing.T) {
	s := kubetest.Start(t)
	addNodes(t, s)
	addYaobank(t, s)

	t.Run("without Calico's CRD", func(t *testing.T) {
		s.RemoveBlockAffinityCRD(t)
		l, err := open(t, Options{Kubeconfig: s.Kubeconfig})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Facts().Blocks) != 0 {
			t.Errorf("blocks %v without the CRD", l.Facts().Blocks)
		}
		if d := l.Describe(); !strings.Contains(d, "blockaffinities.crd.projectcalico.org is not installed") {
			t.Errorf("Describe does not note the missing CRD: %s", d)
		}
	})

	addBlocks(t, s)
	l, err := open(t, Options{Kubeconfig: s.Kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	f := l.Facts()
	t.Run("pod", func(t *testing.T) {
		want := netview.PodFact{Namespace: "yaobank", Name: customer, IP: netip.MustParseAddr("198.19.22.132"), Node: "node1", Phase: "Running"}
		if f.Pod != want || f.Node != "node1" {
			t.Errorf("pod %+v on %q, want %+v on node1", f.Pod, f.Node, want)
		}
	})
	t.Run("pods on the node", func(t *testing.T) {
		var got []string
		for _, p := range f.Pods {
			got = append(got, p.IP.String()+"="+p.Namespace+"/"+p.Name)
		}
		want := []string{
			"198.19.22.129=kube-system/coredns-7db6d8ff4d-5qhs4",
			"198.19.22.131=yaobank/summary-85c56b76d7-28dxz",
			"198.19.22.132=yaobank/" + customer,
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("pods %v, want %v (node2's database must not be there)", got, want)
		}
	})
	t.Run("nodes", func(t *testing.T) {
		for _, n := range lessonNodes {
			if f.NodeByIP(n.InternalIP) != n.Name {
				t.Errorf("%s does not name %s: %+v", n.InternalIP, n.Name, f.Nodes)
			}
		}
	})
	t.Run("blocks", func(t *testing.T) {
		if len(f.Blocks) != len(lessonBlocks) {
			t.Fatalf("blocks %v, want %v", f.Blocks, lessonBlocks)
		}
		for i := range lessonBlocks {
			if f.Blocks[i] != lessonBlocks[i] {
				t.Errorf("block %d: %v, want %v", i, f.Blocks[i], lessonBlocks[i])
			}
		}
		if f.BlockSize != 26 {
			t.Errorf("block size %d", f.BlockSize)
		}
	})
	t.Run("describe", func(t *testing.T) {
		d := l.Describe()
		for _, w := range []string{"cluster ", "yaobank/" + customer, "198.19.22.132", "on node1", "over ssh node1 (podlab collect there"} {
			if !strings.Contains(d, w) {
				t.Errorf("Describe %q lacks %q", d, w)
			}
		}
		if strings.Contains(d, "\n") {
			t.Errorf("Describe is more than one line: %q", d)
		}
		if l.Kind() != "cluster" || l.Where() != Remote {
			t.Errorf("kind %q where %q", l.Kind(), l.Where())
		}
	})
	t.Run("by name", func(t *testing.T) {
		l, err := open(t, Options{Kubeconfig: s.Kubeconfig, Pod: "database-6c5db58d95-kq8xz"})
		if err != nil {
			t.Fatal(err)
		}
		if l.Facts().Node != "node2" || l.Facts().Pod.IP != netip.MustParseAddr("198.19.21.66") {
			t.Errorf("facts %+v", l.Facts())
		}
	})
	t.Run("several match", func(t *testing.T) {
		s.AddPod(t, "yaobank", "summary-85c56b76d7-aaaaa", "node2", "", map[string]string{"app": "summary"}, corev1.PodPending)
		s.AddPod(t, "yaobank", "summary-85c56b76d7-zzzzz", "node2", "198.19.21.67", map[string]string{"app": "summary"}, corev1.PodRunning)
		l, err := open(t, Options{Kubeconfig: s.Kubeconfig, Selector: "app=summary"})
		if err != nil {
			t.Fatal(err)
		}
		// The first by name is Pending; the first Running one is shown.
		if l.Facts().Pod.Name != "summary-85c56b76d7-28dxz" {
			t.Errorf("picked %s", l.Facts().Pod.Name)
		}
		if d := l.Describe(); !strings.Contains(d, "3 pods match -l app=summary (2 Running); showing summary-85c56b76d7-28dxz") {
			t.Errorf("Describe does not say which of several: %s", d)
		}
	})
}

// TestOpenErrors: every way Open can fail gives one line saying what to do.
func TestOpenErrors(t *testing.T) {
	s := kubetest.Start(t)
	addNodes(t, s)
	addYaobank(t, s)
	s.AddPod(t, "yaobank", "customer-pending", "node1", "", map[string]string{"app": "waiting"}, corev1.PodPending)
	s.EnsureNamespace(t, "empty")

	nobody := s.KubeconfigFor(t, "podlab-nobody")
	cases := []struct {
		name string
		opts Options
		env  map[string]string
		want string
	}{
		{"no pod matches", Options{Kubeconfig: s.Kubeconfig, Selector: "app=nothing"},
			nil, "no pod matches -l app=nothing in namespace yaobank: check the namespace (-n) and selector (-l), or use --lab sandbox"},
		{"empty namespace", Options{Kubeconfig: s.Kubeconfig, Namespace: "empty"},
			nil, "no pod matches -l app=customer in namespace empty: check the namespace (-n) and selector (-l), or use --lab sandbox"},
		{"namespace missing", Options{Kubeconfig: s.Kubeconfig, Namespace: "yaobnak"},
			nil, "namespace yaobnak not found: check the namespace (-n; kubectl get namespaces), or use --lab sandbox"},
		{"pod not found", Options{Kubeconfig: s.Kubeconfig, Pod: "customer-nope"},
			nil, "pod yaobank/customer-nope not found: check the name (kubectl get pods -n yaobank) and the namespace (-n)"},
		{"pod not Running", Options{Kubeconfig: s.Kubeconfig, Selector: "app=waiting"},
			nil, "pod yaobank/customer-pending is Pending, not Running: wait for it (kubectl get pods -n yaobank -w)"},
		{"pod not Running by name", Options{Kubeconfig: s.Kubeconfig, Pod: "customer-pending"},
			nil, "pod yaobank/customer-pending is Pending, not Running: wait for it (kubectl get pods -n yaobank -w)"},
		{"wrong context", Options{Kubeconfig: s.Kubeconfig, Context: "kind-elsewhere"},
			nil, `context "kind-elsewhere" is not in the kubeconfig: list them with kubectl config get-contexts and pass one with --context`},
		{"missing kubeconfig file", Options{Kubeconfig: "/nonexistent/podlab/kubeconfig"},
			nil, "kubeconfig /nonexistent/podlab/kubeconfig not found: check --kubeconfig"},
		{"no kubeconfig anywhere", Options{},
			map[string]string{"KUBECONFIG": "", "HOME": t.TempDir(), "KUBERNETES_SERVICE_HOST": "", "KUBERNETES_SERVICE_PORT": ""},
			"no kubeconfig found (--kubeconfig, $KUBECONFIG, ~/.kube/config, in-cluster): point --kubeconfig at your cluster's, or use --lab sandbox"},
		{"KUBECONFIG is used", Options{},
			map[string]string{"KUBECONFIG": s.Kubeconfig}, ""},
		{"unreachable server", Options{Kubeconfig: rewriteKubeconfig(t, s.Kubeconfig, "https://127.0.0.1:"+strconv.Itoa(closedPort(t)))},
			nil, "(connection refused): check that the cluster is up and that --kubeconfig/--context point at it, or use --lab sandbox"},
		{"--ssh is an option", Options{Kubeconfig: s.Kubeconfig, SSH: "-oProxyCommand=sh"},
			nil, `--ssh "-oProxyCommand=sh": the host "-oProxyCommand=sh" is neither a DNS name nor an IP address: give [user@]host`},
		{"forbidden pods", Options{Kubeconfig: nobody},
			nil, `forbidden: cannot list pods in namespace yaobank: ask for "list pods" in namespace yaobank`},
		{"forbidden pod by name", Options{Kubeconfig: nobody, Pod: customer},
			nil, `forbidden: cannot get pods in namespace yaobank: ask for "get pods" in namespace yaobank`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
				if v == "" {
					os.Unsetenv(k)
				}
			}
			_, err := open(t, c.opts)
			if c.want == "" {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Open succeeded, want %q", c.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) {
				t.Errorf("error\n  %s\nwant\n  %s", msg, c.want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is more than one line: %q", msg)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error %T is not a *cluster.Error", err)
			}
		})
	}
}

// TestOpenForbiddenGaps: without the rights to name everything, Open still
// works and Describe says what is missing and what to ask for.
func TestOpenForbiddenGaps(t *testing.T) {
	s := kubetest.Start(t)
	addNodes(t, s)
	addYaobank(t, s)
	addBlocks(t, s)

	// Pods only in yaobank: no nodes, no cluster-wide pods, no blocks.
	user := "podlab-student"
	kc := s.KubeconfigFor(t, user)
	s.Allow(t, "yaobank", user, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}})

	l, err := open(t, Options{Kubeconfig: kc})
	if err != nil {
		t.Fatalf("Open with pods only: %v", err)
	}
	f := l.Facts()
	if f.Pod.Name != customer || len(f.Nodes) != 0 || len(f.Blocks) != 0 {
		t.Errorf("facts %+v", f)
	}
	// The pod's own namespace still names its neighbours there.
	if p := f.PodByIP(netip.MustParseAddr("198.19.22.131")); p == nil || p.Name != "summary-85c56b76d7-28dxz" {
		t.Errorf("summary not named from yaobank: %+v", f.Pods)
	}
	if f.PodByIP(netip.MustParseAddr("198.19.22.129")) != nil {
		t.Errorf("coredns named without the right to list kube-system")
	}
	d := l.Describe()
	for _, want := range []string{
		`forbidden: cannot list pods (only pods in namespace yaobank will be named): ask for "list pods" in all namespaces or ignore`,
		`forbidden: cannot list nodes (remote blocks will not be named): ask for "list nodes" or ignore`,
		`forbidden: cannot list blockaffinities.crd.projectcalico.org (blocks are named from routes only): ask for "list blockaffinities.crd.projectcalico.org" or ignore`,
	} {
		if !strings.Contains(d, want) {
			t.Errorf("Describe\n  %s\nlacks\n  %s", d, want)
		}
	}

	t.Run("exec forbidden", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
		defer cancel()
		_, err := l.exec(ctx, []string{"ip", "-j", "addr"})
		want := `forbidden: cannot create pods/exec in namespace yaobank: ask for "create pods/exec" in namespace yaobank (or run podlab on node1 with sudo)`
		if err == nil || err.Error() != want {
			t.Errorf("exec error\n  %v\nwant\n  %s", err, want)
		}
		if !apierrors.IsForbidden(err) {
			t.Errorf("exec error does not unwrap to Forbidden: %#v", err)
		}
	})
}
