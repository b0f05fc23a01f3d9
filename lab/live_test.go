package lab

import (
	"errors"
	"fmt"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"podlab/internal/netnstest"
	"podlab/netview"
)

// TestLiveEqualsFreshDump: after bursts of changes, the snapshot kept up
// from notifications is the one a fresh dump gives.
func TestLiveEqualsFreshDump(t *testing.T) {
	c := buildScale(t, 20, 3000)
	ctx := t.Context()
	l, err := NewLive(ctx, NSRef{Name: c.Host}, NSRef{Name: c.Pod})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	marker := 0
	// settle adds a marker route last and waits for it: notifications
	// arrive in order, so everything before it has been applied.
	settle := func(t *testing.T) {
		t.Helper()
		marker++
		dst := fmt.Sprintf("10.250.%d.0/24", marker)
		netnstest.Run(t, c.Host, "ip", "route", "add", dst, "dev", "eth0")
		deadline := time.Now().Add(20 * time.Second)
		for {
			s, err := l.Snapshot(0)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range s.Routes {
				if r.Dst.String() == dst {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("the marker route %s never showed", dst)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// check waits for the kept snapshots to equal fresh dumps: the
	// kernel goes on changing things by itself for a while after links
	// come up (IPv6 addresses leave "tentative", their routes appear),
	// and each such change is notified too.
	check := func(t *testing.T) {
		t.Helper()
		settle(t)
		deadline := time.Now().Add(15 * time.Second)
		for {
			diff := ""
			for i, name := range []string{c.Host, c.Pod} {
				got, err := l.Snapshot(i)
				if err != nil {
					t.Fatal(err)
				}
				want, err := Collect(ctx, NSRef{Name: name})
				if err != nil {
					t.Fatal(err)
				}
				diff += snapshotDiff(name, got, want)
			}
			if diff == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal(diff)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	tests := []struct {
		name  string
		batch func() string
		pod   string
	}{
		{"a few changes at a time", func() string {
			// Each is checked on its own below: merged into the last
			// snapshot's order, not sorted whole.
			return ""
		}, ""},
		{"5,000 route changes", func() string {
			var b strings.Builder
			for i := range 2500 { // new blocks
				fmt.Fprintf(&b, "route add 10.%d.%d.0/26 via %s dev eth0 proto bird\n", 200+i/256, i%256, c.FabricIP)
			}
			for i := range 1500 { // blocks withdrawn (buildScale's first ones)
				fmt.Fprintf(&b, "route del 10.%d.%d.%d/26\n", 64+i/1024, (i/4)%256, (i%4)*64)
			}
			// Shorter prefixes of one address, and another table.
			fmt.Fprintf(&b, "route add 10.64.8.0/24 via %s proto bird\nroute add 10.64.0.0/16 via %s metric 5\n", c.FabricIP, c.FabricIP)
			fmt.Fprintf(&b, "route add 10.64.8.0/22 dev eth0 table 100\nroute add blackhole 10.64.8.0/21 metric 9\n")
			fmt.Fprintf(&b, "route add 2001:db8:5::/64 dev eth0\nroute add blackhole 2001:db8:6::/48\n")
			for i := 1500; i < 2500; i++ { // next hops changed in place
				fmt.Fprintf(&b, "route replace 10.%d.%d.%d/26 dev eth0 proto bird\n", 64+i/1024, (i/4)%256, (i%4)*64)
			}
			return b.String()
		}, ""},
		{"links come and go", func() string {
			var b strings.Builder
			for i := range 5 {
				fmt.Fprintf(&b, "link add plnew%d type veth peer name plpeer%d\nlink set plnew%d up\n", i, i, i)
				fmt.Fprintf(&b, "route add 10.251.%d.1/32 dev plnew%d scope link\n", i, i)
			}
			for i := 2; i <= 6; i++ { // pods deleted: their routes go with them
				fmt.Fprintf(&b, "link del calis%09d\n", i)
			}
			fmt.Fprintf(&b, "address add 192.0.2.7/32 dev eth0\n")
			return b.String()
		}, "address add 192.0.2.9/32 dev lo\nroute add 192.0.2.0/24 dev eth0\n"},
	}
	few := []string{
		"route add 10.64.0.32/27 via %s proto bird",      // inside a block, after it
		"route add 10.63.255.0/24 via %s metric 7",       // before all of them
		"route replace 10.64.0.0/26 dev eth0 proto bird", // a next hop changed in place
		"route del 10.64.0.64/26",
		"route add 10.64.0.64/26 via %s metric 3", // back, with a metric
		"route add 10.64.0.64/26 via %s metric 1", // and a second, before it
		"route add 10.64.1.0/24 dev eth0 table 100",
		"route add blackhole 10.64.2.0/23",
		"route add 2001:db8:7::/64 dev eth0",
		"route del 10.64.0.32/27",
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "a few changes at a time" {
				before := l.nss[0].merges
				for _, f := range few {
					line := f
					if strings.Contains(f, "%s") {
						line = fmt.Sprintf(f, c.FabricIP)
					}
					ipBatch(t, c.Host, line+"\n")
					check(t)
				}
				if l.nss[0].merges == before {
					t.Error("no snapshot merged its changes in: each sorted all the routes")
				}
				return
			}
			ipBatch(t, c.Host, tt.batch())
			if tt.pod != "" {
				ipBatch(t, c.Pod, tt.pod)
			}
			check(t)
		})
	}
	if n := l.Resyncs(); n != 0 {
		t.Errorf("%d full reads for lost notifications: the bursts were not applied one by one", n)
	}
	t.Run("resync", func(t *testing.T) {
		if err := l.Resync(ctx); err != nil {
			t.Fatal(err)
		}
		check(t)
	})
	// A change read from the subscription while a full read is under way
	// is applied after that read is in place, not overwritten by it.
	t.Run("resync while routes change", func(t *testing.T) {
		done := make(chan error, 1)
		go func() {
			for i := range 500 {
				for _, a := range [][]string{
					{"route", "add", fmt.Sprintf("10.252.%d.%d/26", i/4, i%4*64), "via", c.FabricIP.String()},
					{"route", "add", fmt.Sprintf("2001:db8:9:%x::/64", i), "dev", "eth0"},
				} {
					if out, err := exec.Command("ip", append([]string{"-n", c.Host}, a...)...).CombinedOutput(); err != nil {
						done <- fmt.Errorf("%v: %v: %s", a, err, out)
						return
					}
				}
			}
			done <- nil
		}()
		for resyncing := true; resyncing; {
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				resyncing = false
			default:
				if err := l.Resync(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		check(t)
	})
}

// snapshotDiff compares all but the time a snapshot was taken: "" when
// equal, else the first difference.
func snapshotDiff(name string, got, want *netview.Snapshot) string {
	g, w := *got, *want
	g.TakenAt, w.TakenAt = time.Time{}, time.Time{}
	if len(g.Routes) != len(w.Routes) {
		return fmt.Sprintf("%s: %d routes kept, a dump has %d\n", name, len(g.Routes), len(w.Routes))
	}
	for i := range g.Routes {
		if !reflect.DeepEqual(g.Routes[i], w.Routes[i]) {
			return fmt.Sprintf("%s: route %d:\n kept %+v\n dump %+v\n", name, i, g.Routes[i], w.Routes[i])
		}
	}
	for i := range min(len(g.Addrs), len(w.Addrs)) {
		if !reflect.DeepEqual(g.Addrs[i], w.Addrs[i]) {
			return fmt.Sprintf("%s: address %d:\n kept %+v\n dump %+v\n", name, i, g.Addrs[i], w.Addrs[i])
		}
	}
	g.Routes, w.Routes = nil, nil
	if !reflect.DeepEqual(g, w) {
		return fmt.Sprintf("%s: kept\n%+v\ndump\n%+v\n", name, g, w)
	}
	return ""
}

// TestLiveNamespaceVanishes: a watched namespace that is deleted ends
// the watch with an error saying so, and lets the namespace go.
func TestLiveNamespaceVanishes(t *testing.T) {
	netnstest.RequireRoot(t)
	host := netnstest.New(t, "plvh")
	gone := netnstest.Name("plvg")
	if out, err := exec.Command("ip", "netns", "add", gone).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", gone).Run() })
	l, err := NewLive(t.Context(), NSRef{Name: host}, NSRef{Name: gone})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	if out, err := exec.Command("ip", "netns", "del", gone).CombinedOutput(); err != nil {
		t.Fatalf("ip netns del: %v: %s", err, out)
	}
	select {
	case <-waitClosed(l.Changes()):
	case <-time.After(15 * time.Second):
		t.Fatal("the watch went on after its namespace was deleted")
	}
	if _, err := l.Snapshot(1); !errors.Is(err, ErrNamespaceGone) {
		t.Fatalf("Snapshot of the deleted namespace: %v, want ErrNamespaceGone", err)
	}
}

func waitClosed(ch <-chan struct{}) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		for range ch {
		}
		close(done)
	}()
	return done
}
