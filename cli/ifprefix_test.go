package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"podlab/internal/netnstest"
)

// TestInterfacePrefixFlag: with --interface-prefix tap a workload whose
// host end is tap… is a local pod (as on OpenStack), and the facts say
// which prefix was used; without it the same route is not taken for a
// pod's. A value that is no prefix is refused before anything is read.
func TestInterfacePrefixFlag(t *testing.T) {
	if code, _, stderr := podlab(t, "show", "--lab", "netns", "--pod-ip", "10.65.0.5", "--interface-prefix", "tap/\x1b[2J"); code != 2 ||
		!strings.Contains(stderr, "is not an interface prefix") || strings.Contains(stderr, "\x1b") {
		t.Errorf("a bad prefix: exit %d, %q", code, stderr)
	}
	netnstest.RequireRoot(t)
	pod, host := netnstest.New(t, "ifpp"), netnstest.New(t, "ifph")
	netnstest.Run(t, pod, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "tap1a2b3c4d-5e", "netns", host)
	netnstest.Run(t, pod, "ip", "addr", "add", "10.65.0.5/32", "dev", "eth0")
	netnstest.Run(t, pod, "ip", "link", "set", "eth0", "up")
	netnstest.Run(t, host, "ip", "link", "set", "tap1a2b3c4d-5e", "up")
	netnstest.Run(t, host, "ip", "route", "add", "10.65.0.5/32", "dev", "tap1a2b3c4d-5e", "scope", "link")
	show := func(extra ...string) (prefix, class, reason string) {
		t.Helper()
		args := append([]string{"show", "--json", "--lab", "netns", "--host-netns", host, "--pod-netns", pod}, extra...)
		code, out, stderr := podlab(t, args...)
		if code != 0 {
			t.Fatalf("show %v: exit %d: %s", extra, code, stderr)
		}
		var v struct {
			Facts struct {
				InterfacePrefix string `json:"interface_prefix"`
			} `json:"facts"`
			Analysis struct {
				Routes []struct{ Side, Dst, Class, Reason string } `json:"routes"`
			} `json:"analysis"`
		}
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatal(err)
		}
		for _, r := range v.Analysis.Routes {
			if r.Side == "host" && r.Dst == "10.65.0.5" {
				return v.Facts.InterfacePrefix, r.Class, r.Reason
			}
		}
		t.Fatalf("no host route to 10.65.0.5 in %s", out)
		return
	}
	if prefix, class, reason := show("--interface-prefix", "tap"); prefix != "tap" || class != "local-pod" || !strings.Contains(reason, "tap") {
		t.Errorf("--interface-prefix tap: prefix %q, class %q: %s", prefix, class, reason)
	}
	if prefix, class, _ := show(); prefix != "cali" || class == "local-pod" {
		t.Errorf("no flag: prefix %q, class %q; want cali and no local pod", prefix, class)
	}
}
