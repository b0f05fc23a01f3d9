package cli

import (
	"context"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"podlab/internal/netnstest"
	"podlab/lab/sandbox"
)

// --place takes pod or host1, and host1 only from the sandbox, never as
// a picture.
func TestShowPlaceErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"show", "--place", "node9"}, `podlab: --place "node9": use pod or host1`},
		{[]string{"show", "--place", "host1", "--lab", "recording"}, "podlab: --place host1 reads the sandbox's host1: use --lab sandbox"},
		{[]string{"show", "--place", "host1", "--lab", "sandbox", "--map"}, "podlab: --place host1 and --map do not go together"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, stderr := podlab(t, tt.args...)
			if code != 2 || !strings.HasPrefix(stderr, tt.want) || strings.Count(stderr, "\n") != 1 || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and one line starting %q", code, out, stderr, tt.want)
			}
		})
	}
}

// host1Route is the ip route part of show --place host1's output.
func host1RoutePart(t *testing.T, out string) string {
	t.Helper()
	_, after, ok := strings.Cut(out, "host1 $ ip route\n")
	part, _, ok2 := strings.Cut(after, "\n\n")
	if !ok || !ok2 {
		t.Fatalf("no ip route part in:\n%s", out)
	}
	return part + "\n"
}

// showHost1 runs show --place host1 until ip -n prints host1's table
// alike before and after it (BIRD may write between), and returns its
// output with what ip printed.
func showHost1(t *testing.T, ns string, lab []string) (out, stderr, ip string) {
	t.Helper()
	ipRoute := func() string {
		b, err := exec.Command("ip", "-n", ns, "route").Output()
		if err != nil {
			t.Fatalf("ip -n %s route: %v", ns, err)
		}
		return string(b)
	}
	for range 10 {
		before := ipRoute()
		code, out, stderr := podlab(t, append([]string{"show", "--plain", "--place", "host1"}, lab...)...)
		if code != 0 {
			t.Fatalf("show --place host1: exit %d:\n%s%s", code, out, stderr)
		}
		if ipRoute() == before {
			return out, stderr, before
		}
	}
	t.Fatal("ip printed something different each of 10 times: cannot compare")
	return "", "", ""
}

// TestShowHost1Sandbox: on a sandbox built with --host1 --external-pool,
// show --place host1 prints host1's ip route byte for byte as ip does,
// each /29 named by its owner and pool, the service range as ECMP over
// the three nodes, and the default pool's blocks as absent and why;
// node2's BIRD stopped, it says node2's /29 and next hop are missing,
// and still prints what ip prints.
func TestShowHost1Sandbox(t *testing.T) {
	netnstest.RequireRoot(t)
	if _, err := exec.LookPath("bird"); err != nil {
		netnstest.RequireCommand(t, "/usr/sbin/bird", "apt-get install bird2")
	}
	o := sandbox.Options{Prefix: netnstest.Name("ph"), StateDir: t.TempDir()}
	t.Cleanup(func() {
		if err := sandbox.Down(context.Background(), o); err != nil {
			t.Errorf("cleanup Down: %v", err)
		}
	})
	lab := []string{"--lab", "sandbox", "--sandbox-prefix", o.Prefix, "--sandbox-state-dir", o.StateDir}
	if code, out, stderr := podlab(t, append([]string{"sandbox", "up", "--host1", "--external-pool"}, lab[2:]...)...); code != 0 {
		t.Fatalf("sandbox up --host1 --external-pool: exit %d:\n%s%s", code, out, stderr)
	}
	st, err := sandbox.Status(o)
	if err != nil || !st.ExternalPool || st.Host1NS() == "" {
		t.Fatalf("the sandbox has no host1 or external pool: %v", err)
	}
	ns := st.Host1NS()

	out, _, ip := showHost1(t, ns, lab)
	if got := host1RoutePart(t, out); got != ip {
		t.Errorf("show prints host1's ip route as:\n%s\nip prints:\n%s", got, ip)
	}
	for _, want := range []string{
		"198.19.24.8/29 via 198.19.0.2 dev eth0 proto bird \n",
		"\tnexthop via 198.19.0.3 dev eth0 weight 1 \n",
		"- host1 route 198.19.24.0/29 (control) is remote-block: control's block of pool external-pool (198.19.24.0/21, /29 blocks), learned over BGP (proto bird), via control (198.19.0.1) on eth0\n",
		"- host1 route 198.19.24.8/29 (node1) is remote-block: node1's block of pool external-pool",
		"- host1 route 198.19.24.16/29 (node2) is remote-block: node2's block of pool external-pool",
		"- host1 route 198.19.32.0/20 (control, node1, node2) is service-range: the service cluster IP range",
		"ECMP over control, node1, node2",
		"- absent: the blocks of pool default-ipv4-ippool (198.19.16.0/21, /26 blocks) are absent (control's 198.19.21.0/26, node1's 198.19.22.128/26, node2's 198.19.21.64/26): the nodes announce every block they own, but host1's BIRD imports only the ranges its filter lists (198.19.24.0/21+, 198.19.32.0/20+, 198.19.48.0/20)",
		"host1 $ ip addr\n",
		"inet 198.19.15.254/20 brd 198.19.15.255 scope global eth0\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show --place host1 lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "problem:") || strings.Contains(out, "198.19.22.128/26 via") {
		t.Errorf("a healthy host1 shows a problem or a default-pool block:\n%s", out)
	}

	code, js, stderr := podlab(t, append([]string{"show", "--json", "--place", "host1"}, lab...)...)
	var shown struct {
		Place    string
		Analysis struct {
			Routes []struct{ Dst, Kind, Pool, Peer string }
		}
	}
	if err := json.Unmarshal([]byte(js), &shown); code != 0 || err != nil {
		t.Fatalf("show --json --place host1: exit %d, %v:\n%s", code, err, stderr)
	}
	kinds := map[string]string{}
	for _, r := range shown.Analysis.Routes {
		kinds[r.Dst] = r.Kind + " " + r.Pool + " " + r.Peer
	}
	if kinds["198.19.24.16/29"] != "pool-block external-pool node2" || kinds["198.19.32.0/20"] != "service-cluster-ips  control, node1, node2" {
		t.Errorf("show --json: %v", kinds)
	}

	i := slices.IndexFunc(st.Processes, func(p sandbox.Process) bool { return p.Node == "node2" })
	if err := syscall.Kill(st.Processes[i].Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		b, err := exec.Command("ip", "-n", ns, "route").Output()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "198.19.0.3") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node2's BIRD stopped, host1 still routes via node2:\n%s", b)
		}
	}
	out, stderr, ip = showHost1(t, ns, lab)
	if got := host1RoutePart(t, out); got != ip {
		t.Errorf("node2 stopped: show prints host1's ip route as:\n%s\nip prints:\n%s", got, ip)
	}
	for _, want := range []string{
		"- host1 route 198.19.32.0/20 (control, node1) is service-range:",
		"ECMP over control, node1:",
		"- problem: the service cluster IP range 198.19.32.0/20 has no next hop via node2 (198.19.0.3)",
		"- problem: host1 has no route to node2's block 198.19.24.16/29 of pool external-pool (198.19.24.0/21, /29 blocks), which its import filter admits",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("node2 stopped: show lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr, "podlab: sandbox problem: bird on node2") {
		t.Errorf("node2 stopped: stderr does not say so: %q", stderr)
	}
}
