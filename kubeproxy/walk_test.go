package kubeproxy

import (
	"math"
	"strings"
	"testing"
)

var summary = ServicePort{Namespace: "yaobank", Name: "summary", Port: "http", Protocol: "tcp"}

// The lesson's walk: KUBE-SERVICES → KUBE-SVC → one KUBE-SEP per
// endpoint, the statistic probabilities 1/(n-i) giving every endpoint
// 1/n, each KUBE-SEP named as kube-proxy names it for its DNAT target.
func TestWalkService(t *testing.T) {
	for _, tt := range []struct {
		file  string
		probs []string
		dests []string
		whys  []string
	}{
		{"yaobank2.save", []string{"0.50000000000", ""}, []string{"198.19.22.129:80", "198.19.21.65:80"}, []string{
			"rule 1 of 2: probability 0.5 (1/2): 1/2 of new connections",
			"rule 2 of 2, the last: no statistic match, it takes all of the 1/2 the rules above leave: 1/2 of new connections",
		}},
		{"yaobank3.save", []string{"0.33333333349", "0.50000000000", ""}, []string{"198.19.22.129:80", "198.19.21.65:80", "198.19.22.130:80"}, []string{
			"rule 1 of 3: probability 0.333… (1/3): 1/3 of new connections",
			"rule 2 of 3: probability 0.5 (1/2) of the 2/3 the rules above leave: 1/3 of new connections",
			"rule 3 of 3, the last: no statistic match, it takes all of the 1/3 the rules above leave: 1/3 of new connections",
		}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			w := WalkService(readSave(t, tt.file), summary)
			if !w.Found || w.SVC != "KUBE-SVC-OIQIZJVJK6E34BR4" {
				t.Fatalf("found %v %s", w.Found, w.SVC)
			}
			if len(w.Entries) != 1 || w.Entries[0].Chain != ChainServices || w.Entries[0].Kind != "cluster IP" || w.Entries[0].Rule.Match().Dest.Value != "10.49.117.163/32" {
				t.Errorf("entries %+v", w.Entries)
			}
			if len(w.Hops) != len(tt.probs) {
				t.Fatalf("%d hops, want %d", len(w.Hops), len(tt.probs))
			}
			for i, h := range w.Hops {
				if h.Probability != tt.probs[i] || h.ToDest != tt.dests[i] || h.Why != tt.whys[i] {
					t.Errorf("hop %d: %q %q %q", i, h.Probability, h.ToDest, h.Why)
				}
				if !h.Named || h.Chain != SEPChain(summary, h.ToDest) {
					t.Errorf("hop %d: chain %s, computed %s", i, h.Chain, h.Want)
				}
				if math.Abs(h.Share-1/float64(len(w.Hops))) > 1e-6 {
					t.Errorf("hop %d: share %v", i, h.Share)
				}
			}
		})
	}
}

func TestWalkNodePort(t *testing.T) {
	customer := ServicePort{Namespace: "yaobank", Name: "customer", Port: "http", Protocol: "TCP"}
	w := WalkService(readSave(t, "yaobank2.save"), customer)
	var kinds []string
	for _, e := range w.Entries {
		kinds = append(kinds, e.Chain+":"+e.Kind+":"+e.Target)
	}
	want := "KUBE-SERVICES:cluster IP:" + SVCChain(customer) + " KUBE-NODEPORTS:node port:" + EXTChain(customer)
	if strings.Join(kinds, " ") != want {
		t.Errorf("entries %v, want %s", kinds, want)
	}
	if len(w.Hops) != 1 || w.Hops[0].Why != "the only endpoint: no statistic match, it takes every new connection" || w.Hops[0].ToDest != "198.19.22.132:80" {
		t.Errorf("hops %+v", w.Hops)
	}
}

func TestWalkMissing(t *testing.T) {
	w := WalkService(readSave(t, "yaobank2.save"), ServicePort{Namespace: "yaobank", Name: "nothere", Protocol: "tcp"})
	if w.Found || len(w.Entries) != 0 || len(w.Hops) != 0 {
		t.Errorf("%+v", w)
	}
}

// A SEP chain whose name is not the one computed for its DNAT target is
// shown as such.
func TestWalkUnnamed(t *testing.T) {
	tab := readSave(t, "yaobank2.save")
	sep := tab.Chain(tab.Chain("KUBE-SVC-OIQIZJVJK6E34BR4").Rules[1].Target)
	sep.Rules[1].Text = strings.Replace(sep.Rules[1].Text, "198.19.22.129:80", "198.19.22.200:80", 1)
	w := WalkService(tab, summary)
	if w.Hops[0].Named || !w.Hops[1].Named {
		t.Errorf("named %v %v", w.Hops[0].Named, w.Hops[1].Named)
	}
}

