package lab

import (
	"context"
	"slices"
	"testing"
	"time"

	"podlab/internal/netnstest"
	"podlab/netview"
)

func TestWatch(t *testing.T) {
	c := buildCalico(t)
	l, err := NewNetns(context.Background(), NetnsConfig{Host: NSRef{Name: c.Host}, Pod: NSRef{Name: c.Pod}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := l.Changes(ctx)

	drain := func() {
		for {
			select {
			case <-ch:
			case <-time.After(100 * time.Millisecond):
				return
			}
		}
	}
	// wait takes the subtest's t: FailNow must be called from the
	// goroutine of the test that fails.
	wait := func(t *testing.T, what string) {
		t.Helper()
		select {
		case _, ok := <-ch:
			if !ok {
				t.Fatalf("%s: channel closed", what)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no change signalled", what)
		}
	}
	// shown: what Collect gives after the signal has the change, from
	// the snapshots the watch keeps.
	tests := []struct {
		name  string
		ns    string
		args  []string
		shown func(p *netview.Pair) bool
	}{
		{"host route", c.Host, []string{"ip", "route", "add", "blackhole", "10.126.0.0/26"}, func(p *netview.Pair) bool {
			return slices.ContainsFunc(p.Host.Routes, func(r netview.Route) bool { return r.Dst.String() == "10.126.0.0/26" })
		}},
		{"pod address", c.Pod, []string{"ip", "addr", "add", "10.126.1.1/32", "dev", "lo"}, func(p *netview.Pair) bool {
			return slices.ContainsFunc(p.Pod.Addrs, func(a netview.Addr) bool { return a.Prefix.String() == "10.126.1.1/32" })
		}},
		{"host link", c.Host, []string{"ip", "link", "set", c.HostIf, "mtu", "1400"}, func(p *netview.Pair) bool {
			return p.Host.LinkByName(c.HostIf).MTU == 1400
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			drain()
			netnstest.Run(t, tt.ns, tt.args...)
			// A signal left from the subtest before may come first; the
			// change must be shown after one of the signals that follow.
			for i := 0; ; i++ {
				wait(t, tt.name)
				p, err := l.Collect(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if tt.shown(p) {
					break
				}
				if i == 4 {
					t.Fatalf("Collect after %d signals does not show the change", i+1)
				}
			}
		})
	}
	t.Run("closed when the context ends", func(t *testing.T) {
		cancel()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case _, ok := <-ch:
				if !ok {
					return
				}
			case <-deadline:
				t.Fatal("channel not closed")
			}
		}
	})
	t.Run("bad namespace", func(t *testing.T) {
		if _, err := Watch(context.Background(), NSRef{Name: "podlab-nope"}); err == nil {
			t.Error("no error")
		}
	})
}
