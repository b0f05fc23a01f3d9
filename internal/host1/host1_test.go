package host1_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"

	"podlab/internal/host1"
	"podlab/internal/kubetest"
	"podlab/lab/cluster"
	"podlab/lab/sandbox"
	"podlab/netview"
)

func TestMain(m *testing.M) { host1.Main(m) }

// classroom is host1 around the one sandbox every test shares, with a
// borrowed address: default/borrowed-ip-demo on node2 holds 198.19.22.140
// from node1's block.
func classroom(t *testing.T) *host1.Lab {
	t.Helper()
	st := host1.Sandbox(t, "ph1", sandbox.Options{Borrowed: true})
	return host1.New(t, kubetest.Start(t), st)
}

// podlab is the podlab command's directory, where the student can run it.
func podlab(t *testing.T) string { return host1.PodlabBinary(t) }

type shown struct {
	Describe string           `json:"describe"`
	Pod      netview.Snapshot `json:"pod"`
	Host     netview.Snapshot `json:"host"`
	Analysis netview.Analysis `json:"analysis"`
}

// show runs `podlab show --lab cluster --json args...` as the student.
func show(t *testing.T, l *host1.Lab, args ...string) (*shown, string, error) {
	t.Helper()
	argv := append([]string{filepath.Join(podlab(t), "podlab"), "show", "--lab", "cluster", "--json"}, args...)
	cmd := l.User.Command(argv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := runBounded(t, cmd, 2*time.Minute); err != nil {
		return nil, stderr.String(), err
	}
	var s shown
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		t.Fatalf("podlab show --json printed no JSON: %v\n%s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	return &s, stderr.String(), nil
}

func runBounded(t *testing.T, cmd *exec.Cmd, d time.Duration) error {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s did not finish in %s", strings.Join(cmd.Args, " "), d)
		return nil
	}
}

// checkNode1: the customer pod's view is its namespace's, the host's is
// node1's, and every local /32 names its pod.
func checkNode1(t *testing.T, st *sandbox.State, s *shown) {
	t.Helper()
	cust := st.Pod(sandbox.CustomerNamespace, sandbox.CustomerPod)
	if !slices.ContainsFunc(s.Pod.Addrs, func(a netview.Addr) bool { return a.Prefix.Addr() == cust.IP }) {
		t.Errorf("pod view has no %s: %+v", cust.IP, s.Pod.Addrs)
	}
	node1, _ := st.Node("node1")
	if !slices.ContainsFunc(s.Host.Addrs, func(a netview.Addr) bool { return a.Prefix.Addr() == node1.IP }) {
		t.Errorf("host view has no %s: it is not node1's", node1.IP)
	}
	local := 0
	for _, rc := range s.Analysis.Routes {
		if rc.Side != netview.SideHost || rc.Class != netview.ClassLocalPod {
			continue
		}
		local++
		i := slices.IndexFunc(st.Pods, func(p sandbox.PodInfo) bool { return p.IP.String() == rc.Dst })
		if i < 0 {
			t.Errorf("local-pod route %s is no sandbox pod's", rc.Dst)
		} else if want := st.Pods[i].Namespace + "/" + st.Pods[i].Name; rc.Peer != want {
			t.Errorf("local-pod %s: peer %q, want %q", rc.Dst, rc.Peer, want)
		}
	}
	if want := countPods(st, "node1"); local != want {
		t.Errorf("%d local-pod routes, want %d", local, want)
	}
	if !s.Analysis.Veth.Agree {
		t.Errorf("veth pair does not agree: %s", s.Analysis.Veth.Reason)
	}
}

func countPods(st *sandbox.State, node string) int {
	n := 0
	for _, p := range st.Pods {
		if p.Node == node {
			n++
		}
	}
	return n
}

// TestFromHost1 is the lesson's main path: the student on host1 with
// kubectl's kubeconfig and `ssh node1`, podlab as that user.
func TestFromHost1(t *testing.T) {
	l := classroom(t)
	kc, err := os.ReadFile(l.Kubeconfig(t, l.User.Name, host1.StudentRules...))
	if err != nil {
		t.Fatal(err)
	}
	l.User.WriteFile(t, ".kube/config", string(kc))
	node1 := l.Kubelets["node1"]

	t.Run("ip on the node", func(t *testing.T) {
		sshd := l.StartSSHD(t, "node1", host1.SSHOptions{})
		l.SSHConfig(t, []*host1.SSHD{sshd}, sshd)
		before := node1.Execs()
		s, stderr, err := show(t, l)
		if err != nil {
			t.Fatalf("podlab show: %v: %s", err, stderr)
		}
		if !strings.Contains(s.Describe, "pod through the exec API, host over ssh node1 with ip -j (podlab is not installed there)") {
			t.Errorf("describe: %s", s.Describe)
		}
		// The pod's view came through the kubelet: one exec per ip command.
		if got := node1.Execs() - before; got < 4 {
			t.Errorf("%d execs reached node1's kubelet, want the 4 ip commands", got)
		}
		checkNode1(t, l.State, s)
		checkBorrowed(t, s, "default/borrowed-ip-demo")
	})

	t.Run("podlab and sudo on the node", func(t *testing.T) {
		bin := podlab(t)
		l.User.Sudoers(t, fmt.Sprintf("%s ALL=(root) NOPASSWD: %s %s", l.User.Name, filepath.Join(bin, "podlab"), cluster.SudoersCollectArgs))
		sshd := l.StartSSHD(t, "node1", host1.SSHOptions{PodlabDir: bin})
		l.SSHConfig(t, []*host1.SSHD{sshd}, sshd)
		before := node1.Execs()
		s, stderr, err := show(t, l)
		if err != nil {
			t.Fatalf("podlab show: %v: %s", err, stderr)
		}
		if !strings.Contains(s.Describe, "collected on node1 by podlab collect over ssh node1") {
			t.Errorf("describe: %s", s.Describe)
		}
		if got := node1.Execs() - before; got != 0 {
			t.Errorf("%d execs: podlab collect on the node should need none", got)
		}
		checkNode1(t, l.State, s)
		checkBorrowed(t, s, "default/borrowed-ip-demo")
	})

	t.Run("auto finds the cluster", func(t *testing.T) {
		sshd := l.StartSSHD(t, "node1", host1.SSHOptions{})
		l.SSHConfig(t, []*host1.SSHD{sshd}, sshd)
		cmd := l.User.Command(filepath.Join(podlab(t), "podlab"), "show", "--json")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := runBounded(t, cmd, 2*time.Minute); err != nil {
			t.Fatalf("podlab show: %v: %s", err, stderr.String())
		}
		var got struct {
			Lab      string `json:"lab"`
			Describe string `json:"describe"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.Lab != "cluster" || !strings.Contains(got.Describe, "pod through the exec API, host over ssh node1") {
			t.Errorf("--lab auto on host1 chose %q: %s", got.Lab, got.Describe)
		}
	})

	t.Run("another pod", func(t *testing.T) {
		sshd := l.StartSSHD(t, "node1", host1.SSHOptions{})
		l.SSHConfig(t, []*host1.SSHD{sshd}, sshd)
		i := slices.IndexFunc(l.State.Pods, func(p sandbox.PodInfo) bool {
			return p.Node == "node1" && p.Name != sandbox.CustomerPod
		})
		if i < 0 {
			t.Fatal("no second pod on node1")
		}
		p := l.State.Pods[i]
		s, stderr, err := show(t, l, "-n", p.Namespace, "--pod", p.Name)
		if err != nil {
			t.Fatalf("podlab show: %v: %s", err, stderr)
		}
		if !slices.ContainsFunc(s.Pod.Addrs, func(a netview.Addr) bool { return a.Prefix.Addr() == p.IP }) {
			t.Errorf("pod view is not %s/%s's", p.Namespace, p.Name)
		}
		want := fmt.Sprintf("the host end of pod %s/%s's veth", p.Namespace, p.Name)
		found := false
		for _, rc := range s.Analysis.Routes {
			if strings.Contains(rc.Reason, "customer pod") {
				t.Errorf("%s %s speaks of the customer pod: %s", rc.Side, rc.Dst, rc.Reason)
			}
			found = found || strings.Contains(rc.Reason, want)
		}
		if !found {
			t.Errorf("no route says %q", want)
		}
	})

	t.Run("borrowed address without cluster-wide list", func(t *testing.T) {
		sshd := l.StartSSHD(t, "node1", host1.SSHOptions{})
		l.SSHConfig(t, []*host1.SSHD{sshd}, sshd)
		user := l.User.Name + "-ns"
		var cluster, namespaced []rbacv1.PolicyRule
		for _, r := range host1.StudentRules {
			if strings.HasPrefix(r.Resources[0], "pods") {
				namespaced = append(namespaced, r)
			} else {
				cluster = append(cluster, r)
			}
		}
		l.Server.Allow(t, sandbox.CustomerNamespace, user, namespaced...)
		kc := l.Kubeconfig(t, user, cluster...)
		s, stderr, err := show(t, l, "--kubeconfig", kc)
		if err != nil {
			t.Fatalf("podlab show: %v: %s", err, stderr)
		}
		checkBorrowed(t, s, "")
		if want := `cannot name the pods of borrowed addresses (forbidden: cannot list pods): ask for "list pods" in all namespaces`; !strings.Contains(s.Describe, want) {
			t.Errorf("describe %q does not say %q", s.Describe, want)
		}
	})
}

// checkBorrowed: node1's route to the address node2 borrowed from node1's
// block names node2 and the pod holding it (wantPod; "" when it cannot).
func checkBorrowed(t *testing.T, s *shown, wantPod string) {
	t.Helper()
	for _, rc := range s.Analysis.Routes {
		if rc.Side != netview.SideHost || rc.Dst != "198.19.22.140" {
			continue
		}
		if rc.Class != netview.ClassRemotePod || rc.Peer != "node2" || rc.Pod != wantPod {
			t.Errorf("borrowed 198.19.22.140: class %s, peer %q, pod %q; want remote-pod, node2, %q (%s)", rc.Class, rc.Peer, rc.Pod, wantPod, rc.Reason)
		} else {
			b, _ := json.Marshal(rc)
			t.Logf("borrowed address: %s", b)
		}
		return
	}
	t.Errorf("no host route to the borrowed 198.19.22.140")
}
