package netview

// The model's types as JSONWriter writes them: one field list per type,
// in the order of its fields, each member by the rule of its json tag.
// TestJSONWriterMatchesEncodingJSON sets every field of every type by
// reflection, so a field added to a type and not to its list here fails
// it.

// Snapshot writes s as its json tags say.
func (j *JSONWriter) Snapshot(s *Snapshot) {
	j.BeginObject()
	j.key("ns")
	j.namespace(&s.NS)
	j.key("taken_at")
	j.time(s.TakenAt)
	j.key("links")
	list(j, s.Links, (*JSONWriter).link)
	j.key("addrs")
	list(j, s.Addrs, (*JSONWriter).addrEntry)
	j.key("routes")
	list(j, s.Routes, (*JSONWriter).route)
	j.key("neighs")
	list(j, s.Neighs, (*JSONWriter).neigh)
	j.intMapKeyOmitEmpty("sysctls", s.Sysctls)
	j.EndObject()
}

func (j *JSONWriter) namespace(n *Namespace) {
	j.BeginObject()
	j.stringKey("name", n.Name)
	j.stringKeyOmitEmpty("path", n.Path)
	j.intKeyOmitEmpty("pid", n.Pid)
	if n.Inode != 0 {
		j.key("inode")
		j.uint(n.Inode)
	}
	if len(n.NSIDs) > 0 {
		j.key("nsids")
		j.nsidMap(n.NSIDs)
	}
	j.EndObject()
}

func (j *JSONWriter) link(l *Link) {
	j.BeginObject()
	j.intKey("index", l.Index)
	j.stringKey("name", l.Name)
	j.stringKeyOmitEmpty("kind", l.Kind)
	j.key("flags")
	j.strings(l.Flags)
	j.intKey("mtu", l.MTU)
	j.stringKeyOmitEmpty("qdisc", l.Qdisc)
	j.stringKeyOmitEmpty("operstate", l.OperState)
	j.stringKeyOmitEmpty("group", l.Group)
	j.intKeyOmitEmpty("txqlen", l.TxQLen)
	j.stringKeyOmitEmpty("link_type", l.LinkType)
	j.stringKeyOmitEmpty("mac", l.MAC)
	j.stringKeyOmitEmpty("broadcast", l.Broadcast)
	j.intKeyOmitEmpty("parent_index", l.ParentIndex)
	j.intKey("link_netnsid", l.LinkNetNSID)
	j.intKeyOmitEmpty("master_index", l.MasterIndex)
	j.intMapKeyOmitEmpty("sysctls", l.Sysctls)
	j.EndObject()
}

func (j *JSONWriter) addrEntry(a *Addr) {
	j.BeginObject()
	j.intKey("index", a.Index)
	j.stringKey("dev", a.Dev)
	j.prefixKey("prefix", a.Prefix)
	j.prefixKeyOmitZero("peer", a.Peer)
	j.addrKeyOmitZero("broadcast", a.Broadcast)
	j.stringKey("scope", a.Scope)
	j.stringKeyOmitEmpty("label", a.Label)
	j.stringsKeyOmitEmpty("flags", a.Flags)
	j.key("valid_lft")
	j.uint(uint64(a.ValidLft))
	j.key("preferred_lft")
	j.uint(uint64(a.PreferredLft))
	j.EndObject()
}

func (j *JSONWriter) route(r *Route) {
	j.BeginObject()
	j.intKey("family", r.Family)
	j.intKey("table", r.Table)
	j.stringKey("type", r.Type)
	j.prefixKey("dst", r.Dst)
	j.addrKeyOmitZero("gateway", r.Gw)
	j.stringKeyOmitEmpty("dev", r.Dev)
	j.intKeyOmitEmpty("dev_index", r.DevIndex)
	j.stringKey("scope", r.Scope)
	j.intKey("protocol", r.Protocol)
	j.addrKeyOmitZero("prefsrc", r.Src)
	j.intKeyOmitEmpty("metric", r.Metric)
	j.stringsKeyOmitEmpty("flags", r.Flags)
	if len(r.NextHops) > 0 {
		j.key("nexthops")
		list(j, r.NextHops, (*JSONWriter).nextHop)
	}
	j.EndObject()
}

func (j *JSONWriter) nextHop(h *NextHop) {
	j.BeginObject()
	j.addrKeyOmitZero("gateway", h.Gw)
	j.stringKeyOmitEmpty("dev", h.Dev)
	j.intKeyOmitEmpty("dev_index", h.DevIndex)
	j.intKeyOmitEmpty("weight", h.Weight)
	j.stringsKeyOmitEmpty("flags", h.Flags)
	j.EndObject()
}

func (j *JSONWriter) neigh(n *Neigh) {
	j.BeginObject()
	j.intKey("index", n.Index)
	j.stringKey("dev", n.Dev)
	j.addrKey("ip", n.IP)
	j.stringKeyOmitEmpty("mac", n.MAC)
	j.stringsKeyOmitEmpty("state", n.State)
	j.stringsKeyOmitEmpty("flags", n.Flags)
	j.EndObject()
}

