package kubeproxy

import (
	"math"
	"os"
	"strings"
	"testing"

	"podlab/internal/hostile"
)

// FuzzParseSave: whatever iptables-save (or what stands in for it)
// prints, the parse ends within its bounds with a table whose every
// string is clean, or with an error in one clean line; and the walk of
// any service over that table hands out at most all connections.
func FuzzParseSave(f *testing.F) {
	for _, name := range []string{"yaobank2.save", "yaobank3.save"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("*nat\n:KUBE-SVC-OIQIZJVJK6E34BR4 - [0:0]\n[1:2] -A KUBE-SVC-OIQIZJVJK6E34BR4 -m statistic --probability 1.5 -j KUBE-SEP-X\n[3:4] -A KUBE-SVC-OIQIZJVJK6E34BR4 -m statistic --probability NaN -j KUBE-SEP-Y\n-A KUBE-SEP-X -j DNAT --to-destination \"" + hostile.Text + "\"\n"))
	f.Add([]byte("*nat\n-A KUBE-SERVICES ! ! -d\n[18446744073709551615:0] -A \"\\\" -j \"\n:X\n"))
	lim := Limits{Lines: 2000, Rules: 1000, LineBytes: 4096}
	f.Fuzz(func(t *testing.T, in []byte) {
		tab, err := ParseSave(strings.NewReader(string(in)), lim)
		if err != nil {
			if strings.Contains(err.Error(), "\n") || hostile.Check(err.Error(), false) != nil {
				t.Fatalf("error is not one clean line: %q", err)
			}
			return
		}
		if dirty := hostile.Unclean(tab); len(dirty) > 0 {
			t.Fatalf("control characters in %v", dirty)
		}
		if tab.Rules() > lim.Rules {
			t.Fatalf("%d rules past the bound", tab.Rules())
		}
		for _, c := range tab.Chains {
			for _, r := range c.Rules {
				if m := r.Match(); len(hostile.Unclean(&m)) > 0 {
					t.Fatalf("control characters in the matches of %q", r.Text)
				}
			}
		}
		for _, s := range append(Services(tab), ServiceEntry{Name: "yaobank/summary:http"}) {
			ns, rest, _ := strings.Cut(s.Name, "/")
			name, port, _ := strings.Cut(rest, ":")
			w := WalkService(tab, ServicePort{Namespace: ns, Name: name, Port: port, Protocol: "tcp"})
			sum := 0.0
			for _, h := range w.Hops {
				if h.Share < 0 || math.IsNaN(h.Share) {
					t.Fatalf("share %v", h.Share)
				}
				sum += h.Share
				if hostile.Check(h.Why, false) != nil {
					t.Fatalf("why %q", h.Why)
				}
			}
			if sum > 1+1e-9 {
				t.Fatalf("the hops share %v of connections", sum)
			}
		}
	})
}
