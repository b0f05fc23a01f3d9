package sandbox

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"podlab/netview"
)

// builder builds one sandbox, recording each item before creating it.
type builder struct {
	o     Options
	bird  string
	st    *State
	nodes map[string]*NodeInfo
	// kubeBins are etcd's, kube-apiserver's and kube-proxy's paths (--kube).
	kubeBins map[string]string
}

func newBuilder(o Options, bird string) *builder {
	o = o.withActions()
	st := &State{
		Prefix:       o.Prefix,
		Mode:         o.Mode,
		Borrowed:     o.Borrowed,
		StaticRoutes: o.StaticRoutes,
		IPv6:         o.IPv6,
		ControlPlane: o.ControlPlane,
		Host1:        o.Host1,
		ExternalPool: o.ExternalPool,
		Actions:      o.Actions,
		Phase:        PhaseBuilding,
		StartedAt:    time.Now().UTC().Truncate(time.Millisecond),
	}
	for _, n := range nodeSpecs {
		ni := NodeInfo{Name: n.name, NS: o.Prefix + "-" + n.name, IP: n.ip, Block: n.block}
		if o.Mode == netview.ModeVXLAN {
			ni.VTEP = vtepIP(n.block)
			ni.VTEPMAC = vtepMAC(ni.VTEP).String()
		}
		if o.IPv6 {
			ni.IP6, ni.Block6 = nodeIP6Of(n.ip), block6Of(n.block)
		}
		if o.ExternalPool && !(o.ControlPlane && n.name == controlNode) {
			// Calico gives a node a block of a pool when a pod there
			// needs an address from it.
			ni.ExtBlock = externalBlocks[n.name]
		}
		st.Nodes = append(st.Nodes, ni)
	}
	b := &builder{o: o, bird: bird, st: st, nodes: map[string]*NodeInfo{}}
	for i := range st.Nodes {
		b.nodes[st.Nodes[i].Name] = &st.Nodes[i]
	}
	return b
}

func (b *builder) pods() []podSpec {
	ps := slices.Clone(podSpecs)
	if b.o.ControlPlane {
		ps = slices.DeleteFunc(ps, func(p podSpec) bool { return p.node == controlNode })
	}
	if b.o.Borrowed {
		ps = append(ps, borrowedPod)
	}
	if b.o.ExternalPool {
		for _, p := range externalPods {
			if !b.o.ControlPlane || p.node != controlNode {
				ps = append(ps, p)
			}
		}
	}
	return ps
}

// checkFree refuses to start when a name we would create is taken by
// something the state file does not record.
func (b *builder) checkFree() error {
	names := []string{b.st.FabricNS()}
	for _, n := range b.st.Nodes {
		names = append(names, n.NS)
	}
	if b.o.Host1 {
		names = append(names, b.st.Host1NS())
	}
	for _, p := range b.pods() {
		names = append(names, podNSName(b.o.Prefix, p.namespace, p.name))
	}
	return free(b.o, names...)
}

// free refuses names of namespaces that exist.
func free(o Options, names ...string) error {
	for _, n := range names {
		if nsExists(n) {
			return fmt.Errorf("namespace %s exists but is not in podlab's state %s: remove it (ip netns del %s) or use another --prefix", n, o.statePath(), n)
		}
	}
	return nil
}

func (b *builder) save() error { return b.st.write(b.o) }

// step ends a build step: the context and the test hook may stop it.
func (b *builder) step(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sandbox build stopped after %s: %w", name, err)
	}
	if stepHook != nil {
		return stepHook(name)
	}
	return nil
}

