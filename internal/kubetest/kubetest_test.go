package kubetest

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
)

func TestMain(m *testing.M) { Main(m) }

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestServerVersion(t *testing.T) {
	s := Start(t)
	v, err := s.Client(t).Discovery().ServerVersion()
	if err != nil {
		t.Fatalf("server version: %v", err)
	}
	if v.GitVersion != KubeVersion {
		t.Errorf("server version = %q, want %q", v.GitVersion, KubeVersion)
	}
}

func TestAdminKubeconfigLoads(t *testing.T) {
	s := Start(t)
	cfg, err := clientcmd.LoadFromFile(s.Kubeconfig)
	if err != nil {
		t.Fatalf("load %s: %v", s.Kubeconfig, err)
	}
	if got := cfg.Clusters[cfg.Contexts[cfg.CurrentContext].Cluster].Server; got != s.URL {
		t.Errorf("kubeconfig server = %q, want %q", got, s.URL)
	}
}

func TestNodeAndPod(t *testing.T) {
	s := Start(t)
	c := s.Client(t)
	s.AddNode(t, "node1", "198.19.0.2")
	s.AddPod(t, "yaobank", "customer-574bd6cc75-2blnv", "node1", "198.19.22.132",
		map[string]string{"app": "customer", "version": "v1"}, corev1.PodRunning)
	s.AddPod(t, "yaobank", "summary-pending", "node1", "", map[string]string{"app": "summary"}, corev1.PodPending)

	node, err := c.CoreV1().Nodes().Get(ctx(t), "node1", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get node: %v", err)
	}
	var internal string
	for _, a := range node.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			internal = a.Address
		}
	}
	if internal != "198.19.0.2" {
		t.Errorf("node1 InternalIP = %q, want 198.19.0.2", internal)
	}

	tests := []struct {
		name, selector            string
		wantPod, wantIP, wantHost string
		wantPhase                 corev1.PodPhase
	}{
		{"running", "app=customer", "customer-574bd6cc75-2blnv", "198.19.22.132", "198.19.0.2", corev1.PodRunning},
		{"pending", "app=summary", "summary-pending", "", "198.19.0.2", corev1.PodPending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := c.CoreV1().Pods("yaobank").List(ctx(t), metav1.ListOptions{LabelSelector: tt.selector})
			if err != nil {
				t.Fatalf("list pods %s: %v", tt.selector, err)
			}
			if len(list.Items) != 1 {
				t.Fatalf("list pods %s: got %d pods, want 1", tt.selector, len(list.Items))
			}
			p := list.Items[0]
			if p.Name != tt.wantPod || p.Spec.NodeName != "node1" || p.Status.Phase != tt.wantPhase ||
				p.Status.PodIP != tt.wantIP || p.Status.HostIP != tt.wantHost {
				t.Errorf("pod = %s on %q phase %s podIP %q hostIP %q; want %s on node1 phase %s podIP %q hostIP %q",
					p.Name, p.Spec.NodeName, p.Status.Phase, p.Status.PodIP, p.Status.HostIP,
					tt.wantPod, tt.wantPhase, tt.wantIP, tt.wantHost)
			}
			if tt.wantIP != "" && (len(p.Status.PodIPs) != 1 || p.Status.PodIPs[0].IP != tt.wantIP) {
				t.Errorf("podIPs = %v, want [%s]", p.Status.PodIPs, tt.wantIP)
			}
		})
	}
}

func TestDeletePodIsImmediate(t *testing.T) {
	s := Start(t)
	s.AddNode(t, "node2", "198.19.0.3")
	s.AddPod(t, "yaobank", "database-0", "node2", "198.19.21.64", map[string]string{"app": "database"}, corev1.PodRunning)
	s.DeletePod(t, "yaobank", "database-0")
	_, err := s.Client(t).CoreV1().Pods("yaobank").Get(ctx(t), "database-0", metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("get deleted pod: err = %v, want NotFound", err)
	}
}

