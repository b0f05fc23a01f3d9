package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"podlab/internal/kubetest"
	"podlab/internal/netnstest"
	"podlab/kubeproxy"
	"podlab/netview"
)

// TestMain lets the test binary be the pods' responder, as podlab is:
// the sandbox runs its own program again with `sandbox serve-pod`.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "sandbox" && os.Args[2] == ResponderCommand {
		if err := ServeResponder(os.Args[3:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	// Read before any test enters a namespace: later, /proc/self names
	// the main thread's, which a reader may have left in one (lab.InNS
	// never returns a thread).
	hostNS, _ = os.Readlink("/proc/self/ns/net")
	os.Exit(m.Run())
}

// hostNS is the test binary's own network namespace, as "net:[inode]".
var hostNS string

// ruleWait bounds how long kube-proxy may take to write what the API
// says; it is a bound against a hang, not a measure.
const ruleWait = 2 * time.Minute

var summarySP = kubeproxy.ServicePort{Namespace: CustomerNamespace, Name: "summary", Port: "http", Protocol: "TCP"}

// The sandbox with --kube, in both of kube-proxy's modes: the real
// kube-proxy of node1 writes chains whose names are the ones kubeproxy
// computes (read through Collect, as a lesson reads them); scaling
// summary from 2 to 3 brings the third endpoint's chain and 1/3, 1/2, 1;
// requests from the customer pod move the summary chain's counters by
// as many; down leaves nothing.
func TestKubeSandbox(t *testing.T) {
	requireSandbox(t, true)
	bin := kubetest.RequireBinaries(t, roleEtcd, roleAPIServer, roleKubeProxy)
	for _, mode := range []string{ProxyIPTables, ProxyNFTables} {
		t.Run(mode, func(t *testing.T) {
			if mode == ProxyNFTables {
				netnstest.RequireCommand(t, "nft", "apt-get install nftables")
			} else {
				netnstest.RequireCommand(t, "iptables-save", "apt-get install iptables")
			}
			o := testOptions(t, "bgp")
			o.Kube, o.KubeProxyMode, o.KubeBin = true, mode, bin
			sb := up(t, o)
			assertConfined(t, sb.State)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			l, err := Open(ctx, o, false)
			if err != nil {
				t.Fatal(err)
			}
			l.Want(netview.Wants{NAT: true})

			// Every yaobank Service's chain, named as computed.
			for _, sp := range yaobankServices {
				waitNAT(t, l, func(tab *kubeproxy.Table, st *State) error {
					return checkService(tab, st, servicePort(sp), sp)
				})
			}

			if _, err := Scale(ctx, o, "summary", 3); err != nil {
				t.Fatalf("scale summary 3: %v", err)
			}
			tab := waitNAT(t, l, func(tab *kubeproxy.Table, st *State) error {
				if err := checkService(tab, st, summarySP, yaobankServices[2]); err != nil {
					return err
				}
				return checkShares(tab, mode, 3)
			})

			if mode == ProxyIPTables {
				before := sepPackets(tab)
				var out bytes.Buffer
				if err := RequestCommand(ctx, o, "summary", 10, &out); err != nil {
					t.Fatalf("request summary -n 10: %v\n%s", err, out.String())
				}
				each, _, _ := strings.Cut(out.String(), "answered by:")
				if got := strings.Count(each, "yaobank/summary-"); got != 10 {
					t.Errorf("request printed %d answers from summary pods, want 10:\n%s", got, out.String())
				}
				pair, err := l.Collect(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if after := sepPackets(pair.Extra.NAT); after < before+10 {
					t.Errorf("summary's KUBE-SEP rules counted %d packets before 10 requests and %d after", before, after)
				}
			}

			if mode == ProxyIPTables {
				deleteAndReplace(ctx, t, o, l)
			}

			st, err := Status(o)
			if err != nil {
				t.Fatal(err)
			}
			if err := Down(ctx, o); err != nil {
				t.Fatal(err)
			}
			assertKubeGone(t, o, st)
		})
	}
}

// waitNAT collects node1's NAT rules until check passes, or fails the
// test after ruleWait with check's last word.
func waitNAT(t *testing.T, l *Lab, check func(*kubeproxy.Table, *State) error) *kubeproxy.Table {
	t.Helper()
	deadline := time.Now().Add(ruleWait)
	for {
		pair, err := l.Collect(context.Background())
		if err == nil {
			switch {
			case pair.Extra == nil:
				err = fmt.Errorf("no extra read")
			case pair.Extra.NAT == nil:
				err = fmt.Errorf("NAT unread: %v", pair.Extra.Unread)
			default:
				if err = check(pair.Extra.NAT, l.State()); err == nil {
					return pair.Extra.NAT
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node1's rules after %s: %v", ruleWait, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// checkService: the service's entry sends its cluster IP to the chain
// named as kubeproxy computes it, with a hop per endpoint of the state's
// slice, each DNAT to the endpoint, through a chain named as computed
// where kube-proxy makes one.
func checkService(tab *kubeproxy.Table, st *State, sp kubeproxy.ServicePort, spec serviceSpec) error {
	w := kubeproxy.WalkService(tab, sp)
	want := kubeproxy.SVCChain(sp)
	if tab.Mode == kubeproxy.ModeNFTables {
		want = kubeproxy.NFTServiceChain(sp)
	}
	if !w.Found || w.Chain != want {
		return fmt.Errorf("%s: no chain %s (found %q)", sp, want, w.Chain)
	}
	entry := false
	for _, e := range w.Entries {
		if e.Target == want && e.Kind != "node port" {
			entry = true
		}
	}
	if !entry {
		return fmt.Errorf("%s: nothing sends %s to %s", sp, spec.clusterIP, want)
	}
	// The slice's endpoints take the Service's target port.
	port, _ := strconv.Atoi(spec.port.TargetPort)
	var wantDests []string
	for _, es := range st.EndpointSlices() {
		if es.Service == sp.Name {
			for _, e := range es.Endpoints {
				wantDests = append(wantDests, kubeproxy.Endpoint(e.Addresses[0].String(), port))
			}
		}
	}
	var dests []string
	for _, h := range w.Hops {
		dests = append(dests, h.ToDest)
		named := kubeproxy.SEPChain(sp, h.ToDest)
		if tab.Mode == kubeproxy.ModeNFTables {
			named = kubeproxy.NFTEndpointChain(sp, h.ToDest)
			if h.Chain == "" {
				continue // no affinity: the service chain DNATs itself
			}
		}
		if h.Chain != named {
			return fmt.Errorf("%s: the hop to %s goes through %q, computed %s", sp, h.ToDest, h.Chain, named)
		}
	}
	slices.Sort(dests)
	slices.Sort(wantDests)
	if !slices.Equal(dests, wantDests) {
		return fmt.Errorf("%s: hops to %q, the slice has %q", sp, dests, wantDests)
	}
	return nil
}

// checkShares: kube-proxy's probabilities for n endpoints, as
// iptables-save prints them (1/(n-i), the last rule none); in nftables
// mode numgen's 1/n each.
func checkShares(tab *kubeproxy.Table, mode string, n int) error {
	w := kubeproxy.WalkService(tab, summarySP)
	if len(w.Hops) != n {
		return fmt.Errorf("%d hops, want %d", len(w.Hops), n)
	}
	if mode == ProxyNFTables {
		for _, h := range w.Hops {
			if h.Share != 1/float64(n) {
				return fmt.Errorf("hop to %s has share %v, want 1/%d", h.ToDest, h.Share, n)
			}
		}
		return nil
	}
	want := map[int][]string{3: {"0.33333333349", "0.50000000000", ""}}[n]
	var got []string
	for _, h := range w.Hops {
		got = append(got, h.Probability)
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("probabilities %q, want %q", got, want)
	}
	return nil
}

// sepPackets sums the packet counters of the summary chain's rules that
// pick an endpoint.
func sepPackets(tab *kubeproxy.Table) uint64 {
	var n uint64
	for _, h := range kubeproxy.WalkService(tab, summarySP).Hops {
		n += h.Rule.Packets
	}
	return n
}

// assertKubeGone: what assertGone checks, and no process of the control
// plane, no kube-proxy, no responder, no file of theirs.
func assertKubeGone(t *testing.T, o Options, st *State) {
	t.Helper()
	assertGone(t, o, st)
	if st.Kube == nil {
		t.Fatal("the state recorded no --kube")
	}
	for _, p := range st.Kube.Procs {
		if cmdlineMatches(p.Pid, p.Cmdline) || findCmdline(p.Cmdline) != 0 {
			t.Errorf("%s still runs", p.what())
		}
	}
	if _, err := os.Lstat(o.kubeDir()); err == nil {
		t.Errorf("%s is still there", o.kubeDir())
	}
	if _, err := os.Lstat(o.fileDir()); err == nil {
		ents, _ := os.ReadDir(o.fileDir())
		t.Errorf("%s is still there: %v", o.fileDir(), ents)
	}
	left, _ := filepath.Glob(filepath.Join(o.StateDir, "*"))
	for _, f := range left {
		if filepath.Base(f) != o.Prefix+".lock" {
			t.Errorf("%s is left", f)
		}
	}
}

// TestKubeHalfBuilt stops up --kube once its processes run: cancelled,
// Up removes them itself; killed, Down does from the record, even for a
// process whose pid was never recorded (found by its command line).
func TestKubeHalfBuilt(t *testing.T) {
	requireSandbox(t, true)
	bin := kubetest.RequireBinaries(t, roleEtcd, roleAPIServer, roleKubeProxy)
	netnstest.RequireCommand(t, "iptables-save", "apt-get install iptables")
	for _, tt := range []struct {
		name, step string
		kill       bool
	}{
		{"cancel once kube-proxy runs", "kube-proxy started", false},
		{"kill once the API server runs", "api server started", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions(t, "bgp")
			o.Kube, o.KubeBin = true, bin
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var seen *State
			stepHook = func(step string) error {
				if step != tt.step {
					return nil
				}
				seen, _ = readState(o)
				if tt.kill {
					return errKilled
				}
				cancel()
				return ctx.Err()
			}
			t.Cleanup(func() { stepHook = nil })
			t.Cleanup(func() { Down(context.Background(), o) })
			if _, err := Up(ctx, o); err == nil {
				t.Fatal("Up succeeded")
			}
			if seen == nil || seen.Kube == nil || len(seen.Kube.Procs) < 2 {
				t.Fatalf("no --kube processes recorded at %q: %+v", tt.step, seen)
			}
			for _, p := range seen.Kube.Procs {
				if p.Pid == 0 {
					t.Fatalf("%s recorded without its pid", p.what())
				}
			}
			if !tt.kill {
				if st, _ := readState(o); st != nil {
					t.Fatal("a cancelled Up left its state file")
				}
				assertKubeGone(t, o, seen)
				return
			}
			st, err := readState(o)
			if err != nil || st == nil || st.Kube == nil {
				t.Fatalf("a killed Up should leave its record: %+v, %v", st, err)
			}
			// As if killed between recording etcd and learning its pid.
			st.Kube.Procs[0].Pid = 0
			if err := st.write(o); err != nil {
				t.Fatal(err)
			}
			if err := Down(context.Background(), o); err != nil {
				t.Fatalf("Down: %v", err)
			}
			assertKubeGone(t, o, seen)
		})
	}
}

// assertConfined: every process --kube started runs in the namespace
// recorded for it, never this one, so what it listens on is inside the
// sandbox; and the responders run as nobody.
func assertConfined(t *testing.T, st *State) {
	t.Helper()
	if hostNS == "" {
		t.Fatal("the test's own namespace is unknown")
	}
	for _, p := range st.Kube.Procs {
		got, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", p.Pid))
		if err != nil {
			t.Errorf("%s: %v", p.what(), err)
			continue
		}
		ino, err := nsInode(p.NS)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("net:[%d]", ino); got != want || got == hostNS {
			t.Errorf("%s runs in %s, want %s (%s)", p.what(), got, want, p.NS)
		}
		if p.Role != roleResponder {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid))
		if err != nil {
			t.Fatal(err)
		}
		for l := range strings.Lines(string(b)) {
			if f := strings.Fields(l); len(f) == 5 && (f[0] == "Uid:" || f[0] == "Gid:") && f[1]+f[2]+f[3]+f[4] != strings.Repeat(strconv.Itoa(nobody), 4) {
				t.Errorf("%s runs with %s", p.what(), strings.TrimSpace(l))
			}
		}
	}
}

// deleteAndReplace deletes the newest summary pod, as delete-pod does,
// and brings up its replacement: the deleted pod's responder ends, the
// slice and kube-proxy's rules follow, and the replacement answers.
func deleteAndReplace(ctx context.Context, t *testing.T, o Options, l *Lab) {
	t.Helper()
	st, err := Status(o)
	if err != nil {
		t.Fatal(err)
	}
	pods := summaryPods(st)
	gone := pods[len(pods)-1]
	var cmdline []string
	for _, p := range st.Kube.Procs {
		if p.Pod == gone.Namespace+"/"+gone.Name {
			cmdline = p.Cmdline
		}
	}
	if cmdline == nil {
		t.Fatalf("no responder recorded for %s", gone.Name)
	}
	if err := DeletePod(ctx, o, gone.Namespace, gone.Name); err != nil {
		t.Fatal(err)
	}
	if pid := findCmdline(cmdline); pid != 0 {
		t.Errorf("the deleted pod's responder (pid %d) still runs", pid)
	}
	np, err := ReplacePod(ctx, o, gone)
	if err != nil {
		t.Fatal(err)
	}
	tab := waitNAT(t, l, func(tab *kubeproxy.Table, st *State) error {
		if st.Pod(np.Namespace, np.Name) == nil {
			return fmt.Errorf("the lab has not seen %s yet", np.Name)
		}
		return checkService(tab, st, summarySP, yaobankServices[2])
	})
	w := kubeproxy.WalkService(tab, summarySP)
	if !slices.ContainsFunc(w.Hops, func(h kubeproxy.Hop) bool { return h.ToDest == kubeproxy.Endpoint(np.IP.String(), 80) }) {
		t.Fatalf("no hop to the replacement %s at %s", np.Name, np.IP)
	}
	var out bytes.Buffer
	if err := RequestCommand(ctx, o, "summary", 6, &out); err != nil {
		t.Errorf("requests after the replacement: %v\n%s", err, out.String())
	}
}
