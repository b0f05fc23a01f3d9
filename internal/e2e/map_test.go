package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"podlab/lab/sandbox"
)

// The map in the lesson: m puts it in place of the panes on a small
// terminal, the whole lab at once, and under them on a large one, lit as
// the panes are, and m takes it away again.
func TestMapInTerminal(t *testing.T) {
	t.Run("80x24", func(t *testing.T) {
		tm := newTerm(t, 80, 24, "--lab", "recording", "--section", "3")
		tm.waitText(wait, "3/4 How Hosts See Connections to Pods", "refreshed")
		tm.keys("n") // the host's end of the veth pair
		tm.waitText(wait, "step 2/5", " pod │ host ")
		tm.keys("m")
		s := tm.waitText(wait, " map: ", "┃ veth: eth0@if9 ↔ caliea2aa288365@if3 · both ends agree")
		if strings.Contains(s, " pod │ host ") {
			t.Errorf("the map does not take the panes' place:\n%s", s)
		}
		if !strings.Contains(s, "3/4 How Hosts See Connections to Pods") {
			t.Errorf("the header lost the section's title:\n%s", line(s, "3/4"))
		}
		// The whole lab on one screen: the lesson folds to its first row
		// and the map is drawn compact.
		for _, want := range []string{
			"3: eth0@if9 mtu 1410",                              // the pod's eth0
			"9: caliea2aa288365@if3 mtu 1410",                   // the host end
			"169.254.1.1 dev eth0 scope link",                   // the gateway
			"proxy_arp=1 answers for 169.254.1.1",               //
			"blackhole 198.19.22.128/26 proto bird ← own block", // the own block
			"198.19.21.0/26 block", "198.19.21.64/26 block",     // every other node's
			"eth0 198.19.0.2/20 · a veth into the fabric, a NIC", // the node's uplink
		} {
			if !strings.Contains(s, want) {
				t.Errorf("the map at 80x24 does not show %q:\n%s", want, s)
			}
		}
		if strings.Contains(s, "Read it the other way round") {
			t.Errorf("the lesson is not folded while the map is open:\n%s", s)
		}
		tm.keys("m")
		tm.waitText(wait, " pod │ host ", "Read it the other way round")
		tm.quit()
	})
	t.Run("160x48", func(t *testing.T) {
		tm := newTerm(t, 160, 48, "--lab", "recording", "--section", "3")
		tm.waitText(wait, "3/4 How Hosts See Connections to Pods", "refreshed")
		tm.keys("n")
		tm.waitText(wait, "step 2/5", "node1 $ ip -c link show up")
		pane := tm.screen(true)
		tm.keys("m")
		s := tm.waitText(wait, " map: ", "┝━━━━━━━━━━━━┥ 9: caliea2aa288365@if3")
		if !strings.Contains(s, "node1 $ ip -c link show up") {
			t.Errorf("the panes are gone at 160x48; the map should sit under them:\n%s", s)
		}
		if i, j := strings.Index(s, "node1 $ ip -c link"), strings.Index(s, " map: "); j < i {
			t.Errorf("the map is not under the panes:\n%s", s)
		}
		lit := tm.screen(true)
		inPane := sgrOn(pane, "9: caliea2aa288365@if3: <", "caliea2aa288365@if3")
		onMap := sgrOn(lit, "┝━━━━━━━━━━━━┥", "9: caliea2aa288365@if3")
		if inPane == "" || inPane != onMap {
			t.Errorf("the host end is styled %q in the pane but %q on the map", inPane, onMap)
		}
		tm.keys("m")
		tm.waitFor("the map to go", wait, func(s string) bool { return !strings.Contains(s, " map: ") })
		tm.quit()
	})
}