func (b *builder) build(ctx context.Context) error {
	d, err := b.o.fileDirFD(true)
	if err != nil {
		return err
	}
	d.Close()
	if err := b.save(); err != nil {
		return err
	}
	if err := b.fabric(); err != nil {
		return err
	}
	if err := b.step(ctx, "fabric"); err != nil {
		return err
	}
	for _, n := range nodeSpecs {
		if err := b.node(b.nodes[n.name]); err != nil {
			return err
		}
		if err := b.step(ctx, "node "+n.name); err != nil {
			return err
		}
	}
	if b.o.Host1 {
		if err := b.host1(); err != nil {
			return err
		}
		if err := b.step(ctx, host1Name); err != nil {
			return err
		}
	}
	// BIRD starts as soon as the nodes and their uplinks exist: its
	// connect delay (2 s, as Calico's) then runs while the pods are wired
	// instead of after. It learns the pods' routes on its kernel scans.
	start := time.Now()
	if !b.o.StaticRoutes {
		if err := b.startBirds(ctx); err != nil {
			return err
		}
		if err := b.step(ctx, "bird"); err != nil {
			return err
		}
	}
	next := map[string]int{}
	for _, p := range b.pods() {
		if next[p.node] == 0 {
			next[p.node] = firstCaliIf
		}
		if err := b.pod(p, next[p.node]); err != nil {
			return err
		}
		next[p.node]++
		if err := b.step(ctx, "pod "+p.namespace+"/"+p.name); err != nil {
			return err
		}
	}
	if b.o.Mode == netview.ModeVXLAN {
		if err := b.vxlan(); err != nil {
			return err
		}
		if err := b.step(ctx, "vxlan"); err != nil {
			return err
		}
	}
	if b.o.StaticRoutes {
		if err := b.staticRoutes(); err != nil {
			return err
		}
	}
	if err := b.converge(ctx); err != nil {
		return err
	}
	b.st.ConvergedMS = time.Since(start).Milliseconds()
	if b.o.Kube {
		if err := b.kube(ctx); err != nil {
			return err
		}
	}
	b.st.Phase = PhaseUp
	b.st.UpAt = time.Now().UTC().Truncate(time.Millisecond)
	return b.save()
}

// newNS creates a namespace, records it with its inode, and brings its
// loopback up. Only a namespace this call created is recorded: a name
// someone else took (createNS fails) is never ours to delete. Killed
// between the two, the namespace is left unrecorded, and the next up
// refuses its name rather than guess.
func (b *builder) newNS(name, role, owner string) error {
	ino, err := createNS(name)
	if err != nil {
		return err
	}
	b.st.Namespaces = append(b.st.Namespaces, NSRecord{Name: name, Role: role, Owner: owner, Inode: ino})
	if err := b.save(); err != nil {
		return err
	}
	h, ns, err := handle(name)
	if err != nil {
		return err
	}
	defer ns.Close()
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err == nil {
		err = h.LinkSetUp(lo)
	}
	if err != nil {
		return fmt.Errorf("loopback up in %s: %w", name, err)
	}
	return nil
}

func (b *builder) recordLinks(ls ...LinkRec) error {
	b.st.Links = append(b.st.Links, ls...)
	return b.save()
}

func (b *builder) setLinkIndex(ns, name string, idx int) {
	for i := range b.st.Links {
		if b.st.Links[i].NS == ns && b.st.Links[i].Name == name {
			b.st.Links[i].Index = idx
		}
	}
}

func ipnet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func host32(a netip.Addr) *net.IPNet { return ipnet(netip.PrefixFrom(a, 32)) }

func prefixOf(n *net.IPNet) netip.Prefix {
	if n == nil {
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	}
	a, _ := netip.AddrFromSlice(n.IP)
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones)
}

// fabric is the network the nodes share: a bridge in its own namespace,
// holding the stand-in gateway and, without --host1, host1's address,
// with no uplink.
func (b *builder) fabric() error {
	name := b.st.FabricNS()
	if err := b.newNS(name, "fabric", "fabric"); err != nil {
		return err
	}
	if err := b.recordLinks(LinkRec{NS: name, Name: bridgeName, Kind: "bridge"}); err != nil {
		return err
	}
	h, ns, err := handle(name)
	if err != nil {
		return err
	}
	defer ns.Close()
	defer h.Close()
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: bridgeName, MTU: nodeMTU}}
	if err := h.LinkAdd(br); err != nil {
		return fmt.Errorf("add bridge in %s: %w", name, err)
	}
	addrs := []netip.Addr{host1IP, gatewayIP}
	if b.o.Host1 {
		addrs = addrs[1:] // host1 has a namespace of its own
	}
	for _, a := range addrs {
		if err := h.AddrAdd(br, &netlink.Addr{IPNet: ipnet(netip.PrefixFrom(a, fabricNet.Bits()))}); err != nil {
			return fmt.Errorf("address %s on the fabric: %w", a, err)
		}
	}
	if err := h.LinkSetUp(br); err != nil {
		return fmt.Errorf("fabric bridge up: %w", err)
	}
	return nil
}

