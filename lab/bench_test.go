package lab

import (
	"context"
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
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Collect(ctx, ref); err != nil {
			b.Fatal(err)
		}
	}
}
