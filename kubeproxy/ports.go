package kubeproxy

import "strings"

// Fields splits a rule's Text into its words as iptables-save quoted
// them (nil when a quote is left open), for a view that prints the rule
// in another layout.
func Fields(text string) []string {
	out, ok := words(text, nil)
	if !ok {
		return nil
	}
	return out
}

// ServicePorts lists the service ports the table sends to a chain of
// their own, each once, in the table's order: from KUBE-SERVICES'
// comments and protocols (iptables mode) or the service-ips map's
// targets (nftables mode). A view with no Services from the API server
// walks these.
func ServicePorts(t *Table) []ServicePort {
	var out []ServicePort
	seen := map[ServicePort]bool{}
	add := func(s ServicePort) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if t.Mode == ModeNFTables {
		mp := t.Map(NFTServiceIPsMap)
		if mp == nil {
			return nil
		}
		for _, e := range mp.Elems {
			if s, ok := nftServicePort(e.Target); ok {
				add(s)
			}
		}
		return out
	}
	c := t.Chain(ChainServices)
	if c == nil {
		return nil
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		if !strings.HasPrefix(r.Target, PrefixSVC) && !strings.HasPrefix(r.Target, PrefixSVL) &&
			!strings.HasPrefix(r.Target, PrefixEXT) && !strings.HasPrefix(r.Target, PrefixFW) {
			continue
		}
		m := r.Match()
		for _, k := range kinds {
			name, ok := strings.CutSuffix(m.Comment, " "+k)
			if !ok {
				continue
			}
			ns, rest, ok := strings.Cut(name, "/")
			if !ok {
				continue
			}
			svc, port, _ := strings.Cut(rest, ":")
			add(ServicePort{Namespace: ns, Name: svc, Port: port, Protocol: m.Protocol.Value})
		}
	}
	return out
}

// nftServicePort reads a service chain's name: service-HASH8-ns/name/proto/port.
func nftServicePort(chain string) (ServicePort, bool) {
	for _, p := range []string{NFTPrefixService, NFTPrefixExternal, NFTPrefixLocal} {
		if rest, ok := strings.CutPrefix(chain, p); ok {
			_, name, ok := strings.Cut(rest, "-")
			parts := strings.Split(name, "/")
			if !ok || len(parts) != 4 {
				return ServicePort{}, false
			}
			return ServicePort{Namespace: parts[0], Name: parts[1], Protocol: parts[2], Port: parts[3]}, true
		}
	}
	return ServicePort{}, false
}