func TestServices(t *testing.T) {
	var got []string
	for _, s := range Services(readSave(t, "yaobank2.save")) {
		got = append(got, s.Name+" "+s.Kind+" "+s.Chain)
	}
	want := []string{
		"yaobank/customer:http cluster IP " + SVCChain(ServicePort{Namespace: "yaobank", Name: "customer", Port: "http", Protocol: "tcp"}),
		"yaobank/summary:http cluster IP KUBE-SVC-OIQIZJVJK6E34BR4",
		"yaobank/database:http cluster IP " + SVCChain(ServicePort{Namespace: "yaobank", Name: "database", Port: "http", Protocol: "tcp"}),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// nftables mode: the maps send to the service chain, whose numgen map
// gives each endpoint 1/n.
func TestWalkNFT(t *testing.T) {
	svc := NFTServiceChain(summary)
	tab := &Table{Mode: ModeNFTables, Name: NFTTable,
		Maps: []Map{{Name: NFTServiceIPsMap, Elems: []MapElem{{Key: []string{"10.49.117.163", "tcp", "80"}, Target: svc, Goto: true}}}}}
	tab.AddChain(svc, "-").Rules = []Rule{
		{Target: "mark-for-masquerade"},
		{Target: "DNAT", Parsed: &Matches{Choices: []Choice{{Index: 0, ToDest: "198.19.22.129:80"}, {Index: 1, ToDest: "198.19.21.65:80"}, {Index: 2, ToDest: "198.19.22.130:80"}}}},
	}
	w := WalkService(tab, summary)
	if !w.Found || len(w.Entries) != 1 || w.Entries[0].Rule.Text != "10.49.117.163 . tcp . 80 : goto "+svc {
		t.Fatalf("%+v", w)
	}
	if len(w.Hops) != 3 {
		t.Fatalf("%d hops", len(w.Hops))
	}
	for i, h := range w.Hops {
		if math.Abs(h.Share-1.0/3) > 1e-9 || !strings.HasPrefix(h.Why, "numgen random mod 3 is ") || !strings.HasSuffix(h.Why, ": 1/3 of new connections") {
			t.Errorf("hop %d: %v %q", i, h.Share, h.Why)
		}
		if h.Want != NFTEndpointChain(summary, h.ToDest) || h.Named {
			t.Errorf("hop %d: want %q named %v", i, h.Want, h.Named)
		}
	}
}

func TestFraction(t *testing.T) {
	for x, want := range map[float64]string{1: "all", 0: "none", 0.5: "1/2", 1.0 / 3: "1/3", 0.33333333349: "1/3", 2.0 / 3: "2/3", 0.05: "1/20", 0.123456: "0.123"} {
		if got := Fraction(x); got != want {
			t.Errorf("Fraction(%v) = %q, want %q", x, got, want)
		}
	}
}

// A service whose internal traffic policy is Local has a KUBE-SVL chain
// and no KUBE-SVC chain: the walk follows it.
func TestWalkLocalPolicy(t *testing.T) {
	svl := SVLChain(summary)
	in := "*nat\n:KUBE-SERVICES - [0:0]\n:" + svl + " - [0:0]\n:KUBE-SEP-X - [0:0]\n" +
		`[3:180] -A KUBE-SERVICES -d 10.49.117.163/32 -p tcp -m comment --comment "yaobank/summary:http cluster IP" -m tcp --dport 80 -j ` + svl + "\n" +
		`[3:180] -A ` + svl + ` -m comment --comment "yaobank/summary:http -> 198.19.22.129:80" -j KUBE-SEP-X` + "\n" +
		"[3:180] -A KUBE-SEP-X -p tcp -m tcp -j DNAT --to-destination 198.19.22.129:80\nCOMMIT\n"
	tab, err := ParseSave(strings.NewReader(in), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	w := WalkService(tab, summary)
	if !w.Found || w.Chain != svl || len(w.Entries) != 1 || len(w.Hops) != 1 || w.Hops[0].ToDest != "198.19.22.129:80" || w.Hops[0].DNAT.Packets != 3 {
		t.Errorf("%+v", w)
	}
}
