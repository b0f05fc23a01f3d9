package lab

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"podlab/internal/netnstest"
	"podlab/lab/replay"
	"podlab/netview"
)

func TestNetnsLab(t *testing.T) {
	c := buildCalico(t)
	netnstest.Ping(t, c.Pod, c.HostIP)
	ctx := context.Background()
	l, err := NewNetns(ctx, NetnsConfig{Host: NSRef{Name: c.Host}, PodIP: c.PodIP})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if l.Kind() != "netns" || l.Pod() != (NSRef{Name: c.Pod}) || !strings.Contains(l.Describe(), "by nsid") {
		t.Errorf("kind %q pod %+v describe %q", l.Kind(), l.Pod(), l.Describe())
	}
	p, err := l.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.Pod.NS.Name != c.Pod || p.Host.NS.Name != c.Host || p.Facts.Pod.IP != c.PodIP || p.Facts.Node != c.Host {
		t.Errorf("pair %+v %+v facts %+v", p.Pod.NS, p.Host.NS, p.Facts)
	}

	t.Run("analysis agrees", func(t *testing.T) {
		a := netview.Analyze(p)
		if !a.Veth.Agree || a.Veth.HostIf != c.HostIf || a.Veth.PodIf != "eth0" || a.Veth.HostLinkNetns != c.Pod {
			t.Errorf("veth %+v", a.Veth)
		}
		g := a.Gateway
		if !g.DefaultRoute || !g.LinkRoute || !g.HostProxyARP || g.NeighMAC != hostMAC || g.HostMAC != hostMAC || len(g.Confirmed) < 4 {
			t.Errorf("gateway %+v", g)
		}
		classes := map[string]netview.Class{}
		for _, r := range a.Routes {
			classes[string(r.Side)+" "+r.Dst] = r.Class
		}
		for k, want := range map[string]netview.Class{
			"pod default":              netview.ClassPodDefault,
			"pod 169.254.1.1":          netview.ClassPodGateway,
			"host " + c.PodIP.String(): netview.ClassLocalPod,
			"host default":             netview.ClassDefault,
			"host 198.51.100.0/24":     netview.ClassConnected,
		} {
			if classes[k] != want {
				t.Errorf("%s: class %q, want %q (all: %v)", k, classes[k], want, classes)
			}
		}
		if len(a.Problems) != 0 {
			t.Errorf("problems: %q", a.Problems)
		}
	})

	t.Run("kernel route", func(t *testing.T) {
		netnstest.Run(t, c.Host, "ip", "route", "add", "blackhole", "10.127.0.0/26")
		tests := []struct {
			dst      string
			dev, typ string
		}{
			{c.PodIP.String(), c.HostIf, "unicast"},
			{"203.0.113.9", "eth0", "unicast"},
			{"10.127.0.9", "", "blackhole"},
		}
		for _, tt := range tests {
			r, err := l.Route(ctx, netip.MustParseAddr(tt.dst))
			if err != nil {
				t.Errorf("%s: %v", tt.dst, err)
				continue
			}
			if r.Dev != tt.dev || r.Type != tt.typ {
				t.Errorf("%s: %+v, want dev %q type %s", tt.dst, r, tt.dev, tt.typ)
			}
		}
	})

	t.Run("pod given, address from eth0", func(t *testing.T) {
		l, err := NewNetns(ctx, NetnsConfig{Host: NSRef{Path: netnstest.Path(c.Host)}, Pod: NSRef{Name: c.Pod}})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		p, err := l.Collect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p.Facts.Pod.IP != c.PodIP || len(p.Facts.Pods) != 1 {
			t.Errorf("facts %+v", p.Facts)
		}
	})
}

func TestNetnsLabErrors(t *testing.T) {
	netnstest.RequireRoot(t)
	ctx := context.Background()
	tests := []struct {
		name string
		cfg  NetnsConfig
		want string
	}{
		{"nothing", NetnsConfig{}, "give the pod's namespace or the pod's IP"},
		{"pod gone", NetnsConfig{Pod: NSRef{Name: "podlab-nope"}}, `network namespace "podlab-nope" is gone`},
		{"host gone", NetnsConfig{Host: NSRef{Name: "podlab-nope"}, PodIP: netip.MustParseAddr("10.1.2.3")}, `network namespace "podlab-nope" is gone`},
		{"pod not here", NetnsConfig{PodIP: netip.MustParseAddr("203.0.113.77")}, "is the pod on this node?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewNetns(ctx, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err %v, want one line containing %q", err, tt.want)
			}
		})
	}
	t.Run("namespace deleted after opening", func(t *testing.T) {
		pod := netnstest.Name("plgp")
		if out, err := runIP("netns", "add", pod); err != nil {
			t.Fatalf("%v %s", err, out)
		}
		l, err := NewNetns(ctx, NetnsConfig{Pod: NSRef{Name: pod}})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		runIP("netns", "del", pod)
		if _, err := l.Collect(ctx); !errors.Is(err, ErrNamespaceGone) || !strings.HasPrefix(err.Error(), "pod side: ") {
			t.Errorf("err %v", err)
		}
	})
}

// A netns lab's pair, recorded, replays as it was collected.
func TestReplayOfNetns(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := buildCalico(t)
	l, err := NewNetns(ctx, NetnsConfig{Host: NSRef{Name: c.Host}, PodIP: c.PodIP})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p, err := l.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "live.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := netview.WriteRecording(f, &netview.Recording{Lab: "netns", Pair: *p}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r, err := replay.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := r.Collect(ctx)
	if !equalJSON(p, q) {
		t.Errorf("replayed pair differs from the live one")
	}
}
