package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"podlab/internal/hostile"
	"podlab/internal/netnstest"
	"podlab/netview"
)

// A kernel name may carry escape sequences (anything but '/', ':', NUL
// and white space, in 15 bytes); Collect shows them escaped. (Veths: the
// test kernels may lack the dummy driver.)
func TestCollectHostileNames(t *testing.T) {
	ns := netnstest.New(t, "plhn")
	const bad = "d\x1b]0;x\x07\u009b2J" // 10 bytes
	if out, err := runIP("-n", ns, "link", "add", bad, "type", "veth", "peer", "name", "p"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if out, err := runIP("-n", ns, "addr", "add", "10.9.0.1/24", "dev", bad); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, dev := range []string{bad, "p"} {
		if out, err := runIP("-n", ns, "link", "set", dev, "up"); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	s := collect(t, NSRef{Name: ns})
	if dirty := hostile.Unclean(s); len(dirty) > 0 {
		t.Errorf("control characters in %v", dirty)
	}
	l := s.LinkByName(`d\x1b]0;x\x07\u009b2J`)
	if l == nil {
		t.Fatalf("no link named as sanitised in %+v", s.Links)
	}
	if _, ok := l.Sysctl(netview.SysctlRPFilter); !ok {
		t.Error("the link's sysctls were not read by its kernel name")
	}
	if r := findRoute(s, netview.TableMain, "10.9.0.0/24"); r == nil || r.Dev != l.Name {
		t.Errorf("connected route %+v, want dev %q", r, l.Name)
	}
}

// churn adds and deletes routes and addresses in ns until the test ends,
// so that dumps there are interrupted, over stableRoutes routes and an
// address that stay. It returns once churning has
// begun to interrupt dumps, and fails the test if it never does.
func churn(t *testing.T, ns string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("link add dummy0 type veth peer name dummy1\nlink set dummy1 up\nlink set dummy0 up\naddr add 10.0.0.1/8 dev dummy0\nroute add blackhole 192.0.2.0/24\n")
	for i := range stableRoutes {
		fmt.Fprintf(&b, "route add 172.16.%d.%d/32 dev dummy0\n", i/256, i%256)
		// Enough addresses that their dump takes several messages: the
		// kernel marks a dump interrupted between them.
		fmt.Fprintf(&b, "addr add 10.1.%d.%d/32 dev dummy0\n", i/256, i%256)
	}
	cmd := exec.Command("ip", "-n", ns, "-batch", "-")
	cmd.Stdin = strings.NewReader(b.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ip -batch: %v: %s", err, out)
	}
	h, err := openHandle(NSRef{Name: ns})
	if err != nil {
		t.Fatal(err)
	}
	link, err := h.LinkByName("dummy0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		h.Close()
	})
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			r := &netlink.Route{LinkIndex: link.Attrs().Index,
				Dst: &net.IPNet{IP: net.IPv4(10, 200, byte(i>>8), byte(i)), Mask: net.CIDRMask(32, 32)}}
			_ = h.RouteAdd(r)
			_ = h.RouteDel(r)
			// IPv4 route dumps are not marked interrupted by the kernel;
			// address dumps are, and an address brings local routes. A
			// host-scope address goes first in the list, so adding and
			// deleting it moves every stable one: a dump that went on
			// regardless would skip or repeat some.
			a := &netlink.Addr{IPNet: &net.IPNet{IP: net.IPv4(10, 201, byte(i>>8), byte(i)), Mask: net.CIDRMask(32, 32)},
				Scope: unix.RT_SCOPE_HOST}
			_ = h.AddrAdd(link, a)
			_ = h.AddrDel(link, a)
		}
	})
	probe, err := openHandle(NSRef{Name: ns})
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	for range 500 {
		_, err := probe.AddrList(nil, netlink.FAMILY_ALL)
		if errors.Is(err, netlink.ErrDumpInterrupted) {
			return
		}
	}
	t.Fatal("the churn never interrupted a dump: the test would prove nothing")
}

const stableRoutes = 1000