// Facts writes f as its json tags say.
func (j *JSONWriter) Facts(f *Facts) {
	j.BeginObject()
	j.key("pod")
	j.podFact(&f.Pod)
	j.stringKey("node", f.Node)
	j.stringKeyOmitEmpty("mode", string(f.Mode))
	j.stringKeyOmitEmpty("interface_prefix", f.InterfacePrefix)
	if len(f.Pods) > 0 {
		j.key("pods")
		list(j, f.Pods, (*JSONWriter).podFact)
	}
	if len(f.Nodes) > 0 {
		j.key("nodes")
		list(j, f.Nodes, (*JSONWriter).nodeFact)
	}
	if len(f.Blocks) > 0 {
		j.key("blocks")
		list(j, f.Blocks, (*JSONWriter).block)
	}
	j.intKeyOmitEmpty("block_size", f.BlockSize)
	j.prefixKeyOmitZero("cluster_cidr", f.ClusterCIDR)
	j.prefixKeyOmitZero("cluster_cidr6", f.ClusterCIDR6)
	j.intKeyOmitEmpty("block_size6", f.BlockSize6)
	j.EndObject()
}

func (j *JSONWriter) podFact(p *PodFact) {
	j.BeginObject()
	j.stringKey("namespace", p.Namespace)
	j.stringKey("name", p.Name)
	j.addrKeyOmitZero("ip", p.IP)
	j.addrKeyOmitZero("ip6", p.IP6)
	j.stringKeyOmitEmpty("node", p.Node)
	j.stringKeyOmitEmpty("phase", p.Phase)
	j.EndObject()
}

func (j *JSONWriter) nodeFact(n *NodeFact) {
	j.BeginObject()
	j.stringKey("name", n.Name)
	j.addrKeyOmitZero("internal_ip", n.InternalIP)
	j.addrKeyOmitZero("internal_ip6", n.InternalIP6)
	j.EndObject()
}

func (j *JSONWriter) block(b *Block) {
	j.BeginObject()
	j.prefixKey("cidr", b.CIDR)
	j.stringKey("node", b.Node)
	j.EndObject()
}

// Analysis writes a as its json tags say; nil is null.
func (j *JSONWriter) Analysis(a *Analysis) {
	if a == nil {
		j.Null()
		return
	}
	j.BeginObject()
	j.key("veth")
	j.vethPair(&a.Veth)
	j.key("gateway")
	j.gateway(&a.Gateway)
	if a.Gateway6 != nil {
		j.key("gateway6")
		j.gateway6(a.Gateway6)
	}
	j.key("routes")
	list(j, a.Routes, (*JSONWriter).routeClass)
	j.stringKeyOmitEmpty("expected_host_if", a.ExpectedHostIf)
	j.stringsKeyOmitEmpty("problems", a.Problems)
	j.EndObject()
}

func (j *JSONWriter) vethPair(v *VethPair) {
	j.BeginObject()
	j.stringKey("pod_if", v.PodIf)
	j.intKey("pod_index", v.PodIndex)
	j.intKey("pod_peer_index", v.PodPeerIndex)
	j.intKey("pod_link_netnsid", v.PodNetNSID)
	j.stringKey("host_if", v.HostIf)
	j.intKey("host_index", v.HostIndex)
	j.intKey("host_peer_index", v.HostPeerIndex)
	j.intKey("host_link_netnsid", v.HostNetNSID)
	j.stringKeyOmitEmpty("host_link_netns", v.HostLinkNetns)
	j.boolKey("agree", v.Agree)
	j.stringKey("reason", v.Reason)
	j.EndObject()
}

func (j *JSONWriter) gateway(g *Gateway) {
	j.BeginObject()
	j.addrKey("address", g.Address)
	j.boolKey("default_route", g.DefaultRoute)
	j.boolKey("link_route", g.LinkRoute)
	j.stringKeyOmitEmpty("neigh_mac", g.NeighMAC)
	j.stringKeyOmitEmpty("neigh_state", g.NeighState)
	j.boolKey("host_proxy_arp", g.HostProxyARP)
	j.stringKeyOmitEmpty("host_mac", g.HostMAC)
	j.key("confirmed")
	j.strings(g.Confirmed)
	j.EndObject()
}

// routeClass leaves out the route itself, as its json tag says.
func (j *JSONWriter) routeClass(c *RouteClass) {
	j.BeginObject()
	j.stringKey("side", string(c.Side))
	j.stringKey("dst", c.Dst)
	j.stringKey("class", string(c.Class))
	// encoding/json writes none of an embedded nil pointer's fields.
	if w := c.RouteWords; w != nil {
		j.stringKeyOmitEmpty("dev", w.Dev)
		j.stringKeyOmitEmpty("gateway", w.Gateway)
		j.stringKeyOmitEmpty("proto", w.Proto)
		j.stringKeyOmitEmpty("type", w.Type)
		j.stringKeyOmitEmpty("peer", w.Peer)
		j.stringKeyOmitEmpty("pod", w.Pod)
		j.stringKeyOmitEmpty("encap", w.Encap)
		j.stringKey("reason", w.Reason)
		if w.NextHops != nil {
			j.key("nexthops")
			list(j, *w.NextHops, (*JSONWriter).hopWords)
		}
	}
	j.EndObject()
}

func (j *JSONWriter) hopWords(h *HopWords) {
	j.BeginObject()
	j.stringKeyOmitEmpty("gateway", h.Gateway)
	j.stringKeyOmitEmpty("dev", h.Dev)
	j.stringKeyOmitEmpty("peer", h.Peer)
	j.EndObject()
}

func (j *JSONWriter) gateway6(g *Gateway6) {
	j.BeginObject()
	j.addrKey("address", g.Address)
	j.boolKey("default_route", g.DefaultRoute)
	j.boolKey("host_owns", g.HostOwns)
	j.stringKeyOmitEmpty("neigh_mac", g.NeighMAC)
	j.stringKeyOmitEmpty("neigh_state", g.NeighState)
	j.key("confirmed")
	j.strings(g.Confirmed)
	j.EndObject()
}