// node makes a node's namespace with eth0 (index 2) on the fabric, its
// address, a default route to the stand-in gateway, and ip_forward=1.
func (b *builder) node(n *NodeInfo) error {
	if err := b.newNS(n.NS, "node", n.Name); err != nil {
		return err
	}
	h, ns, err := handle(n.NS)
	if err != nil {
		return err
	}
	defer ns.Close()
	defer h.Close()
	eth0, err := b.uplink(h, n.NS, n.Name, n.IP)
	if err != nil {
		return err
	}
	if n.IP6.IsValid() {
		if err := node6(h, eth0, n); err != nil {
			return err
		}
	}
	def := &netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: gatewayIP.AsSlice(), Protocol: unix.RTPROT_BOOT}
	if err := h.RouteAdd(def); err != nil {
		return fmt.Errorf("default route on %s: %w", n.Name, err)
	}
	if err := setSysctls(n.NS, "", []sysctl{{netview.SysctlIPForward, "1"}}); err != nil {
		return err
	}
	return b.save()
}

// uplink puts a namespace on the fabric: eth0 (index 2) in it, its peer
// named port on the fabric's bridge, and ip on eth0 within the fabric's
// /20, both ends up.
func (b *builder) uplink(h *netlink.Handle, nsName, port string, ip netip.Addr) (netlink.Link, error) {
	fab := b.st.FabricNS()
	if err := b.recordLinks(
		LinkRec{NS: nsName, Name: "eth0", Kind: "veth", Peer: fab + "/" + port},
		LinkRec{NS: fab, Name: port, Kind: "veth", Peer: nsName + "/eth0"},
	); err != nil {
		return nil, err
	}
	fh, fns, err := handle(fab)
	if err != nil {
		return nil, err
	}
	defer fns.Close()
	defer fh.Close()
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: "eth0", Index: nodeEthIdx, MTU: nodeMTU},
		PeerName:      port,
		PeerNamespace: netlink.NsFd(fns),
	}
	if err := h.LinkAdd(veth); err != nil {
		return nil, fmt.Errorf("add eth0 in %s: %w", nsName, err)
	}
	br, err := fh.LinkByName(bridgeName)
	if err != nil {
		return nil, fmt.Errorf("find %s in %s: %w", bridgeName, fab, err)
	}
	pl, err := fh.LinkByName(port)
	if err != nil {
		return nil, fmt.Errorf("find %s in %s: %w", port, fab, err)
	}
	if err := fh.LinkSetMaster(pl, br); err != nil {
		return nil, fmt.Errorf("attach %s to the fabric: %w", port, err)
	}
	if err := fh.LinkSetUp(pl); err != nil {
		return nil, fmt.Errorf("set %s up in %s: %w", port, fab, err)
	}
	eth0, err := h.LinkByName("eth0")
	if err != nil {
		return nil, fmt.Errorf("find eth0 in %s: %w", nsName, err)
	}
	b.setLinkIndex(nsName, "eth0", eth0.Attrs().Index)
	if err := h.AddrAdd(eth0, &netlink.Addr{IPNet: ipnet(netip.PrefixFrom(ip, fabricNet.Bits()))}); err != nil {
		return nil, fmt.Errorf("address %s on %s eth0: %w", ip, port, err)
	}
	if err := h.LinkSetUp(eth0); err != nil {
		return nil, fmt.Errorf("set eth0 up in %s: %w", nsName, err)
	}
	return eth0, nil
}

