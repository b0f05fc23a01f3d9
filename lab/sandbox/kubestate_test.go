package sandbox

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"

	"podlab/internal/netnstest"
	"podlab/lab"
	"podlab/netview"
)

// kubeState records, as up --kube does, the control plane on control, a
// kube-proxy per node and a responder per yaobank pod.
func kubeState(o Options) *State {
	o.Kube = true
	s := fullState(o)
	const bin = "/opt/kube/"
	s.Kube = &KubeInfo{ProxyMode: ProxyIPTables, Server: apiServer}
	ctl := s.Nodes[0]
	s.Kube.Procs = append(s.Kube.Procs,
		KubeProc{Role: roleEtcd, Node: ctl.Name, NS: ctl.NS, Pid: 100, Cmdline: etcdCmdline(o, bin+"etcd")},
		KubeProc{Role: roleAPIServer, Node: ctl.Name, NS: ctl.NS, Pid: 101, Cmdline: apiServerCmdline(o, bin+"kube-apiserver")})
	for i, n := range s.Nodes {
		s.Kube.Procs = append(s.Kube.Procs, KubeProc{Role: roleKubeProxy, Node: n.Name, NS: n.NS, Pid: 200 + i,
			Cmdline: kubeProxyCmdline(o, bin+"kube-proxy", n.Name, ProxyIPTables)})
	}
	for i, p := range s.Pods {
		if port, ok := servicePortOf(p); ok {
			s.Kube.Procs = append(s.Kube.Procs, KubeProc{Role: roleResponder, Node: p.Node, Pod: p.Namespace + "/" + p.Name, NS: p.NS, Pid: 300 + i,
				Cmdline: responderCmdline("/usr/local/bin/podlab", p, port)})
		}
	}
	return s
}

func procOf(s *State, role, node string) *KubeProc {
	for i, p := range s.Kube.Procs {
		if p.Role == role && (node == "" || p.Node == node) {
			return &s.Kube.Procs[i]
		}
	}
	return nil
}

// TestParseKubeState: down kills what the state's --kube part lists, so
// a state file may list only the processes the sandbox runs, each in its
// own namespace with exactly the sandbox's command line.
func TestParseKubeState(t *testing.T) {
	o := fuzzOptions
	tests := []struct {
		name string
		edit func(s *State)
		want string // "" for accepted
	}{
		{"as recorded", func(s *State) {}, ""},
		{"nftables mode", func(s *State) {
			s.Kube.ProxyMode = ProxyNFTables
			for i, p := range s.Kube.Procs {
				if p.Role == roleKubeProxy {
					s.Kube.Procs[i].Cmdline = kubeProxyCmdline(o, p.Cmdline[0], p.Node, ProxyNFTables)
				}
			}
		}, ""},
		{"a mode kube-proxy's line does not say", func(s *State) { s.Kube.ProxyMode = ProxyNFTables }, "command line"},
		{"unknown mode", func(s *State) { s.Kube.ProxyMode = "ipvs" }, `unknown kube-proxy mode "ipvs"`},
		{"another API server", func(s *State) { s.Kube.Server = "https://10.0.0.1:6443" }, "is not the sandbox's"},
		{"unknown role", func(s *State) { procOf(s, roleEtcd, "").Role = "sshd" }, `unknown process role "sshd"`},
		{"etcd on a node", func(s *State) { p := procOf(s, roleEtcd, ""); p.Node, p.NS = "node1", o.Prefix+"-node1" }, "not the control node's"},
		{"kube-proxy in another node's namespace", func(s *State) { procOf(s, roleKubeProxy, "node1").NS = o.Prefix + "-node2" }, "runs in"},
		{"kube-proxy with another kubeconfig", func(s *State) {
			p := procOf(s, roleKubeProxy, "node1")
			p.Cmdline[1] = "--kubeconfig=/etc/kubernetes/admin.conf"
		}, "command line"},
		{"an argument added", func(s *State) {
			p := procOf(s, roleAPIServer, "")
			p.Cmdline = append(p.Cmdline, "--anonymous-auth=true")
		}, "command line"},
		{"a relative program", func(s *State) { procOf(s, roleEtcd, "").Cmdline[0] = "etcd" }, "program"},
		{"a program with a space", func(s *State) { procOf(s, roleEtcd, "").Cmdline[0] = "/opt/my kube/etcd" }, "program"},
		{"a program climbing", func(s *State) { procOf(s, roleEtcd, "").Cmdline[0] = "/opt/../bin/etcd" }, "program"},
		{"an empty command line", func(s *State) { procOf(s, roleEtcd, "").Cmdline = nil }, "program"},
		{"a negative pid", func(s *State) { procOf(s, roleKubeProxy, "node2").Pid = -1 }, "pid -1"},
		{"a pid past pid_max", func(s *State) { procOf(s, roleKubeProxy, "node2").Pid = maxPid + 1 }, "pid"},
		{"an unknown node", func(s *State) { procOf(s, roleKubeProxy, "node2").Node = "node9" }, `unknown node "node9"`},
		{"a responder in a node's namespace", func(s *State) { procOf(s, roleResponder, "").NS = o.Prefix + "-node1" }, "not in a pod"},
		{"a responder of a pod the sandbox lacks", func(s *State) { procOf(s, roleResponder, "").Pod = "yaobank/evil" }, "not in a pod"},
		{"a responder on another port", func(s *State) {
			p := procOf(s, roleResponder, "")
			p.Cmdline[3] = "--listen=0.0.0.0:22"
		}, "command line"},
		{"a responder of a pod that backs no service", func(s *State) {
			p := procOf(s, roleResponder, "")
			other := s.Pods[0] // calico-system
			p.Pod, p.NS, p.Node = other.Namespace+"/"+other.Name, other.NS, other.Node
		}, "backs no service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := kubeState(o)
			tt.edit(s)
			got, err := parseState(marshalState(t, s), o)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got.Kube == nil || len(got.Kube.Procs) != len(s.Kube.Procs) {
					t.Fatalf("parsed %+v", got.Kube)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || strings.ContainsAny(err.Error(), "\n\x1b") {
				t.Fatalf("error %q, want one line with %q", err, tt.want)
			}
		})
	}
}

