package sandbox

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// fullState is the state a built sandbox records, without building it.
func fullState(o Options) *State {
	b := newBuilder(o, "")
	st := b.st
	st.Namespaces = append(st.Namespaces, NSRecord{Name: st.FabricNS(), Role: "fabric", Owner: "fabric", Inode: 4026532001})
	st.Links = append(st.Links, LinkRec{NS: st.FabricNS(), Name: bridgeName, Kind: "bridge"})
	for i, n := range st.Nodes {
		st.Namespaces = append(st.Namespaces, NSRecord{Name: n.NS, Role: "node", Owner: n.Name, Inode: 4026532100 + uint64(i)})
		st.Links = append(st.Links,
			LinkRec{NS: n.NS, Name: "eth0", Index: 2, Kind: "veth", Peer: st.FabricNS() + "/" + n.Name},
			LinkRec{NS: st.FabricNS(), Name: n.Name, Kind: "veth", Peer: n.NS + "/eth0"})
		conf, sock, pid, log := birdFiles(o.fileDir(), n.Name)
		st.Files = append(st.Files, conf, sock, pid, log, log+".stderr")
		st.Processes = append(st.Processes, Process{Node: n.Name, NS: n.NS, Pid: 4242 + i,
			Cmdline: birdCmdline("/usr/sbin/bird", conf, sock, pid), PidFile: pid, Log: log, Socket: sock})
	}
	for i, p := range b.pods() {
		ns := podNSName(o.Prefix, p.namespace, p.name)
		host := vethName(p.namespace, p.name)
		st.Namespaces = append(st.Namespaces, NSRecord{Name: ns, Role: "pod", Owner: p.namespace + "/" + p.name, Inode: 4026533000 + uint64(i)})
		st.Links = append(st.Links,
			LinkRec{NS: ns, Name: "eth0", Index: 3, Kind: "veth", Peer: b.nodes[p.node].NS + "/" + host},
			LinkRec{NS: b.nodes[p.node].NS, Name: host, Index: 5 + i, Kind: "veth", Peer: ns + "/eth0"})
		st.Pods = append(st.Pods, PodInfo{Namespace: p.namespace, Name: p.name, Node: p.node, IP: p.ip, NS: ns, HostIf: host, HostIndex: 5 + i, PodIndex: 3})
	}
	st.Routes = append(st.Routes, RouteInfo{NS: st.Nodes[1].NS, Route: "{Dst: 198.19.21.64/26}"})
	st.Phase = PhaseUp
	return st
}

// dualState makes a recorded state dual-stack, as --ipv6 records it.
func dualState(s *State) {
	s.IPv6 = true
	for i, n := range s.Nodes {
		s.Nodes[i].IP6, s.Nodes[i].Block6 = nodeIP6Of(n.IP), block6Of(n.Block)
	}
	for i, p := range s.Pods {
		s.Pods[i].IP6 = ip6Of(p.IP)
	}
}

var fuzzOptions = Options{Prefix: "pt", StateDir: "/run/podlab-fuzz", Mode: "bgp"}

