package kubeproxy

import "fmt"

// walkNFT follows s through kube-proxy's nftables table: the
// service-ips and service-nodeports maps send to the service's
// service- (or external-) chain, which DNATs through a numgen map (or,
// with session affinity, goes to endpoint- chains through a numgen
// vmap). numgen picks each element with the same chance, 1/n: there is
// no chain of probabilities to explain as in iptables mode.
func walkNFT(t *Table, s ServicePort) Walk {
	w := Walk{Service: s, Mode: ModeNFTables, SVC: NFTServiceChain(s), EXT: NFTExternalChain(s)}
	for _, m := range []struct{ name, kind string }{{NFTServiceIPsMap, "service IP"}, {NFTNodePortsMap, "node port"}} {
		mp := t.Map(m.name)
		if mp == nil {
			continue
		}
		for i, e := range mp.Elems {
			if e.Target != w.SVC && e.Target != w.EXT {
				continue
			}
			w.Entries = append(w.Entries, Entry{Chain: m.name, Index: i, Kind: m.kind, Target: e.Target,
				Rule: Rule{Target: e.Target, Goto: e.Goto, Text: elemText(e)}})
		}
	}
	svc := t.Chain(w.SVC)
	if svc == nil {
		return w
	}
	w.Chain, w.Found = w.SVC, true
	for i, r := range svc.Rules {
		m := r.Match()
		switch {
		case len(m.Choices) > 0:
			n := len(m.Choices)
			for _, c := range m.Choices {
				h := Hop{Index: i, Chain: c.Chain, P: 1 / float64(n), Reach: 1, Share: 1 / float64(n), Rule: r, ToDest: c.ToDest}
				if c.Chain == "" {
					h.DNAT = r
				}
				h.Why = fmt.Sprintf("numgen random mod %d is %d: %s of new connections", n, c.Index, Fraction(h.Share))
				w.Hops = append(w.Hops, nftHop(t, s, h))
			}
		case m.ToDest != "" && len(w.Hops) == 0:
			h := Hop{Index: i, P: 1, Reach: 1, Share: 1, Rule: r, ToDest: m.ToDest, DNAT: r,
				Why: "the only endpoint: the service chain DNATs every new connection to it"}
			w.Hops = append(w.Hops, nftHop(t, s, h))
		}
		if len(w.Hops) > 0 {
			break
		}
	}
	return w
}

// nftHop finds the DNAT of a hop through an endpoint chain, and the
// endpoint chain's computed name.
func nftHop(t *Table, s ServicePort, h Hop) Hop {
	if h.Chain != "" {
		if ep := t.Chain(h.Chain); ep != nil {
			for _, d := range ep.Rules {
				if to := d.Match().ToDest; to != "" {
					h.ToDest, h.DNAT = to, d
					break
				}
			}
		}
	}
	if h.ToDest != "" {
		h.Want = NFTEndpointChain(s, h.ToDest)
		// Without session affinity kube-proxy makes no endpoint chain:
		// the name is computed all the same, to show what it would be.
		h.Named = h.Chain == h.Want
	}
	return h
}

func elemText(e MapElem) string {
	s := ""
	for i, k := range e.Key {
		if i > 0 {
			s += " . "
		}
		s += k
	}
	v := "jump"
	if e.Goto {
		v = "goto"
	}
	return s + " : " + v + " " + e.Target
}