// While routes change under it, every Collect is whole or a clear error:
// never a snapshot that silently lacks routes that were there throughout.
func TestCollectChurn(t *testing.T) {
	ns := netnstest.New(t, "plch")
	churn(t, ns)
	ok := 0
	for range 30 {
		s, err := Collect(context.Background(), NSRef{Name: ns})
		if err != nil {
			if !strings.Contains(err.Error(), "kept interrupting the dump") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("not the one-line interrupted-dump error: %v", err)
			}
			continue
		}
		ok++
		stable := 0
		for _, r := range s.Routes {
			if r.Table == netview.TableMain && netip.MustParsePrefix("172.16.0.0/12").Contains(r.Dst.Addr()) {
				stable++
			}
		}
		addrs := 0
		for _, a := range s.Addrs {
			if a.Prefix == netip.MustParsePrefix("10.0.0.1/8") || netip.MustParsePrefix("10.1.0.0/16").Contains(a.Prefix.Addr()) {
				addrs++
			}
		}
		if addrs != stableRoutes+1 {
			t.Fatalf("a snapshot has %d of the %d stable addresses", addrs, stableRoutes+1)
		}
		if stable != stableRoutes || findRoute(s, netview.TableMain, "192.0.2.0/24") == nil {
			t.Fatalf("a snapshot has %d of the %d stable routes (blackhole: %v)", stable, stableRoutes,
				findRoute(s, netview.TableMain, "192.0.2.0/24") != nil)
		}
	}
	t.Logf("%d of 30 collections whole, the others refused", ok)
}

// The lookup that explains a refused destination retries a dump the
// kernel marked interrupted, as Collect does, rather than concluding from
// part of the table that there is no route.
func TestRefusingRouteRetriesInterruptedDump(t *testing.T) {
	blackhole := netlink.Route{Type: unix.RTN_BLACKHOLE, Table: unix.RT_TABLE_MAIN, Family: unix.AF_INET,
		Dst: &net.IPNet{IP: net.IPv4(192, 0, 2, 0), Mask: net.CIDRMask(24, 32)}}
	tests := []struct {
		name    string
		answers []error
		want    string // "" for the blackhole
	}{
		{"whole", []error{nil}, ""},
		{"interrupted once", []error{netlink.ErrDumpInterrupted, nil}, ""},
		{"interrupted always", []error{netlink.ErrDumpInterrupted}, "kept interrupting the dump"},
		{"failed", []error{unix.ENOBUFS}, "no buffer space"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			list := func() ([]netlink.Route, error) {
				err := tt.answers[min(calls, len(tt.answers)-1)]
				calls++
				if err != nil {
					return nil, err // an interrupted dump may lack any route
				}
				return []netlink.Route{blackhole}, nil
			}
			r, ok, err := refusingRoute(context.Background(), list, nil, netip.MustParseAddr("192.0.2.5"))
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil || !ok || r.Type != "blackhole" {
				t.Fatalf("%+v, %v, %v; want the blackhole", r, ok, err)
			}
		})
	}
}

// The pod's namespace deleted while the lab refreshes: each refresh is
// whole or the one-line vanished-namespace error, and once it is gone,
// every refresh says so.
func TestNetnsLabPodDeletedMidRefresh(t *testing.T) {
	netnstest.RequireRoot(t)
	ctx := context.Background()
	pod := netnstest.Name("plmr")
	if out, err := runIP("netns", "add", pod); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	t.Cleanup(func() { runIP("netns", "del", pod) })
	if out, err := runIP("-n", pod, "link", "set", "lo", "up"); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	l, err := NewNetns(ctx, NetnsConfig{Pod: NSRef{Name: pod}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	done := make(chan error, 1)
	go func() {
		_, err := runIP("netns", "del", pod)
		done <- err
	}()
	deleted := false
	for i := 0; ; i++ {
		if !deleted {
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("ip netns del: %v", err)
				}
				deleted = true
			default:
			}
		}
		p, err := l.Collect(ctx)
		switch {
		case err == nil:
			if deleted {
				t.Fatalf("refresh %d after the deletion succeeded", i)
			}
			if p.Pod.LinkByName("lo") == nil {
				t.Fatalf("refresh %d: a pod snapshot without lo", i)
			}
		case !errors.Is(err, ErrNamespaceGone) || strings.Contains(err.Error(), "\n") ||
			!strings.Contains(err.Error(), `network namespace "`+pod+`" is gone`):
			t.Fatalf("refresh %d: not the one-line vanished-namespace error: %v", i, err)
		}
		if deleted {
			break
		}
	}
}
