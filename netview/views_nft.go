package netview

import (
	"cmp"
	"slices"
	"strings"

	"podlab/kubeproxy"
)

// planNFT lays the walked part of kube-proxy's nftables table out as
// `nft list table ip kube-proxy` prints it: the maps' elements for the
// lesson's service ports, then each one's chains. nft indents by tabs;
// the view by the spaces they stand for.
func planNFT(p *natPlan, t *kubeproxy.Table, svcs []natService, walks []kubeproxy.Walk) {
	p.add(natItem{kind: natOpen, key: "nat:table", text: "table ip " + cmp.Or(t.Name, kubeproxy.NFTTable),
		label: "kube-proxy's table", why: "kube-proxy's nftables mode keeps all its rules in a table of its own"})
	for _, name := range []string{kubeproxy.NFTServiceIPsMap, kubeproxy.NFTNodePortsMap} {
		es := entriesIn(walks, name)
		if len(es) == 0 {
			continue
		}
		p.nftOpen("map "+name, name)
		for j, en := range es {
			s := &svcs[en.s]
			it := natItem{kind: natRule, depth: 2, key: "nat:" + name + ":" + en.e.Target, rule: en.e.Rule,
				label: en.e.Kind + " entry of " + s.port.String(), why: entryWhy(s, en.e, walks[en.s]),
				pre: "             ", post: ","}
			if j == 0 {
				it.pre = "elements = { "
			}
			if j == len(es)-1 {
				it.post = " }"
			}
			p.add(it)
		}
		p.add(natItem{kind: natClose, depth: 1, key: "nat:end:" + name})
	}
	for i := range walks {
		s, w := &svcs[i], &walks[i]
		p.gapAfterClose("nat:gap:" + s.port.String() + "/" + strings.ToLower(s.port.Protocol))
		p.add(natItem{kind: natNote, key: "nat:svc:" + s.port.String() + "/" + strings.ToLower(s.port.Protocol),
			text: "        " + svcNote(s, w), label: "service port " + s.port.String(), why: svcNoteWhy(s, w)})
		if !w.Found {
			continue
		}
		chains := []string{}
		if t.Chain(w.EXT) != nil {
			chains = append(chains, w.EXT)
		}
		chains = append(chains, w.Chain)
		for _, h := range w.Hops {
			if h.Chain != "" && t.Chain(h.Chain) != nil && !slices.Contains(chains, h.Chain) {
				chains = append(chains, h.Chain)
			}
		}
		for _, name := range chains {
			c := t.Chain(name)
			p.nftOpen("chain "+name, name)
			if name == w.SVC {
				it := &p.items[len(p.items)-1]
				it.why += "; its name is computed for " + s.port.String() + " " + strings.ToLower(s.port.Protocol) + ": " + w.SVC + ", it matches, the same in every lab"
			}
			for _, r := range c.Rules {
				it := natItem{kind: natRule, depth: 2, key: "nat:" + name + ":" + cmp.Or(r.Target, "rule"), rule: r}
				it.label, it.why = nftRuleWhy(s, w, name, &r)
				p.add(it)
			}
			p.add(natItem{kind: natClose, depth: 1, key: "nat:end:" + name})
		}
	}
	p.add(natItem{kind: natClose, key: "nat:end"})
}

// gapAfterClose is nft's blank line between a block and the next.
func (p *natPlan) gapAfterClose(key string) {
	if n := len(p.items); n > 0 && p.items[n-1].kind == natClose {
		p.add(natItem{kind: natGap, key: key})
	}
}

func (p *natPlan) nftOpen(text, name string) {
	p.gapAfterClose("nat:gap:" + name)
	p.add(natItem{kind: natOpen, depth: 1, key: "nat:chain:" + name, text: text, tag: chainTag(name),
		label: text, why: chainWhy(name)})
}

func nftRuleWhy(s *natService, w *kubeproxy.Walk, chain string, r *kubeproxy.Rule) (label, why string) {
	if strings.Contains(r.Text, "mark-for-masquerade") {
		if strings.HasPrefix(chain, kubeproxy.NFTPrefixExternal) {
			return "masquerade mark", "traffic from outside the cluster to the node port is marked for masquerade, so the reply comes back through this node"
		}
		return "masquerade mark", "a connection to the cluster IP from outside the pod CIDR is marked for masquerade, so the reply comes back through this node"
	}
	if r.Goto && r.Target == w.Chain {
		return "on to the service chain", "then on to " + r.Target + ", the service port's chain, as traffic to the cluster IP"
	}
	var hops []string
	for i := range w.Hops {
		h := &w.Hops[i]
		if h.DNAT.Text == r.Text || h.Rule.Text == r.Text && chain == w.Chain {
			ep := h.ToDest
			if who := endpointOwner(s.eps, h.ToDest); who != "" {
				ep += " (" + who + ")"
			}
			hops = append(hops, ep+": "+h.Why)
		}
	}
	switch {
	case len(hops) == 1:
		return "DNAT of " + s.port.String(), "the endpoint of " + s.port.String() + ": " + hops[0]
	case len(hops) > 1:
		return "DNAT of " + s.port.String(), "the endpoints of " + s.port.String() + ": " + strings.Join(hops, "; ") +
			"; numgen gives each the same share, so there is no chain of probabilities as in iptables mode"
	}
	return "rule of " + chain, "a rule of " + chain
}

// nftRuleLine is a rule (or a map's element) in nft's words, indented.
func nftRuleLine(it natItem, grew bool) Line {
	b := lineBuilder{key: it.key}
	b.add(strings.Repeat(" ", 8*it.depth)+it.pre, TagNone)
	text := it.rule.Text
	for text != "" {
		at, n, tag := nftNext(text, grew)
		if at < 0 {
			b.add(text, TagNone)
			break
		}
		b.add(text[:at], TagNone)
		b.add(text[at:at+n], tag)
		text = text[at+n:]
	}
	b.add(it.post, TagNone)
	return b.line()
}

// nftNext finds the next piece of a rule's text with a meaning: its
// counter, the numgen that picks, the DNAT, a chain it jumps to.
func nftNext(text string, grew bool) (at, n int, tag Tag) {
	at = -1
	try := func(i, m int, t Tag) {
		if i >= 0 && (at < 0 || i < at) {
			at, n, tag = i, m, t
		}
	}
	if i := strings.Index(text, "counter packets "); i >= 0 && grew {
		end := strings.Index(text[i:], " bytes ")
		m := len("counter packets ")
		if end >= 0 {
			m = end + len(" bytes ")
			for i+m < len(text) && text[i+m] >= '0' && text[i+m] <= '9' {
				m++
			}
		}
		try(i, m, TagCounterMoved)
	}
	if i := strings.Index(text, "numgen random mod "); i >= 0 {
		m := len("numgen random mod ")
		for i+m < len(text) && text[i+m] >= '0' && text[i+m] <= '9' {
			m++
		}
		try(i, m, TagProbability)
	}
	if i := strings.Index(text, "dnat "); i >= 0 {
		try(i, len("dnat"), TagDNAT)
	}
	for _, pre := range []string{kubeproxy.NFTPrefixService, kubeproxy.NFTPrefixExternal, kubeproxy.NFTPrefixEndpoint, kubeproxy.NFTPrefixLocal} {
		for _, verb := range []string{"goto ", "jump "} {
			if i := strings.Index(text, verb+pre); i >= 0 {
				end := strings.IndexAny(text[i+len(verb):], " ,}")
				m := len(text) - i - len(verb)
				if end >= 0 {
					m = end
				}
				try(i+len(verb), m, chainTag(pre+"x"))
			}
		}
	}
	return at, n, tag
}