// TestParseAnswer: a responder's answer is read as what it is, and
// anything else is refused in one clean line.
func TestParseAnswer(t *testing.T) {
	st := fullState(fuzzOptions)
	for _, tt := range []struct {
		text, pod, node, want string
	}{
		{"yaobank/summary-85c56b76d7-28hm5 198.19.22.130:80", "yaobank/summary-85c56b76d7-28hm5", "node1", ""},
		{"yaobank/gone 198.19.22.200:80", "yaobank/gone", "", ""},
		{"hello", "", "", "do not give"},
		{"a b c", "", "", "do not give"},
		{"yaobank/x \x1b[2J", "", "", "do not give"},
	} {
		a, err := st.parseAnswer(tt.text)
		if tt.want != "" {
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.ContainsAny(err.Error(), "\n\x1b") {
				t.Errorf("parseAnswer(%q) = %+v, %v; want one clean line with %q", tt.text, a, err, tt.want)
			}
			continue
		}
		if err != nil || a.Pod != tt.pod || a.Node != tt.node {
			t.Errorf("parseAnswer(%q) = %+v, %v; want pod %s on %q", tt.text, a, err, tt.pod, tt.node)
		}
	}
}

// TestKubeBinariesMissing: without the binaries, --kube is refused in one
// line that says how to get them, before anything is made.
func TestKubeBinariesMissing(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ name, dir, path, home string }{
		{"PODLAB_KUBE_BIN without them", dir, "", ""},
		{"nothing on PATH or in the cache", "", dir, dir},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.dir == "" {
				t.Setenv("PATH", tt.path)
				t.Setenv("HOME", tt.home)
			}
			_, err := kubeBinaries(tt.dir)
			if err == nil {
				t.Fatal("found binaries that are not there")
			}
			for _, want := range []string{"etcd", ".ci/kube/build.sh", EnvKubeBin} {
				if !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
					t.Errorf("error %q: want one line naming %s", err, want)
				}
			}
		})
	}
}

// TestNATWithoutKube: a lesson that reads kube-proxy's rules from a
// sandbox built without --kube is told, in one line, what builds them.
func TestNATWithoutKube(t *testing.T) {
	st := fullState(fuzzOptions)
	l := newLab(fuzzOptions, st)
	l.Want(netview.Wants{NAT: true})
	e := l.extra(context.Background(), st, CustomerNode)
	if e == nil || e.NAT != nil {
		t.Fatalf("extra = %+v, want NAT unread", e)
	}
	why := e.Unread[netview.PartNAT]
	if !strings.Contains(why, "up --pack kube-proxy") || strings.Contains(why, "\n") {
		t.Errorf("NAT unread because %q, want one line naming up --pack kube-proxy", why)
	}
}

// TestEndSession: what a kube-proxy left running when it ended (its
// iptables-restore, here a sleep) is ended, found by its session in the
// node's namespace; a process of the same session elsewhere is not.
func TestEndSession(t *testing.T) {
	ns := netnstest.New(t, "plks")
	ino, err := nsInode(ns)
	if err != nil {
		t.Fatal(err)
	}
	// The leader leaves a child in the namespace and its session.
	cmd := exec.Command("/bin/sh", "-c", "sleep 300 & echo $!; exec sleep 300")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := lab.InNS(lab.NSRef{Name: ns}, cmd.Start); err != nil {
		t.Fatal(err)
	}
	var child int
	if _, err := fmt.Fscan(out, &child); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(child, syscall.SIGKILL) })
	cmd.Process.Kill()
	cmd.Wait()
	leader := cmd.Process.Pid
	if got := sessionIn(leader, ino); !slices.Equal(got, []int{child}) {
		t.Fatalf("session %d in %s: %v, want the child %d", leader, ns, got, child)
	}
	// Another namespace's inode names nothing of it.
	if err := endSession(leader, ino+1, "a test leader"); err != nil || sessionIn(leader, ino) == nil {
		t.Fatalf("endSession in another namespace: %v, and the child is gone", err)
	}
	if err := endSession(leader, ino, "a test leader"); err != nil {
		t.Fatal(err)
	}
	if got := sessionIn(leader, ino); len(got) != 0 {
		t.Fatalf("still in the session: %v", got)
	}
}
