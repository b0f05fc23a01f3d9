package netview

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"podlab/internal/hostile"
	"podlab/kubeproxy"
)

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readSaveFile(t testing.TB, path string) *kubeproxy.Table {
	t.Helper()
	tb, err := kubeproxy.ParseSave(strings.NewReader(readFile(t, path)), kubeproxy.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// bump adds packets to the rules of a chain whose target is target.
func bump(tb *kubeproxy.Table, chain, target string, packets uint64) {
	c := tb.Chain(chain)
	for i := range c.Rules {
		if c.Rules[i].Target == target {
			c.Rules[i].Packets += packets
			c.Rules[i].Bytes += 60 * packets
		}
	}
}

// A request to summary that lands on 198.19.22.129 moves the counters of
// KUBE-SERVICES' rule, the KUBE-SVC rule that picked it, and that
// endpoint's DNAT: those lines, and only those, light up.
func TestRenderNATCounterMoved(t *testing.T) {
	prev := viewsLab(t, 2)
	cur := viewsLab(t, 2)
	svc, sep := kubeproxy.SVCChain(summaryPort), kubeproxy.SEPChain(summaryPort, "198.19.22.129:80")
	bump(cur.NAT, kubeproxy.ChainServices, svc, 1)
	bump(cur.NAT, svc, sep, 1)
	bump(cur.NAT, sep, "DNAT", 1)
	want := map[string]bool{
		"nat:KUBE-SERVICES:" + svc + ":cluster IP": true,
		"nat:" + svc + ":" + sep:                   true,
		"nat:" + sep + ":DNAT":                     true,
	}
	for _, tt := range []struct {
		name string
		prev *Extra
		want map[string]bool
	}{
		{"first refresh", nil, nil},
		{"after a request", prev, want},
		{"nothing since", cur, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]bool{}
			for _, l := range RenderExtra(PlaceHost, ViewNAT, cur, tt.prev) {
				if l.HasTag(TagCounterMoved) {
					got[l.Key] = true
					if s := l.Spans[0]; s.Tag != TagCounterMoved || strings.Join(strings.Fields(s.Text), " ") != "1 60" {
						t.Errorf("%s: counters span %q %s", l.Key, s.Text, s.Tag)
					}
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("moved %v, want %v", got, tt.want)
			}
			for k := range tt.want {
				if !got[k] {
					t.Errorf("%s did not light up (moved: %v)", k, got)
				}
			}
		})
	}
}

// A part that could not be read is one line saying why; one not asked
// for is nothing.
func TestRenderExtraUnread(t *testing.T) {
	e := &Extra{}
	e.Miss(PartBird, errString("node1: birdc: connection refused"))
	e.Miss(PartNAT, errString("node1: iptables-save is not installed"))
	e.Miss(PartResources, errString("the API server did not answer"))
	for _, tt := range []struct {
		place Place
		view  View
		want  string
	}{
		{PlaceHost, ViewBird, "birdc show protocols: not read: node1: birdc: connection refused"},
		{PlaceHost1, ViewBird, ""},
		{PlaceHost, ViewNAT, "iptables -t nat -L -v -n: not read: node1: iptables-save is not installed"},
		{PlaceCluster, ViewPools, "calicoctl get ippools -o wide: not read: the API server did not answer"},
		{PlaceCluster, ViewEndpoints, "kubectl get endpointslices -n yaobank: not read: the API server did not answer"},
	} {
		t.Run(string(tt.place)+"-"+string(tt.view), func(t *testing.T) {
			lines := RenderExtra(tt.place, tt.view, e, nil)
			if tt.want == "" {
				if len(lines) != 0 {
					t.Errorf("%q", Plain(lines))
				}
				return
			}
			if len(lines) != 1 || lines[0].String() != tt.want || lines[0].Why == "" {
				t.Errorf("%q, want %q", Plain(lines), tt.want)
			}
		})
	}
	t.Run("one kind of resource", func(t *testing.T) {
		r := viewsLab(t, 2).Resources
		r.Unreadable = []ResourceGap{{Resource: "bgppeers.crd.projectcalico.org", Reason: "forbidden: add get and list on bgppeers to podlab's ClusterRole"}}
		e := &Extra{Resources: r}
		if got := Plain(RenderExtra(PlaceCluster, ViewPeers, e, nil)); !strings.Contains(got, "not read: forbidden") || strings.Count(got, "\n") != 1 {
			t.Errorf("peers: %q", got)
		}
		if got := RenderExtra(PlaceCluster, ViewPools, e, nil); len(got) != 3 {
			t.Errorf("pools: %q", Plain(got))
		}
	})
}

type errString string

func (e errString) Error() string { return string(e) }

// An Extra whose every string carries terminal attacks, sanitised as a
// lab does, renders none of them: not in a span, a label or a why.
func TestRenderExtraHostile(t *testing.T) {
	e := viewsLab(t, 3)
	nat := e.NAT
	e.NAT = nil
	hostile.Taint(e)
	e.Unread = map[string]string{PartNAT: "x" + hostile.Text}
	e.Sanitize()
	// The reader cleans the rules as it parses them.
	save := strings.ReplaceAll(readFile(t, "testdata/nat-counters.save"), "yaobank/summary:http", "yaobank/summary:http"+strings.ReplaceAll(hostile.Text, "\x00", ""))
	tb, err := kubeproxy.ParseSave(strings.NewReader(save), kubeproxy.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*kubeproxy.Table{nil, tb, nat} {
		e.NAT = n
		for _, p := range []Place{PlacePod, PlaceHost, PlaceHost1, PlaceCluster} {
			for _, v := range ExtraViews() {
				lines := RenderExtra(p, v, e, viewsLab(t, 2))
				if len(lines) == 0 && v != ViewNAT {
					t.Errorf("%s %s: no lines", p, v)
				}
				for _, l := range lines {
					for _, s := range []string{l.String(), l.Label, l.Why, l.Key} {
						if err := hostile.Check(s, false); err != nil {
							t.Fatalf("%s %s %s: %v", p, v, l.Key, err)
						}
					}
				}
			}
		}
	}
}

// The view of a node with 5,000 services and 20,000 endpoints shows the
// lesson's services' chains as a node with only those does (kube-proxy
// leaves its comments out in so large a cluster: the lines are the same,
// not their text): the rest of the table is never laid out.
func TestRenderNATBounded(t *testing.T) {
	small := viewsLab(t, 3)
	large := viewsLab(t, 3)
	large.NAT = natOf(t, large.Resources, true)
	keys := func(lines []Line) string {
		var b strings.Builder
		for _, l := range lines {
			b.WriteString(l.Key + "\n")
		}
		return b.String()
	}
	got, want := keys(RenderExtra(PlaceHost, ViewNAT, large, nil)), keys(RenderExtra(PlaceHost, ViewNAT, small, nil))
	if got != want {
		t.Errorf("the large table's view differs from the small one's:\n--- small\n%s--- large\n%s", want, got)
	}
}

// BenchmarkRenderExtraNAT renders the lesson's NAT view of a node with
// 5,000 services and 20,000 endpoints, against the parse of that table
// (kubeproxy's BenchmarkParseSave): the view should cost a small part
// of the read that precedes it.
func BenchmarkRenderExtraNAT(b *testing.B) {
	e := viewsLab(b, 3)
	e.NAT = natOf(b, e.Resources, true)
	prev := viewsLab(b, 3)
	prev.NAT = e.NAT
	b.Run("render", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if len(RenderExtra(PlaceHost, ViewNAT, e, prev)) == 0 {
				b.Fatal("no lines")
			}
		}
	})
	b.Run("parse", func(b *testing.B) {
		var in strings.Builder
		for _, c := range e.NAT.Chains {
			for _, r := range c.Rules {
				in.WriteString("-A " + c.Name + " " + r.Text + "\n")
			}
		}
		text := in.String()
		b.SetBytes(int64(len(text)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := kubeproxy.ParseSave(strings.NewReader(text), kubeproxy.DefaultLimits); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// nftLab is viewsLab with the node's rules in kube-proxy's nftables mode:
// testdata/nat-nft.json is lab/firewall's reading of kpgen's nftables
// rules for the yaobank Services, loaded with nft -f into a namespace.
func nftLab(t testing.TB) *Extra {
	t.Helper()
	e := viewsLab(t, 2)
	var tb kubeproxy.Table
	if err := json.Unmarshal([]byte(readFile(t, "testdata/nat-nft.json")), &tb); err != nil {
		t.Fatal(err)
	}
	e.NAT = &tb
	return e
}

func TestRenderNATNFTables(t *testing.T) {
	e := nftLab(t)
	lines := RenderExtra(PlaceHost, ViewNAT, e, nil)
	golden(t, "extra-nat-nft.golden", explained(lines))
	seen := map[string]bool{}
	for _, l := range lines {
		if seen[l.Key] {
			t.Errorf("key %s twice", l.Key)
		}
		seen[l.Key] = true
	}
	for _, k := range []string{"nat:chain:" + kubeproxy.NFTServiceChain(summaryPort), "nat:service-ips:" + kubeproxy.NFTServiceChain(summaryPort),
		"nat:service-nodeports:" + kubeproxy.NFTExternalChain(kubeproxy.ServicePort{Namespace: "yaobank", Name: "customer", Port: "http", Protocol: "tcp"})} {
		if !seen[k] {
			t.Errorf("no line %s", k)
		}
	}
	t.Run("counter moved", func(t *testing.T) {
		prev, cur := nftLab(t), nftLab(t)
		for _, x := range []struct {
			e *Extra
			n int
		}{{prev, 4}, {cur, 5}} {
			c := x.e.NAT.Chain(kubeproxy.NFTServiceChain(summaryPort))
			r := &c.Rules[len(c.Rules)-1]
			r.Counted, r.Packets, r.Bytes = true, uint64(x.n), uint64(60*x.n)
			r.Text += " counter packets " + strconv.Itoa(x.n) + " bytes " + strconv.Itoa(60*x.n)
		}
		var moved []string
		for _, l := range RenderExtra(PlaceHost, ViewNAT, cur, prev) {
			for _, s := range l.Spans {
				if s.Tag == TagCounterMoved {
					moved = append(moved, s.Text)
				}
			}
		}
		if len(moved) != 1 || moved[0] != "counter packets 5 bytes 300" {
			t.Errorf("moved %q", moved)
		}
	})
}