// showJSON is the part of `podlab show --json` the map must agree with.
type showJSON struct {
	Pod struct {
		Addrs []struct {
			Dev    string `json:"dev"`
			Prefix string `json:"prefix"`
			Scope  string `json:"scope"`
		} `json:"addrs"`
	} `json:"pod"`
	Facts struct {
		Node  string `json:"node"`
		Nodes []struct {
			Name string `json:"name"`
			IP   string `json:"internal_ip"`
		} `json:"nodes"`
	} `json:"facts"`
	Analysis struct {
		Veth struct {
			PodIf         string `json:"pod_if"`
			PodIndex      int    `json:"pod_index"`
			PodPeerIndex  int    `json:"pod_peer_index"`
			HostIf        string `json:"host_if"`
			HostIndex     int    `json:"host_index"`
			HostPeerIndex int    `json:"host_peer_index"`
		} `json:"veth"`
		Routes []struct {
			Side  string `json:"side"`
			Dst   string `json:"dst"`
			Class string `json:"class"`
			Peer  string `json:"peer"`
		} `json:"routes"`
	} `json:"analysis"`
}

var (
	ifRE   = regexp.MustCompile(`\b(\d+): ([^ @│]+)@if(\d+)`)
	addrRE = regexp.MustCompile(`\b\d+\.\d+\.\d+\.\d+(/\d+)?\b`)
)

// mapMatchesJSON checks that the map names exactly the interfaces,
// indexes, addresses and blocks that `podlab show --json` reports: all of
// them, and nothing that is not there.
func mapMatchesJSON(t *testing.T, args ...string) {
	t.Helper()
	bin := podlab(t)
	run := func(extra ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append(append([]string{"show"}, extra...), args...)...)
		cmd.Env = append(os.Environ(), "COLUMNS=160")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("podlab show %v: %v", extra, err)
		}
		return string(out)
	}
	raw := run("--json")
	var js showJSON
	if err := json.Unmarshal([]byte(raw), &js); err != nil {
		t.Fatalf("show --json: %v", err)
	}
	m := run("--map", "--plain")
	if strings.Contains(m, "\x1b") {
		t.Errorf("--plain map has escapes")
	}
	v := js.Analysis.Veth
	want := []string{
		fmt.Sprintf("%d: %s@if%d", v.PodIndex, v.PodIf, v.PodPeerIndex),
		fmt.Sprintf("%d: %s@if%d", v.HostIndex, v.HostIf, v.HostPeerIndex),
		js.Facts.Node,
	}
	for _, a := range js.Pod.Addrs {
		if a.Dev == v.PodIf && a.Scope == "global" && strings.Count(a.Prefix, ".") == 3 {
			want = append(want, a.Prefix)
		}
	}
	for _, r := range js.Analysis.Routes {
		switch r.Class {
		case "local-block-blackhole", "remote-block", "remote-pod":
			want = append(want, r.Dst)
			if r.Peer != "" {
				want = append(want, r.Peer)
			}
		}
	}
	for _, w := range want {
		if w == "" || !strings.Contains(m, w) {
			t.Errorf("the map does not name %q:\n%s", w, m)
		}
	}
	// Nothing on the map that the JSON does not hold.
	body := m[strings.Index(m, "\n\n"):]
	for _, f := range ifRE.FindAllStringSubmatch(body, -1) {
		if f[0] != want[0] && f[0] != want[1] {
			t.Errorf("the map names %q, which is not the veth pair %q ↔ %q", f[0], want[0], want[1])
		}
	}
	for _, a := range addrRE.FindAllString(body, -1) {
		if !strings.Contains(raw, `"`+a+`"`) && !strings.Contains(raw, `"`+a+"/") && !strings.Contains(raw, " "+a) {
			t.Errorf("the map names %s, which show --json does not", a)
		}
	}
}

func TestMapMatchesShowJSON(t *testing.T) {
	t.Run("recording", func(t *testing.T) { mapMatchesJSON(t, "--lab", "recording") })

	o, st := upSandbox(t, "pm")
	customer := st.Pod(sandbox.CustomerNamespace, sandbox.CustomerPod)
	if customer == nil {
		t.Fatal("the sandbox has no customer pod")
	}
	var hostNS string
	for _, ns := range st.Namespaces {
		if ns.Role == "node" && ns.Owner == customer.Node {
			hostNS = ns.Name
		}
	}
	t.Run("sandbox", func(t *testing.T) {
		mapMatchesJSON(t, "--lab", "sandbox", "--sandbox-prefix", o.Prefix, "--sandbox-state-dir", o.StateDir)
	})
	t.Run("netns pair", func(t *testing.T) {
		mapMatchesJSON(t, "--lab", "netns", "--host-netns", hostNS, "--pod-ip", customer.IP.String())
	})
}