func TestRestrictedUser(t *testing.T) {
	s := Start(t)
	s.EnsureNamespace(t, "yaobank")

	student := s.ClientFor(t, "student", "students")
	_, err := student.CoreV1().Pods("yaobank").List(ctx(t), metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("student list pods before grant: err = %v, want Forbidden", err)
	}

	s.Allow(t, "", "student", rbacv1.PolicyRule{APIGroups: []string{""}, Verbs: []string{"get", "list"}, Resources: []string{"pods"}})
	if _, err := student.CoreV1().Pods("yaobank").List(ctx(t), metav1.ListOptions{}); err != nil {
		t.Fatalf("student list pods after grant: %v", err)
	}
	_, err = student.CoreV1().Nodes().List(ctx(t), metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("student list nodes: err = %v, want Forbidden", err)
	}
}

func TestKubeconfigForFile(t *testing.T) {
	s := Start(t)
	path := s.KubeconfigFor(t, "someone@example.org")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("kubeconfig file: %v", err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	if cfg.Host != s.URL {
		t.Errorf("host = %q, want %q", cfg.Host, s.URL)
	}
}

func TestBlockAffinities(t *testing.T) {
	s := Start(t)
	blocks := []struct{ node, cidr, name string }{
		{"control", "198.19.21.0/26", "control-198-19-21-0-26"},
		{"node1", "198.19.22.128/26", "node1-198-19-22-128-26"},
		{"node2", "198.19.21.64/26", "node2-198-19-21-64-26"},
	}
	for _, b := range blocks {
		if got := BlockAffinityName(b.node, b.cidr); got != b.name {
			t.Errorf("BlockAffinityName(%s, %s) = %q, want %q", b.node, b.cidr, got, b.name)
		}
		s.AddBlockAffinity(t, b.node, b.cidr, "confirmed")
	}

	list, err := s.Dynamic(t).Resource(blockAffinityGVR).List(ctx(t), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list block affinities: %v", err)
	}
	got := map[string]string{}
	for _, item := range list.Items {
		spec, _ := item.Object["spec"].(map[string]any)
		node, _ := spec["node"].(string)
		cidr, _ := spec["cidr"].(string)
		got[node] = cidr
	}
	for _, b := range blocks {
		if got[b.node] != b.cidr {
			t.Errorf("block of %s = %q, want %q", b.node, got[b.node], b.cidr)
		}
	}

	t.Run("removed and installed again", func(t *testing.T) {
		s.RemoveBlockAffinityCRD(t)
		_, err := s.Dynamic(t).Resource(blockAffinityGVR).List(ctx(t), metav1.ListOptions{})
		if !apierrors.IsNotFound(err) {
			t.Fatalf("list block affinities without the CRD: err = %v, want NotFound", err)
		}
		s.AddBlockAffinity(t, "node1", "198.19.22.128/26", "confirmed")
	})
}

// A server process that dies while starting must fail with its exit and
// the end of its log, not a bare timeout.
func TestStartupFailureShowsLog(t *testing.T) {
	s := &Server{dir: t.TempDir()}
	t.Cleanup(s.stop)
	p, err := s.run("/bin/sh", "fake", "-c", "echo first; echo 'listen tcp 127.0.0.1:1: bind: address already in use'; exit 3")
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	err = p.waitReady(10*time.Second, func() error { return errors.New("not yet") })
	if err == nil {
		t.Fatal("waitReady succeeded for a process that exited")
	}
	for _, want := range []string{"fake exited during startup", "exit status 3", "address already in use"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if !errors.Is(err, errPortTaken) {
		t.Errorf("error %q is not errPortTaken, so start would not retry", err)
	}
}

func TestWaitReadyTimeout(t *testing.T) {
	s := &Server{dir: t.TempDir()}
	t.Cleanup(s.stop)
	p, err := s.run("/bin/sh", "sleeper", "-c", "echo waiting; exec sleep 60")
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	err = p.waitReady(300*time.Millisecond, func() error { return errors.New("port closed") })
	if err == nil || !strings.Contains(err.Error(), "not ready after") || !strings.Contains(err.Error(), "waiting") {
		t.Fatalf("waitReady error = %v, want a timeout with the log's tail", err)
	}
}
