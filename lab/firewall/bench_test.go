package firewall

import (
	"bytes"
	"context"
	"os"
	"testing"

	"podlab/internal/kpgen"
	"podlab/internal/netnstest"
	"podlab/kubeproxy"
	"podlab/lab"
)

// BenchmarkReadIPTables times one read of a namespace's nat table with
// kube-proxy's rules for 500 services and 2,000 endpoints and the walk
// of the summary service among them, or of the named namespace in
// PODLAB_BENCH_NS. scripts/bench-kubeproxy.sh holds the read against
// iptables-save itself, at 5,000 and 20,000, as whole processes.
func BenchmarkReadIPTables(b *testing.B) {
	netnstest.RequireRoot(b)
	ns := os.Getenv("PODLAB_BENCH_NS")
	if ns == "" {
		ns = netnstest.New(b, "plfw")
		netnstest.RequireCommand(b, "iptables-restore", "apt-get install iptables")
		var in bytes.Buffer
		if err := kpgen.WriteIPTables(&in, append(kpgen.Scale(500, 2000), kpgen.Summary(2))); err != nil {
			b.Fatal(err)
		}
		f := b.TempDir() + "/rules"
		if err := os.WriteFile(f, in.Bytes(), 0o600); err != nil {
			b.Fatal(err)
		}
		netnstest.Run(b, ns, "iptables-restore", f)
	}
	b.ReportAllocs()
	for b.Loop() {
		t, err := ReadIPTables(context.Background(), lab.NSRef{Name: ns})
		if err != nil {
			b.Fatal(err)
		}
		if w := kubeproxy.WalkService(t, summary); len(w.Hops) == 0 {
			b.Fatal("the walk found no endpoint")
		}
	}
}