// pod wires one pod as Calico's CNI plugin does: the veth is made in the
// pod's namespace (eth0 and the host end, already named as Felix names
// it, with Calico's MAC), the pod side gets its /32 and the two routes to
// Calico's gateway, then the host end moves to the node, where it gets its
// sysctls and the /32 route Felix writes.
func (b *builder) pod(p podSpec, hostIdx int) error {
	n := b.nodes[p.node]
	nsName := podNSName(b.o.Prefix, p.namespace, p.name)
	hostIf := vethName(p.namespace, p.name)
	var ip6 netip.Addr
	if b.st.IPv6 {
		ip6 = ip6Of(p.ip)
	}
	b.st.Pods = append(b.st.Pods, PodInfo{
		Namespace: p.namespace, Name: p.name, Node: p.node, IP: p.ip, NS: nsName, HostIf: hostIf, IP6: ip6,
	})
	if err := b.newNS(nsName, "pod", p.namespace+"/"+p.name); err != nil {
		return err
	}
	if err := b.recordLinks(
		LinkRec{NS: nsName, Name: "eth0", Kind: "veth", Peer: n.NS + "/" + hostIf},
		LinkRec{NS: n.NS, Name: hostIf, Kind: "veth", Peer: nsName + "/eth0"},
	); err != nil {
		return err
	}
	ph, pns, err := handle(nsName)
	if err != nil {
		return err
	}
	defer pns.Close()
	defer ph.Close()
	nh, nns, err := handle(n.NS)
	if err != nil {
		return err
	}
	defer nns.Close()
	defer nh.Close()

	v := vethSpec{Name: "eth0", Index: podEthIdx, PeerName: hostIf, PeerIndex: hostIdx, MTU: podMTU, PeerMAC: hostMAC}
	if err := addVeth(pns, v); err != nil {
		// The numbers are cosmetic: let the kernel choose if it refuses.
		v.Index, v.PeerIndex = 0, 0
		if err2 := addVeth(pns, v); err2 != nil {
			return fmt.Errorf("pod %s/%s: %w", p.namespace, p.name, err2)
		}
	}
	host, err := ph.LinkByName(hostIf)
	if err != nil {
		return fmt.Errorf("find %s in %s: %w", hostIf, nsName, err)
	}
	eth0, err := ph.LinkByName("eth0")
	if err != nil {
		return fmt.Errorf("find eth0 in %s: %w", nsName, err)
	}
	if ip6.IsValid() {
		if err := noDAD(nsName, hostIf); err != nil {
			return err
		}
	}
	// brd equal to the address, as the lesson's `ip addr` shows.
	addr := &netlink.Addr{IPNet: host32(p.ip), Broadcast: p.ip.AsSlice()}
	if err := ph.AddrAdd(eth0, addr); err != nil {
		return fmt.Errorf("pod %s address: %w", p.name, err)
	}
	if err := ph.LinkSetUp(eth0); err != nil {
		return fmt.Errorf("set %s up in %s: %w", eth0.Attrs().Name, nsName, err)
	}
	gw := &netlink.Route{LinkIndex: eth0.Attrs().Index, Dst: host32(netview.CalicoGateway), Scope: netlink.SCOPE_LINK, Protocol: unix.RTPROT_BOOT}
	if err := ph.RouteAdd(gw); err != nil {
		return fmt.Errorf("pod %s route to %s: %w", p.name, netview.CalicoGateway, err)
	}
	def := &netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: netview.CalicoGateway.AsSlice(), Protocol: unix.RTPROT_BOOT}
	if err := ph.RouteAdd(def); err != nil {
		return fmt.Errorf("pod %s default route: %w", p.name, err)
	}
	if ip6.IsValid() {
		if err := pod6(ph, eth0, ip6); err != nil {
			return fmt.Errorf("pod %s: %w", p.name, err)
		}
	}
	if err := ph.LinkSetNsFd(host, int(nns)); err != nil {
		return fmt.Errorf("move %s to %s: %w", hostIf, n.NS, err)
	}
	host, err = nh.LinkByName(hostIf)
	if err != nil {
		return fmt.Errorf("find %s in %s: %w", hostIf, n.NS, err)
	}
	if ip6.IsValid() {
		// Before the link is up, so its link-local address skips DAD.
		if err := setSysctls(n.NS, hostIf, hostSysctls6); err != nil {
			return err
		}
	}
	if err := nh.LinkSetUp(host); err != nil {
		return fmt.Errorf("set %s up in %s: %w", host.Attrs().Name, n.NS, err)
	}
	if err := setSysctls(n.NS, hostIf, calicoSysctls); err != nil {
		return err
	}
	// Felix writes the route with RTPROT_BOOT, so `ip route` shows no proto.
	r := &netlink.Route{LinkIndex: host.Attrs().Index, Dst: host32(p.ip), Scope: netlink.SCOPE_LINK, Protocol: unix.RTPROT_BOOT}
	if err := nh.RouteAdd(r); err != nil {
		return fmt.Errorf("route to pod %s on %s: %w", p.name, n.Name, err)
	}
	if ip6.IsValid() {
		if err := host6(nh, host, ip6); err != nil {
			return fmt.Errorf("pod %s on %s: %w", p.name, n.Name, err)
		}
	}
	pi := &b.st.Pods[len(b.st.Pods)-1]
	pi.HostIndex = host.Attrs().Index
	pi.PodIndex = eth0.Attrs().Index
	b.setLinkIndex(n.NS, hostIf, pi.HostIndex)
	b.setLinkIndex(nsName, "eth0", pi.PodIndex)
	return b.save()
}

