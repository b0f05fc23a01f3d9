package kubeproxy_test

import (
	"bytes"
	"testing"

	"podlab/internal/kpgen"
	"podlab/kubeproxy"
)

// Past 1,000 endpoints kube-proxy leaves the comments out of the
// KUBE-SVC and KUBE-SEP chains (its large cluster mode): the walk needs
// none of them, and every service's endpoint chains still carry the
// names computed for their DNAT targets.
func TestWalkLargeCluster(t *testing.T) {
	svcs := append(kpgen.Scale(300, 1200), kpgen.Summary(3))
	var in bytes.Buffer
	if err := kpgen.WriteIPTables(&in, svcs); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(in.Bytes(), []byte("yaobank/summary:http -> ")) {
		t.Fatal("the rules are not in large cluster mode")
	}
	tab, err := kubeproxy.ParseSave(&in, kubeproxy.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(kubeproxy.Services(tab)); got != len(svcs) {
		t.Errorf("KUBE-SERVICES names %d services, want %d", got, len(svcs))
	}
	for _, s := range svcs {
		w := kubeproxy.WalkService(tab, s.Port)
		if !w.Found || len(w.Hops) != len(s.Endpoints) {
			t.Fatalf("%s: found %v, %d hops, want %d", s.Port, w.Found, len(w.Hops), len(s.Endpoints))
		}
		sum := 0.0
		for i, h := range w.Hops {
			if !h.Named || h.ToDest != kubeproxy.Endpoint(s.Endpoints[i], s.TargetPort) {
				t.Fatalf("%s hop %d: %+v", s.Port, i, h)
			}
			sum += h.Share
		}
		if sum < 1-1e-6 || sum > 1+1e-6 {
			t.Fatalf("%s: the hops share %v", s.Port, sum)
		}
	}
}
