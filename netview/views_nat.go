package netview

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"podlab/kubeproxy"
)

// The NAT view: the rules kube-proxy wrote for the lesson's service ports,
// as `iptables -t nat -L CHAIN -v -n` prints them (nftables mode: as `nft
// list` does), KUBE-SERVICES down to each endpoint's DNAT. Only the walked
// chains are laid out: a node's table of thousands of services costs the
// walk's lookups, not a pass over every rule.

// natItem is one line of the view before its layout.
type natItem struct {
	kind  natKind
	key   string
	text  string // a note's text, a chain's or a map's name
	tag   Tag    // a chain's tag
	refs  int
	rule  kubeproxy.Rule
	label string
	why   string
	depth int // nftables: the indentation
	// pre and post wrap an nftables map's element: `elements = { `…`,`.
	pre, post string
}

type natKind int

const (
	natNote natKind = iota
	natChain
	natRule
	natGap
	natOpen  // nftables: `table ip kube-proxy {`, `chain … {`
	natClose // nftables: `}`
)

// natService is a service port the view follows, with what the cluster
// says of it.
type natService struct {
	port kubeproxy.ServicePort
	eps  []Endpoint // nil without Resources
}

func renderNAT(e, prev *Extra) []Line {
	items := planNAT(e)
	var moved map[string][2]uint64
	if prev != nil {
		moved = map[string][2]uint64{}
		for _, it := range planNAT(prev) {
			if it.kind == natRule {
				moved[it.key] = [2]uint64{it.rule.Packets, it.rule.Bytes}
			}
		}
	}
	nft := e.NAT.Mode == kubeproxy.ModeNFTables
	out := make([]Line, 0, len(items))
	for _, it := range items {
		var l Line
		switch it.kind {
		case natNote:
			l = noteLine(it.key, it.label, it.why, it.text)
		case natGap:
			l = Line{Key: it.key}
		case natChain:
			l = chainHeader(it)
		case natOpen, natClose:
			b := lineBuilder{key: it.key}
			b.add(strings.Repeat(" ", 8*it.depth), TagNone)
			if it.kind == natClose {
				b.add("}", TagNone)
			} else {
				// Only the name carries the chain's tag, not `chain`.
				word, name, _ := strings.Cut(it.text, " ")
				b.add(word+" ", TagNone)
				b.add(name, it.tag)
				b.add(" {", TagNone)
			}
			l = b.line()
		case natRule:
			was, seen := moved[it.key]
			grew := seen && it.rule.Counted && it.rule.Packets > was[0]
			if nft {
				l = nftRuleLine(it, grew)
			} else {
				l = iptRuleLine(it, grew)
			}
		}
		if it.kind != natNote {
			l.Label, l.Why = it.label, it.why
		}
		out = append(out, l)
	}
	return out
}

