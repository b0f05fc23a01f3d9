package lab

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"podlab/internal/netnstest"
)

func TestFindPodNS(t *testing.T) {
	c := buildCalico(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		methods []method
		want    method
	}{
		{"default finds it by nsid", nil, methodNSID},
		{"nsid", []method{methodNSID}, methodNSID},
		{"forced scan", []method{methodScan}, methodScan},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, m, err := findPodNSBy(ctx, NSRef{Name: c.Host}, c.PodIP, tt.methods...)
			if err != nil {
				t.Fatal(err)
			}
			if ref != (NSRef{Name: c.Pod}) || m != tt.want {
				t.Errorf("got %+v by %s, want %s by %s", ref, m, c.Pod, tt.want)
			}
		})
	}
	t.Run("FindPodNS", func(t *testing.T) {
		ref, err := FindPodNS(ctx, NSRef{Name: c.Host}, c.PodIP)
		if err != nil || ref.Name != c.Pod {
			t.Errorf("%+v %v", ref, err)
		}
	})
	t.Run("not on this node", func(t *testing.T) {
		other := randomPodIP(t)
		_, _, err := findPodNSBy(ctx, NSRef{Name: c.Host}, other)
		if err == nil || !strings.Contains(err.Error(), "no network namespace on this node has "+other.String()) {
			t.Errorf("err %v", err)
		}
	})
	t.Run("a pod of another node", func(t *testing.T) {
		// Its namespace has the IP on eth0, but eth0's peer is in another
		// host namespace: the scan must not take it for this node's pod.
		other := netnstest.New(t, "plfo")
		_, _, err := findPodNSBy(ctx, NSRef{Name: other}, c.PodIP, methodScan)
		if err == nil || !strings.Contains(err.Error(), "no network namespace on this node has") {
			t.Errorf("found a pod whose veth leads to another namespace: %v", err)
		}
	})
	t.Run("no IP", func(t *testing.T) {
		if _, err := FindPodNS(ctx, NSRef{Name: c.Host}, netip.Addr{}); err == nil {
			t.Error("no error")
		}
	})
	t.Run("host gone", func(t *testing.T) {
		_, err := FindPodNS(ctx, NSRef{Name: "podlab-no-such-host"}, c.PodIP)
		if !errors.Is(err, ErrNamespaceGone) {
			t.Errorf("err %v", err)
		}
	})
}

// A pod namespace with no name under /run/netns (only a process holds it):
// the nsid points nowhere named, so the scan of /proc finds it by pid.
func TestFindPodNSUnnamed(t *testing.T) {
	netnstest.RequireCommand(t, "unshare", "apt-get install util-linux")
	netnstest.RequireCommand(t, "nsenter", "apt-get install util-linux")
	host := netnstest.New(t, "plfh")
	cmd := exec.Command("unshare", "--net", "sleep", "120")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pid := strconv.Itoa(cmd.Process.Pid)
	self, _ := os.Readlink("/proc/self/ns/net")
	for range 100 { // until unshare has made the new namespace
		if l, _ := os.Readlink("/proc/" + pid + "/ns/net"); l != "" && l != self {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	ip := randomPodIP(t)
	cali := netnstest.Name("cali")
	netnstest.Run(t, host, "ip", "link", "add", cali, "type", "veth", "peer", "name", "eth0", "netns", pid)
	netnstest.Run(t, host, "ip", "link", "set", cali, "up")
	netnstest.Run(t, host, "ip", "route", "add", ip.String(), "dev", cali, "scope", "link")
	enter := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("nsenter", append([]string{"-t", pid, "-n"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v: %s", args, err, out)
		}
	}
	enter("ip", "addr", "add", ip.String()+"/32", "dev", "eth0")
	enter("ip", "link", "set", "eth0", "up")

	_, _, err := findPodNSBy(context.Background(), NSRef{Name: host}, ip, methodNSID)
	if err == nil || !strings.Contains(err.Error(), "which no namespace under /run/netns has") {
		t.Errorf("nsid alone: %v", err)
	}
	ref, m, err := findPodNSBy(context.Background(), NSRef{Name: host}, ip)
	if err != nil {
		t.Fatal(err)
	}
	if m != methodScan || ref.Pid == 0 {
		t.Fatalf("got %+v by %s", ref, m)
	}
	// Any process in that namespace will do; it must be the same one.
	s := collect(t, ref)
	want, _ := os.Stat("/proc/" + pid + "/ns/net")
	if s.NS.Inode != inodeOf(want) {
		t.Errorf("found pid %d, inode %d, want %d", ref.Pid, s.NS.Inode, inodeOf(want))
	}
}
