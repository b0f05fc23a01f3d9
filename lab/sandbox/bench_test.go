package sandbox

import (
	"context"
	"testing"

	"podlab/internal/netnstest"
	"podlab/netview"
)

// BenchmarkUp measures `podlab sandbox up` until BGP has converged (every
// node's kernel holds the other blocks, proto bird); Down is not timed.
// Run: sudo go test ./lab/sandbox -run '^$' -bench BenchmarkUp -benchtime 5x
func BenchmarkUp(b *testing.B) {
	for _, mode := range []string{"bgp", "vxlan"} {
		b.Run(mode, func(b *testing.B) {
			requireSandbox(b, true)
			var converged int64
			for b.Loop() {
				o := Options{Prefix: netnstest.Name("pb"), StateDir: b.TempDir(), Mode: netview.Mode(mode)}
				sb, err := Up(context.Background(), o)
				if err != nil {
					b.Fatal(err)
				}
				converged += sb.State.ConvergedMS
				b.StopTimer()
				if err := Down(context.Background(), o); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(converged)/float64(b.N), "bgp-ms/op")
		})
	}
}