// natServices are the service ports the view follows: the Resources'
// Services' ports; without them, those of the lesson's namespace the
// table sends somewhere, or, when it has none, every one.
func natServices(e *Extra) []natService {
	var out []natService
	if r := e.Resources; r != nil {
		for i := range r.Services {
			s := &r.Services[i]
			eps := endpointsOf(r, s.Namespace, s.Name)
			for j := range s.Ports {
				p := &s.Ports[j]
				out = append(out, natService{port: kubeproxy.ServicePort{Namespace: s.Namespace, Name: s.Name, Port: p.Name, Protocol: p.Protocol}, eps: eps})
			}
		}
		return out
	}
	all := kubeproxy.ServicePorts(e.NAT)
	for _, p := range all {
		if p.Namespace == DefaultNamespace {
			out = append(out, natService{port: p})
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, p := range all {
		out = append(out, natService{port: p})
	}
	return out
}

// maxNATPorts bounds the service ports a view without the cluster's
// Services follows: each walk reads KUBE-SERVICES, so a node of 5,000
// services would cost 5,000 passes over it.
const maxNATPorts = 50

// natPlan gathers the items, keeping their keys unique: a key met again
// takes #2, #3…
type natPlan struct {
	items []natItem
	keys  map[string]int
}

func (p *natPlan) add(it natItem) {
	if n := p.keys[it.key]; n > 0 {
		p.keys[it.key] = n + 1
		it.key += "#" + strconv.Itoa(n+1)
	} else {
		p.keys[it.key] = 1
	}
	p.items = append(p.items, it)
}

func planNAT(e *Extra) []natItem {
	t := e.NAT
	svcs := natServices(e)
	if len(svcs) == 0 {
		why := "the cluster's Services, as read, have no port: there is no service port to follow"
		if e.Resources == nil {
			why = "the table sends no service port to a chain of its own: kube-proxy has written no service's rules here"
		}
		return []natItem{{kind: natNote, key: "nat:none", label: "no service port", why: why, text: "# no service port to follow"}}
	}
	more := 0
	if len(svcs) > maxNATPorts {
		svcs, more = svcs[:maxNATPorts], len(svcs)-maxNATPorts
	}
	walks := make([]kubeproxy.Walk, len(svcs))
	for i := range svcs {
		walks[i] = kubeproxy.WalkService(t, svcs[i].port)
	}
	p := &natPlan{keys: map[string]int{}}
	if t.Mode == kubeproxy.ModeNFTables {
		planNFT(p, t, svcs, walks)
	} else {
		planIPT(p, t, svcs, walks)
	}
	if more > 0 {
		p.add(natItem{kind: natNote, key: "nat:more", label: "service ports left out",
			why:  "without the cluster's Services podlab follows the first service ports the table lists; a lesson that reads the Services shows its own",
			text: fmt.Sprintf("# and %d more service ports, not shown", more)})
	}
	return p.items
}

// walkEntry is an entry of walks[s].
type walkEntry struct {
	e kubeproxy.Entry
	s int
}

// entriesIn are the walks' entries in chain (or nftables map), in the
// order the chain holds them.
func entriesIn(walks []kubeproxy.Walk, chain string) []walkEntry {
	var es []walkEntry
	for i, w := range walks {
		for _, en := range w.Entries {
			if en.Chain == chain {
				es = append(es, walkEntry{en, i})
			}
		}
	}
	slices.SortFunc(es, func(a, b walkEntry) int { return cmp.Compare(a.e.Index, b.e.Index) })
	return es
}

// planIPT lays the walks out as iptables -L prints their chains.
func planIPT(p *natPlan, t *kubeproxy.Table, svcs []natService, walks []kubeproxy.Walk) {
	refs := natRefs(t, walks)
	for _, chain := range []string{kubeproxy.ChainServices, kubeproxy.ChainNodePorts} {
		es := entriesIn(walks, chain)
		if len(es) == 0 {
			continue
		}
		p.chain(chain, refs)
		for _, en := range es {
			s := &svcs[en.s]
			p.add(natItem{kind: natRule, key: "nat:" + chain + ":" + en.e.Target + ":" + en.e.Kind, rule: en.e.Rule,
				label: en.e.Kind + " entry of " + s.port.String(), why: entryWhy(s, en.e, walks[en.s])})
		}
	}
	for i := range walks {
		s, w := &svcs[i], &walks[i]
		key := s.port.String() + "/" + strings.ToLower(s.port.Protocol)
		if len(p.items) > 0 {
			p.add(natItem{kind: natGap, key: "nat:gap:" + key})
		}
		p.add(natItem{kind: natNote, key: "nat:svc:" + key, text: svcNote(s, w), label: "service port " + s.port.String(), why: svcNoteWhy(s, w)})
		if !w.Found {
			continue
		}
		if c := t.Chain(w.EXT); c != nil {
			p.chain(w.EXT, refs)
			for _, r := range c.Rules {
				p.add(natItem{kind: natRule, key: "nat:" + w.EXT + ":" + r.Target, rule: r,
					label: "external traffic of " + s.port.String(), why: extWhy(s, w, &r)})
			}
		}
		hops := map[string]*kubeproxy.Hop{}
		for j := range w.Hops {
			hops[w.Hops[j].Chain] = &w.Hops[j]
		}
		svc := t.Chain(w.Chain)
		p.chain(w.Chain, refs, svcNamed(s, w))
		for _, r := range svc.Rules {
			it := natItem{kind: natRule, key: "nat:" + w.Chain + ":" + r.Target, rule: r}
			if h := hops[r.Target]; h != nil && strings.HasPrefix(r.Target, kubeproxy.PrefixSEP) {
				it.label, it.why = "endpoint "+h.ToDest+" of "+s.port.String(), hopWhy(s, w, h)
			} else {
				it.label, it.why = svcRuleWhy(s, &r)
			}
			p.add(it)
		}
		if svl := kubeproxy.SVLChain(s.port); svl != w.Chain {
			if c := t.Chain(svl); c != nil {
				p.chain(svl, refs, "externalTrafficPolicy Local: the node port and external IPs send here, to the endpoints on this node only")
				for _, r := range c.Rules {
					it := natItem{kind: natRule, key: "nat:" + svl + ":" + r.Target, rule: r}
					if h := hops[r.Target]; h != nil {
						it.label = "local endpoint " + h.ToDest + " of " + s.port.String()
						it.why = fmt.Sprintf("endpoint %s of %s, on this node: with externalTrafficPolicy Local, external traffic goes only to the endpoints on the node it reached, so its source address is kept (no masquerade) and a node without one does not take it", h.ToDest, s.port)
					} else {
						it.label, it.why = "rule of "+svl, "a rule of the service port's Local policy chain"
					}
					p.add(it)
				}
			}
		}
		for _, h := range w.Hops {
			c := t.Chain(h.Chain)
			if c == nil {
				continue
			}
			p.chain(h.Chain, refs, sepNamed(s, &h))
			for _, r := range c.Rules {
				it := natItem{kind: natRule, key: "nat:" + h.Chain + ":" + r.Target, rule: r}
				it.label, it.why = sepRuleWhy(s, &h, &r)
				p.add(it)
			}
		}
	}
}

// chain adds a blank line (but first) and a chain's header and columns.
func (p *natPlan) chain(name string, refs map[string]int, why ...string) {
	if n := len(p.items); n > 0 && p.items[n-1].kind != natNote {
		p.add(natItem{kind: natGap, key: "nat:gap:" + name})
	}
	w := chainWhy(name)
	if len(why) > 0 {
		w += "; " + why[0]
	}
	p.add(natItem{kind: natChain, key: "nat:chain:" + name, text: name, tag: chainTag(name), refs: refs[name],
		label: "chain " + name, why: w})
	p.add(natItem{kind: natNote, key: "nat:cols:" + name, label: "column headers",
		text: " pkts bytes target     prot opt in     out     source               destination         "})
}

// natRefs counts the jumps to each chain from the chains that reach the
// walked ones: the built-in chains, KUBE-SERVICES, KUBE-NODEPORTS and the
// walked service chains, which is every reference kube-proxy writes to
// them. (A count over the whole table would cost a pass over it.)
func natRefs(t *kubeproxy.Table, walks []kubeproxy.Walk) map[string]int {
	// Only the chains the view shows are counted: a map of every target
	// of KUBE-SERVICES would cost more than the rest of the view.
	refs := map[string]int{kubeproxy.ChainServices: 0, kubeproxy.ChainNodePorts: 0}
	for _, w := range walks {
		for _, name := range []string{w.EXT, w.SVC, kubeproxy.SVLChain(w.Service)} {
			refs[name] = 0
		}
		for _, h := range w.Hops {
			refs[h.Chain] = 0
		}
	}
	count := func(name string) {
		if c := t.Chain(name); c != nil {
			for i := range c.Rules {
				if n, ok := refs[c.Rules[i].Target]; ok {
					refs[c.Rules[i].Target] = n + 1
				}
			}
		}
	}
	for _, name := range []string{"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING", kubeproxy.ChainServices, kubeproxy.ChainNodePorts} {
		count(name)
	}
	done := map[string]bool{}
	for _, w := range walks {
		s := w.Service
		for _, name := range []string{w.EXT, w.SVC, kubeproxy.SVLChain(s), kubeproxy.FWChain(s)} {
			if !done[name] {
				done[name] = true
				count(name)
			}
		}
	}
	return refs
}

func chainTag(name string) Tag {
	switch {
	case name == kubeproxy.ChainServices, name == kubeproxy.NFTServiceIPsMap:
		return TagKubeServices
	case name == kubeproxy.ChainNodePorts, name == kubeproxy.NFTNodePortsMap,
		strings.HasPrefix(name, kubeproxy.PrefixEXT), strings.HasPrefix(name, kubeproxy.NFTPrefixExternal):
		return TagNodePort
	case strings.HasPrefix(name, kubeproxy.PrefixSVC), strings.HasPrefix(name, kubeproxy.PrefixSVL),
		strings.HasPrefix(name, kubeproxy.NFTPrefixService), strings.HasPrefix(name, kubeproxy.NFTPrefixLocal):
		return TagKubeSVC
	case strings.HasPrefix(name, kubeproxy.PrefixSEP), strings.HasPrefix(name, kubeproxy.NFTPrefixEndpoint):
		return TagKubeSEP
	case name == "DNAT":
		return TagDNAT
	}
	return TagNone
}

func chainWhy(name string) string {
	switch chainTag(name) {
	case TagKubeServices:
		return "where kube-proxy sends every new connection to a service port: PREROUTING (from pods and outside) and OUTPUT (from the node) jump here, and each rule matches one cluster IP and port"
	case TagNodePort:
		if name == kubeproxy.ChainNodePorts || name == kubeproxy.NFTNodePortsMap {
			return "connections to a node port on one of the node's own addresses: KUBE-SERVICES' last rule sends them here"
		}
		return "a service port's external traffic (node port, external IPs): marked for masquerade, then sent on to the service port's chain"
	case TagKubeSVC:
		return "a service port's chain: it picks one endpoint for each new connection"
	case TagKubeSEP:
		return "an endpoint's chain: it DNATs the connection to the endpoint's address and port"
	}
	return ""
}

func chainHeader(it natItem) Line {
	b := lineBuilder{key: it.key}
	b.add("Chain ", TagNone)
	b.add(it.text, it.tag)
	b.add(" ("+strconv.Itoa(it.refs)+" references)", TagNone)
	return b.line()
}

// svcNote is podlab's line above a service port's chains: the chain name
// it computes, and whether the table has it.
func svcNote(s *natService, w *kubeproxy.Walk) string {
	proto := strings.ToLower(s.port.Protocol)
	if !w.Found {
		return fmt.Sprintf("# %s %s: computed %s: not in the table", s.port, proto, w.SVC)
	}
	text := fmt.Sprintf("# %s %s: computed %s: found", s.port, proto, w.SVC)
	if w.Chain != w.SVC {
		text = fmt.Sprintf("# %s %s: computed %s: absent, %s found", s.port, proto, w.SVC, w.Chain)
	}
	named := 0
	for _, h := range w.Hops {
		if h.Named {
			named++
		}
	}
	text += fmt.Sprintf(", %s", plural(len(w.Hops), "endpoint"))
	if named != len(w.Hops) && w.Mode != kubeproxy.ModeNFTables {
		text += fmt.Sprintf(", %d KUBE-SEP not named as computed", len(w.Hops)-named)
	}
	return text
}

func svcNoteWhy(s *natService, w *kubeproxy.Walk) string {
	hash := fmt.Sprintf("%q + the first 16 characters of base32(sha256(%q))", kubeproxy.PrefixSVC, s.port.String()+strings.ToLower(s.port.Protocol))
	if w.Mode == kubeproxy.ModeNFTables {
		hash = "service- + an 8-character hash of namespace/name/protocol/port + that name"
	}
	why := fmt.Sprintf("kube-proxy names the chain of %s %s: %s, so it is the same in every lab", s.port, strings.ToLower(s.port.Protocol), hash)
	switch {
	case !w.Found:
		why += "; this table has no such chain: kube-proxy has written no rules for this service port (is it running, and does the Service have endpoints?)"
	case len(w.Hops) == 0:
		why += "; the chain is there but picks no endpoint: the Service has no ready endpoint"
	default:
		why += fmt.Sprintf("; the table has it, with %s", plural(len(w.Hops), "endpoint"))
	}
	return why
}

// svcNamed says how the service chain's name is computed and whether the
// table's is it.
func svcNamed(s *natService, w *kubeproxy.Walk) string {
	if w.Chain != w.SVC {
		return fmt.Sprintf("the name computed for %s %s is %s, absent: this is its Local policy chain", s.port, strings.ToLower(s.port.Protocol), w.SVC)
	}
	return fmt.Sprintf("its name is computed for %s %s (a hash of the port's name and protocol): %s, it matches, the same in every lab", s.port, strings.ToLower(s.port.Protocol), w.SVC)
}

// sepNamed says how an endpoint chain's name is computed and whether the
// table's is it.
func sepNamed(s *natService, h *kubeproxy.Hop) string {
	if h.Want == "" {
		return "it DNATs to no endpoint podlab could read, so its name cannot be computed"
	}
	if h.Named {
		return fmt.Sprintf("its name is computed from %s and the endpoint %s: %s, it matches (it differs from lab to lab, as the endpoint's address does)", s.port, h.ToDest, h.Want)
	}
	return fmt.Sprintf("the name computed from %s and the endpoint %s is %s: it does not match this chain's", s.port, h.ToDest, h.Want)
}

// matchesText is a rule's destination and port as a sentence says them.
func matchesText(r *kubeproxy.Rule) string {
	m := r.Match()
	var ws []string
	if m.Dest.Value != "" {
		ws = append(ws, strings.TrimSuffix(m.Dest.Value, "/32"))
	}
	if m.DPort.Value != "" {
		ws = append(ws, "port "+m.DPort.Value)
	}
	if m.Protocol.Value != "" {
		ws = append(ws, strings.ToLower(m.Protocol.Value))
	}
	return strings.Join(ws, " ")
}

// elemText is an nftables map element's key as a sentence says it:
// "198.19.33.14 . tcp . 2379 : goto …" is 198.19.33.14 port 2379 tcp.
func elemText(text string) string {
	key, _, _ := strings.Cut(text, " : ")
	parts := strings.Split(key, " . ")
	switch len(parts) {
	case 3:
		return parts[0] + " port " + parts[2] + " " + parts[1]
	case 2:
		return "port " + parts[1] + " " + parts[0]
	}
	return key
}

func entryWhy(s *natService, en kubeproxy.Entry, w kubeproxy.Walk) string {
	r := en.Rule
	what := matchesText(&r)
	if what == "" && w.Mode == kubeproxy.ModeNFTables {
		what = elemText(r.Text)
	}
	if en.Chain == kubeproxy.ChainNodePorts || en.Chain == kubeproxy.NFTNodePortsMap {
		return fmt.Sprintf("the node port of %s: new connections to %s on any of the node's own addresses go to %s", s.port, what, en.Target)
	}
	return fmt.Sprintf("the %s entry of %s: new connections to %s go to %s, the chain computed for it", en.Kind, s.port, what, en.Target)
}

func extWhy(s *natService, w *kubeproxy.Walk, r *kubeproxy.Rule) string {
	if r.Target == "KUBE-MARK-MASQ" {
		return "traffic from outside the cluster to the node port is marked for masquerade: leaving the node its source becomes the node's address, so the reply comes back this way"
	}
	if r.Target == kubeproxy.SVLChain(s.port) && r.Target != w.Chain {
		return fmt.Sprintf("then on to %s, the Local policy chain: externalTrafficPolicy Local sends external traffic only to the endpoints on this node", r.Target)
	}
	if r.Target == w.Chain {
		if m := r.Match(); m.Source.Value != "" || m.Comment != "" && !strings.HasPrefix(m.Comment, "masquerade") {
			return fmt.Sprintf("traffic from pods or from the node itself goes on to %s, the service port's chain, as traffic to the cluster IP", r.Target)
		}
		return fmt.Sprintf("then on to %s, the service port's chain: a node port's connection picks an endpoint as one to the cluster IP does", r.Target)
	}
	return "a rule of the service port's external chain"
}

func svcRuleWhy(s *natService, r *kubeproxy.Rule) (label, why string) {
	if r.Target == "KUBE-MARK-MASQ" {
		m := r.Match()
		src := "outside the pod CIDR"
		if m.Source.Not && m.Source.Value != "" {
			src = "outside the pod CIDR " + m.Source.Value
		}
		return "masquerade mark", fmt.Sprintf("a connection to %s from %s (not from a pod) is marked for masquerade, so the reply comes back through this node", matchesText(r), src)
	}
	return "rule of " + s.port.String(), "a rule of the service port's chain"
}

// hopWhy explains the rule that picks an endpoint.
func hopWhy(s *natService, w *kubeproxy.Walk, h *kubeproxy.Hop) string {
	// The label names the endpoint and the port; this says whose it is.
	ep := ""
	if who := endpointOwner(s.eps, h.ToDest); who != "" {
		ep = who + "; "
	}
	n := len(w.Hops)
	if n == 1 {
		return ep + "the port's only endpoint: every new connection to it ends here"
	}
	reach := "every new connection reaches this rule"
	if h.Reach < 1-1e-9 {
		reach = fmt.Sprintf("this rule is reached by %s of new connections", kubeproxy.Fraction(h.Reach))
	}
	take := "it takes all that reach it: the last rule needs no statistic match"
	if h.Probability != "" {
		take = fmt.Sprintf("probability %s of all that reach it", trimProbability(h.Probability))
	}
	return fmt.Sprintf("%s%s (%s): %s of new connections end here, as each of the %d endpoints gets 1/%d",
		ep, reach, take, kubeproxy.Fraction(h.Share), n, n)
}

// trimProbability shortens kube-proxy's ten decimals: 0.50000000000 → 0.5.
func trimProbability(p string) string {
	if !strings.Contains(p, ".") {
		return p
	}
	q := strings.TrimSuffix(strings.TrimRight(p, "0"), ".")
	if len(q) > 5 {
		return q[:5] + "…"
	}
	return q
}

// endpointOwner names the pod and node behind "ip:port".
func endpointOwner(eps []Endpoint, dest string) string {
	ap, err := netip.ParseAddrPort(dest)
	if err != nil {
		return ""
	}
	for _, ep := range eps {
		if slices.Contains(ep.Addresses, ap.Addr()) {
			var ws []string
			if ep.Pod != "" {
				ws = append(ws, "pod "+ep.Pod)
			}
			if ep.Node != "" {
				ws = append(ws, "on "+ep.Node)
			}
			return strings.Join(ws, " ")
		}
	}
	return ""
}

func sepRuleWhy(s *natService, h *kubeproxy.Hop, r *kubeproxy.Rule) (label, why string) {
	switch {
	case r.Target == "KUBE-MARK-MASQ":
		return "hairpin mark", "a connection from the endpoint itself (a pod reaching itself through the Service) is marked for masquerade, so the reply is not sent straight back to the pod"
	case r.Target == "DNAT":
		to := r.Match().ToDest
		who := endpointOwner(s.eps, to)
		if who != "" {
			who = ", " + who
		}
		why := fmt.Sprintf("DNAT: the destination becomes %s%s; the connection to %s ends at this endpoint", to, who, s.port)
		named := fmt.Sprintf("; the chain's name is computed from %s and %s: %s", s.port, to, h.Want)
		if h.Named {
			named += ", as the table has it (it differs from lab to lab, as the endpoint's address does)"
		} else {
			named += ", but the table names it " + h.Chain
		}
		return "DNAT to " + to, why + named
	}
	return "rule of " + h.Chain, "a rule of the endpoint's chain"
}
