package lab

import (
	"context"
	"fmt"
	"os"
	"testing"

	"podlab/internal/netnstest"
)

// BenchmarkCollect times one snapshot of a host namespace wired as Calico
// wires a node, or of the named namespace in PODLAB_BENCH_NS (which
// scripts/bench-collect.sh sets, to time ip against the same namespace).
func BenchmarkCollect(b *testing.B) {
	netnstest.RequireRoot(b)
	ref := NSRef{Name: os.Getenv("PODLAB_BENCH_NS")}
	if ref.Name == "" {
		ref.Name = buildCalico(b).Host
	}
	benchCollect(b, ref)
}

// BenchmarkCollectScale times one snapshot of a node namespace with 110
// pod veths at 1,000 and 20,000 routes (scripts/bench-scale.sh holds the
// same against ip as whole processes).
func BenchmarkCollectScale(b *testing.B) {
	for _, sc := range scales {
		b.Run(fmt.Sprintf("routes=%d", sc.routes), func(b *testing.B) {
			benchCollect(b, NSRef{Name: buildScale(b, sc.pods, sc.routes).Host})
		})
	}
}

// BenchmarkCollectPairScale times the netns lab's Collect: both
// namespaces, as `podlab show` and the UI read them.
func BenchmarkCollectPairScale(b *testing.B) {
	for _, sc := range scales {
		b.Run(fmt.Sprintf("routes=%d", sc.routes), func(b *testing.B) {
			c := buildScale(b, sc.pods, sc.routes)
			n, err := NewNetns(context.Background(), NetnsConfig{Host: NSRef{Name: c.Host}, Pod: NSRef{Name: c.Pod}})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { n.Close() })
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := n.Collect(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchCollect(b *testing.B, ref NSRef) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Collect(ctx, ref); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLiveSnapshotScale times the netns lab's Collect while it is
// watched: the kept snapshots of both namespaces, with no dump.
func BenchmarkLiveSnapshotScale(b *testing.B) {
	for _, sc := range scales {
		b.Run(fmt.Sprintf("routes=%d", sc.routes), func(b *testing.B) {
			c := buildScale(b, sc.pods, sc.routes)
			n, err := NewNetns(context.Background(), NetnsConfig{Host: NSRef{Name: c.Host}, Pod: NSRef{Name: c.Pod}})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			b.Cleanup(func() { cancel(); n.Close() })
			n.Changes(ctx)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := n.Collect(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