func (b *builder) addFile(p string) error {
	b.st.Files = append(b.st.Files, p)
	return b.save()
}

// startBirds writes each node's BIRD config and starts it in the node's
// namespace.
func (b *builder) startBirds(ctx context.Context) error {
	dir := b.o.fileDir()
	for _, n := range b.st.Nodes {
		conf, sock, pid, log := birdFiles(dir, n.Name)
		text, err := b.nodeBirdConfig(n)
		if err != nil {
			return err
		}
		p := Process{Node: n.Name, NS: n.NS, Cmdline: birdCmdline(b.bird, conf, sock, pid), PidFile: pid, Log: log, Socket: sock}
		if err := b.runBird(ctx, p, conf, text); err != nil {
			return err
		}
	}
	if b.o.Host1 {
		return b.startHost1Bird(ctx)
	}
	return nil
}

// runBird records a BIRD's files and process, writes its config and
// starts it, then records its pid.
func (b *builder) runBird(ctx context.Context, p Process, conf, text string) error {
	for _, f := range []string{conf, p.Socket, p.PidFile, p.Log, p.Log + ".stderr"} {
		if err := b.addFile(f); err != nil {
			return err
		}
	}
	if err := b.writeConf(conf, text, p.Socket, p.PidFile, p.Log); err != nil {
		return fmt.Errorf("write %s: %w", conf, err)
	}
	b.st.Processes = append(b.st.Processes, p)
	if err := b.save(); err != nil {
		return err
	}
	got, err := startBird(ctx, b.o, b.bird, p)
	if err != nil {
		return err
	}
	b.st.Processes[len(b.st.Processes)-1].Pid = got
	return b.save()
}

// writeConf writes a BIRD config afresh, never through a symlink, and
// removes what is left under the names BIRD will write itself (its
// control socket, pid file and log), since BIRD opens those by path.
func (b *builder) writeConf(conf, text string, leftovers ...string) error {
	return b.o.inFile(conf, func(d *dirFD, name string) error {
		for _, p := range leftovers {
			if err := d.remove(filepath.Base(p)); err != nil {
				return err
			}
		}
		return writeFile(d, name, text)
	})
}

// writeFile writes name in d afresh, never through a symlink.
func writeFile(d *dirFD, name, text string) error {
	f, err := d.create(name, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
