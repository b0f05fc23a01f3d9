package kubeproxy_test

import (
	"bytes"
	"testing"

	"podlab/internal/kpgen"
	"podlab/kubeproxy"
)

// BenchmarkParseSave parses kube-proxy's rules for 5,000 services and
// 20,000 endpoints and walks the lesson's summary service among them.
// The input is iptables-restore's (what kube-proxy writes), which reads
// as iptables-save's without counters; scripts/bench-kubeproxy.sh
// measures the whole read against iptables-save itself.
func BenchmarkParseSave(b *testing.B) {
	var in bytes.Buffer
	if err := kpgen.WriteIPTables(&in, append(kpgen.Scale(5000, 20000), kpgen.Summary(2))); err != nil {
		b.Fatal(err)
	}
	summary := kpgen.Summary(2).Port
	b.SetBytes(int64(in.Len()))
	b.ReportAllocs()
	for b.Loop() {
		t, err := kubeproxy.ParseSave(bytes.NewReader(in.Bytes()), kubeproxy.DefaultLimits)
		if err != nil {
			b.Fatal(err)
		}
		if w := kubeproxy.WalkService(t, summary); len(w.Hops) != 2 {
			b.Fatalf("%d hops", len(w.Hops))
		}
	}
}