func marshalState(t *testing.T, s *State) []byte {
	t.Helper()
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseState: a recorded state is accepted; hostile edits of it are
// refused with one line that names the problem.
func TestParseState(t *testing.T) {
	o := fuzzOptions
	tests := []struct {
		name string
		edit func(s *State)
		want string // "" for accepted
	}{
		{"as recorded", func(s *State) {}, ""},
		{"another prefix", func(s *State) { s.Prefix = "podlab" }, `prefix "podlab" is not "pt"`},
		{"namespace escaping /run/netns", func(s *State) { s.Namespaces[0].Name = "../../tmp/x" }, `namespace "../../tmp/x" is not one`},
		{"someone else's namespace", func(s *State) { s.Namespaces[1].Name = "cni-1234" }, `namespace "cni-1234" is not one`},
		{"namespace listed twice", func(s *State) { s.Namespaces = append(s.Namespaces, s.Namespaces[0]) }, "listed twice"},
		{"wrong role", func(s *State) { s.Namespaces[0].Role = "pod" }, `has role "pod"`},
		{"link name with a slash", func(s *State) { s.Links[0].Name = "../x" }, `link name "../x"`},
		{"link in a foreign namespace", func(s *State) { s.Links[0].NS = "default" }, `namespace "default" is not one`},
		{"file outside the state dir", func(s *State) { s.Files[0] = "/etc/passwd" }, `file "/etc/passwd" is not in`},
		{"file climbing out", func(s *State) { s.Files[0] = o.fileDir() + "/../../../etc/passwd" }, "is not in"},
		{"pid file elsewhere", func(s *State) { s.Processes[0].PidFile = "/run/sshd.pid" }, "files outside"},
		{"another program", func(s *State) { s.Processes[0].Cmdline[0] = "/bin/sh" }, ""},
		{"a relative program", func(s *State) { s.Processes[0].Cmdline[0] = "bird" }, "command line"},
		{"a program name with a tab", func(s *State) { s.Processes[0].Cmdline[0] = "/usr/sbin/bi\trd" }, "command line"},
		{"extra arguments", func(s *State) { s.Processes[0].Cmdline = append(s.Processes[0].Cmdline, "-f") }, "command line"},
		{"negative pid", func(s *State) { s.Processes[0].Pid = -1 }, "pid -1"},
		{"pod in another namespace", func(s *State) { s.Pods[0].NS = s.Nodes[0].NS }, "not one the sandbox makes"},
		{"control characters", func(s *State) { s.Namespaces[0].Name = "x\n\x1b[2J" }, `namespace "x\n\x1b[2J"`},
		{"a replacement pod", func(s *State) { addReplacement(s, o, "customer-574bd6cc75-xk7qz") }, ""},
		{"a pod of another name", func(s *State) { addReplacement(s, o, "customer-574bd6cc75-evil0") }, "not one"},
		{"a replacement with a foreign namespace", func(s *State) {
			addReplacement(s, o, "customer-574bd6cc75-xk7qz")
			s.Pods[len(s.Pods)-1].NS = "cni-1234"
			s.Namespaces[len(s.Namespaces)-1].Name = "cni-1234"
		}, "not one"},
		{"unknown mode", func(s *State) { s.Mode = "ipvlan" }, `unknown mode "ipvlan"`},
		{"dual-stack", dualState, ""},
		{"an IPv6 address with a zone", func(s *State) { dualState(s); s.Nodes[1].IP6 = s.Nodes[1].IP6.WithZone("eth0") }, `node "node1" has a bad address`},
		{"an IPv4 address as IPv6", func(s *State) { dualState(s); s.Pods[2].IP6 = netip.AddrFrom16(s.Pods[2].IP.As16()) }, "bad address"},
		{"an IPv4 block as IPv6", func(s *State) { dualState(s); s.Nodes[0].Block6 = s.Nodes[0].Block }, `node "control" has a bad address`},
		{"a pod without IPv6 in a dual-stack state", func(s *State) { dualState(s); s.Pods[0].IP6 = netip.Addr{} }, "bad address"},
		{"IPv6 in a state that is not dual-stack", func(s *State) { s.Pods[0].IP6 = ip6Of(s.Pods[0].IP) }, "bad address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fullState(o)
			tt.edit(s)
			got, err := parseState(marshalState(t, s), o)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got.Prefix != o.Prefix || len(got.Namespaces) != len(s.Namespaces) {
					t.Fatalf("parsed %+v", got)
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
	for _, bad := range []string{"", "{", "null x", `{"prefix": 7}`, strings.Repeat(" ", maxStateBytes+1)} {
		if _, err := parseState([]byte(bad), o); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("parseState(%.20q) = %v, want a one-line error", bad, err)
		}
	}
}

// FuzzState: the state file parser refuses what it cannot trust with one
// line, and what it accepts names only the sandbox's own namespaces,
// links and files, and survives a write and read unchanged.
func FuzzState(f *testing.F) {
	o := fuzzOptions
	full := fullState(o)
	b, _ := json.Marshal(full)
	f.Add(b)
	b, _ = json.Marshal(newBuilder(o, "").st)
	f.Add(b)
	b, _ = json.Marshal(kubeState(o))
	f.Add(b)
	f.Add([]byte(`{"prefix":"pt","mode":"bgp","phase":"up","namespaces":[{"name":"../../tmp/x","role":"node"}]}`))
	f.Add([]byte(`{"prefix":"pt","mode":"bgp","phase":"up","files":["/run/podlab-fuzz/pt/../x.conf"]}`))
	f.Add([]byte(`{"prefix":"pt","mode":"vxlan","phase":"building","links":[{"ns":"pt-node1","name":"vxlan.calico"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseState(b, o)
		if err != nil {
			if msg := err.Error(); msg == "" || strings.Contains(msg, "\n") {
				t.Fatalf("error is not one line: %q", msg)
			}
			return
		}
		allowed := allowedNSFor(o.Prefix, s.Pods)
		fixed := allowedNS(o.Prefix)
		for _, n := range s.Namespaces {
			if allowed[n.Name] == "" || strings.ContainsAny(n.Name, "/\x00") {
				t.Fatalf("accepted namespace %q", n.Name)
			}
			// Beyond the lesson's own, only a replacement pod's.
			if fixed[n.Name] == "" && !slices.ContainsFunc(s.Pods, func(p PodInfo) bool {
				return p.NS == n.Name && isReplacement(p.Namespace, p.Name)
			}) {
				t.Fatalf("accepted namespace %q of no replacement pod", n.Name)
			}
		}
		for _, l := range s.Links {
			if allowed[l.NS] == "" || !linkNameRE.MatchString(l.Name) {
				t.Fatalf("accepted link %q in %q", l.Name, l.NS)
			}
		}
		if s.Kube != nil {
			for _, p := range s.Kube.Procs {
				if allowed[p.NS] == "" || !programRE.MatchString(p.Cmdline[0]) {
					t.Fatalf("accepted %s in %q", p.what(), p.NS)
				}
			}
		}
		for _, p := range append(processFiles(s), s.Files...) {
			if !o.inFileDir(p) || strings.Contains(p, "..") {
				t.Fatalf("accepted path %q", p)
			}
		}
		once, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("marshal an accepted state: %v", err)
		}
		again, err := parseState(once, o)
		if err != nil {
			t.Fatalf("an accepted state, written, is refused: %v", err)
		}
		twice, _ := json.Marshal(again)
		if !bytes.Equal(once, twice) {
			t.Fatalf("round trip changed the state:\n%s\n%s", once, twice)
		}
	})
}

// addReplacement records a pod named name in the customer's namespace,
// as ReplacePod would.
func addReplacement(s *State, o Options, name string) {
	ns := podNSName(o.Prefix, CustomerNamespace, name)
	s.Pods = append(s.Pods, PodInfo{Namespace: CustomerNamespace, Name: name, Node: "node1", IP: netip.MustParseAddr("198.19.22.133"), NS: ns, HostIf: vethName(CustomerNamespace, name)})
	s.Namespaces = append(s.Namespaces, NSRecord{Name: ns, Role: "pod", Owner: CustomerNamespace + "/" + name, Inode: 7})
}

// processFiles lists the paths a state's processes name.
func processFiles(s *State) []string {
	var out []string
	for _, p := range s.Processes {
		out = append(out, p.PidFile, p.Log, p.Socket)
		out = append(out, p.Cmdline[2], p.Cmdline[4], p.Cmdline[6])
	}
	return out
}
