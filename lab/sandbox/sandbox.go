// Package sandbox builds, on this machine, a replica of the dataplane of
// the lesson's Calico cluster: a fabric bridge, three node namespaces,
// pod namespaces wired as Calico's CNI plugin wires them, and a BIRD 2
// per node in a full iBGP mesh. Everything it makes is named with its
// prefix and listed in a state file, and Down removes exactly that.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"podlab/lab"
)

// Errors callers may test for.
var (
	ErrNeedRoot = errors.New("podlab sandbox needs root: run it with sudo")
	ErrNoIPIP   = errors.New("this kernel has no IPIP support (the ipip module is missing): use --mode bgp or --mode vxlan")
	ErrNotUp    = errors.New("the sandbox is not up")
)

// convergeTimeout bounds the wait for BGP.
var convergeTimeout = 30 * time.Second

// stepHook, when set (by tests), runs after each build step; an error
// stops the build. errKilled stops it without cleaning up, as a kill would.
var (
	stepHook  func(step string) error
	errKilled = errors.New("build stopped as if killed")
)

// Sandbox is a built (or found) sandbox.
type Sandbox struct {
	Options Options
	State   *State
	// Built says this call built it; false when it was already up.
	Built bool
}

// Up builds the sandbox, or returns it if its state file says it is up
// and it is healthy. A failed Up removes what it made.
func Up(ctx context.Context, opts Options) (*Sandbox, error) {
	o, err := opts.checked()
	if err != nil {
		return nil, err
	}
	if o.Mode == "ipip" {
		if !kernelHasIPIP() {
			return nil, ErrNoIPIP
		}
		return nil, errors.New("the sandbox does not build ipip mode yet: use --mode bgp or --mode vxlan")
	}
	if os.Geteuid() != 0 {
		return nil, ErrNeedRoot
	}
	bird := ""
	if !o.StaticRoutes {
		if bird, err = findBird(); err != nil {
			return nil, err
		}
	}
	old, unlock, err := lockedState(o)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if old != nil {
		healthy := old.Phase == PhaseUp && len(old.health()) == 0
		same := old.Mode == o.Mode && old.Borrowed == o.Borrowed && old.StaticRoutes == o.StaticRoutes
		switch {
		case healthy && same:
			return &Sandbox{Options: o, State: old}, nil
		case healthy:
			return nil, fmt.Errorf("sandbox %q is already up in %s mode%s: run podlab sandbox down first", o.Prefix, old.Mode, describeExtras(old))
		}
		// Left half-built or broken: remove what it recorded, then build.
		if err := teardown(o, old); err != nil {
			return nil, fmt.Errorf("sandbox %q was left half-built and could not be removed: %w", o.Prefix, err)
		}
	}

	b := newBuilder(o, bird)
	if err := b.checkFree(); err != nil {
		return nil, err
	}
	if err := b.build(ctx); err != nil {
		if errors.Is(err, errKilled) {
			return nil, err
		}
		if cerr := teardown(o, b.st); cerr != nil {
			return nil, fmt.Errorf("%w (and cleaning up failed: %v; run podlab sandbox down)", err, cerr)
		}
		return nil, err
	}
	return &Sandbox{Options: o, State: b.st, Built: true}, nil
}

func describeExtras(s *State) string {
	var x []string
	if s.Borrowed {
		x = append(x, "--borrowed")
	}
	if s.StaticRoutes {
		x = append(x, "--static-routes")
	}
	if len(x) == 0 {
		return ""
	}
	return " (" + strings.Join(x, " ") + ")"
}

// Down removes what the state file records and kills the processes the
// sandbox started. With nothing up it does nothing.
func Down(ctx context.Context, opts Options) error {
	o, err := opts.checked()
	if err != nil {
		return err
	}
	if _, err := os.Stat(o.statePath()); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if os.Geteuid() != 0 {
		return ErrNeedRoot
	}
	st, unlock, err := lockedState(o)
	if err != nil {
		return err
	}
	defer unlock()
	if st == nil {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// The lock file stays: another podlab may be waiting on it, and a
	// new one would let a newcomer lock beside that waiter.
	return teardown(o, st)
}

// Status returns the recorded state with its health checked; an error
// wrapping ErrNotUp when nothing is recorded.
func Status(opts Options) (*State, error) {
	o, err := opts.checked()
	if err != nil {
		return nil, err
	}
	st, err := readState(o)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, notUp(o)
	}
	st.Problems = st.health()
	return st, nil
}

func notUp(o Options) error {
	return fmt.Errorf("%w: sandbox %q (run sudo podlab sandbox up)", ErrNotUp, o.Prefix)
}

// health lists what is wrong with a recorded sandbox: a namespace gone
// or replaced, a BIRD no longer running.
func (s *State) health() []string {
	var out []string
	if s.Phase != PhaseUp {
		out = append(out, "it was not finished building (phase "+s.Phase+")")
	}
	for _, n := range s.Namespaces {
		ino, err := nsInode(n.Name)
		switch {
		case err != nil:
			out = append(out, "namespace "+n.Name+" is gone")
		case ino != n.Inode:
			out = append(out, "namespace "+n.Name+" is no longer the one the sandbox made")
		}
	}
	for _, p := range s.Processes {
		if p.Pid == 0 || !cmdlineMatches(p.Pid, p.Cmdline) {
			out = append(out, fmt.Sprintf("bird on %s (pid %d) is not running", p.Node, p.Pid))
		}
	}
	return out
}

// DeletePod removes one pod as the CNI plugin's DEL does: its veth (and
// with it the host route) and its namespace. The node's blackhole stays,
// which is the lesson's point about deleted pods.
func DeletePod(ctx context.Context, opts Options, namespace, name string) error {
	o, err := opts.checked()
	if err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return ErrNeedRoot
	}
	st, unlock, err := lockedState(o)
	if err != nil {
		return err
	}
	defer unlock()
	if st == nil {
		return notUp(o)
	}
	p, err := st.findPod(namespace, name)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	nsName := p.NS
	var notOurs error
	switch {
	case owned(st, nsName):
		if err := deletePodNS(nsName); err != nil {
			return fmt.Errorf("delete pod %s/%s: %w", namespace, name, err)
		}
	case nsExists(nsName):
		// The name now belongs to a namespace the sandbox did not make:
		// forget the pod, leave the namespace, and say so.
		notOurs = fmt.Errorf("pod %s/%s: namespace %s is no longer the one the sandbox made, so podlab left it alone", namespace, name, nsName)
	}
	st.Pods = slices.DeleteFunc(st.Pods, func(x PodInfo) bool { return x.NS == nsName })
	st.Namespaces = slices.DeleteFunc(st.Namespaces, func(x NSRecord) bool { return x.Name == nsName })
	st.Links = slices.DeleteFunc(st.Links, func(x LinkRec) bool {
		return x.NS == nsName || strings.HasPrefix(x.Peer, nsName+"/")
	})
	if err := st.write(o); err != nil {
		return errors.Join(notOurs, err)
	}
	return notOurs
}

// deletePodNS deletes a pod's eth0 first, so its host end and the host
// route go at once even while something still holds the namespace, then
// the namespace.
func deletePodNS(nsName string) error {
	h, ns, err := handle(nsName)
	if err != nil {
		return err
	}
	l, err := h.LinkByName("eth0")
	var nf netlink.LinkNotFoundError
	switch {
	case errors.As(err, &nf):
		err = nil // already gone
	case err == nil:
		if err = h.LinkDel(l); err != nil {
			err = fmt.Errorf("delete eth0 in %s: %w", nsName, err)
		}
	default:
		err = fmt.Errorf("find eth0 in %s: %w", nsName, err)
	}
	h.Close()
	ns.Close()
	if err != nil {
		return err
	}
	return deleteNS(nsName)
}

// owned says whether a recorded namespace still is the one we made.
func owned(st *State, name string) bool {
	for _, n := range st.Namespaces {
		if n.Name != name {
			continue
		}
		ino, err := nsInode(name)
		if err != nil {
			return false
		}
		// Inode 0 proves nothing: it is never ours.
		return n.Inode != 0 && n.Inode == ino
	}
	return false
}

// teardown removes what st records: processes (checked by command line),
// then namespaces (which takes their links), then files, then the state.
func teardown(o Options, st *State) error {
	var errs []error
	for _, p := range st.Processes {
		if err := stopProcess(p); err != nil {
			errs = append(errs, err)
		}
	}
	for i := len(st.Namespaces) - 1; i >= 0; i-- {
		n := st.Namespaces[i]
		if !nsExists(n.Name) {
			continue
		}
		if !owned(st, n.Name) {
			// Someone made a new namespace under our old name: not ours.
			continue
		}
		if err := deleteNS(n.Name); err != nil {
			errs = append(errs, err)
		}
	}
	for i := len(st.Files) - 1; i >= 0; i-- {
		if err := os.Remove(st.Files[i]); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	os.Remove(o.fileDir()) // only if empty
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := os.Remove(o.statePath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// cmdlineMatches reports whether pid is alive and runs exactly cmdline.
func cmdlineMatches(pid int, cmdline []string) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(b) == 0 {
		return false // gone, or a zombie
	}
	got := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
	return slices.Equal(got, cmdline)
}

// stopProcess kills a recorded process, only if its pid still runs the
// recorded command line.
func stopProcess(p Process) error {
	pid := p.Pid
	if pid == 0 && p.PidFile != "" {
		// Killed between starting it and recording the pid: the pid file
		// knows.
		if b, err := os.ReadFile(p.PidFile); err == nil {
			fmt.Sscan(string(b), &pid)
		}
	}
	if pid <= 0 {
		return nil
	}
	// A pidfd is opened before the command line is checked: should the
	// process end and its pid be reused in between, the signal goes to
	// the pidfd's ended process (ESRCH), never to the newcomer.
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil // gone
	}
	if err != nil {
		return fmt.Errorf("stop bird on %s (pid %d): %w", p.Node, pid, err)
	}
	defer unix.Close(fd)
	if !cmdlineMatches(pid, p.Cmdline) {
		return nil
	}
	if err := unix.PidfdSendSignal(fd, unix.SIGTERM, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("stop bird on %s (pid %d): %w", p.Node, pid, err)
	}
	for _, sig := range []unix.Signal{0, unix.SIGKILL} {
		if sig != 0 {
			unix.PidfdSendSignal(fd, sig, nil, 0)
		}
		for range 100 {
			if !cmdlineMatches(pid, p.Cmdline) {
				return nil
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return fmt.Errorf("bird on %s (pid %d) did not stop", p.Node, pid)
}

// kernelHasIPIP reports whether this kernel can make IPIP tunnels: the
// module is loaded, built in, or on disk to be loaded.
func kernelHasIPIP() bool {
	if _, err := os.Stat("/sys/module/ipip"); err == nil {
		return true
	}
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	rel := unix.ByteSliceToString(u.Release[:])
	if b, err := os.ReadFile(filepath.Join("/lib/modules", rel, "modules.builtin")); err == nil && strings.Contains(string(b), "/ipip.ko") {
		return true
	}
	m, _ := filepath.Glob(filepath.Join("/lib/modules", rel, "kernel/net/ipv4/ipip.ko*"))
	return len(m) > 0
}

// builder builds one sandbox, recording each item before creating it.
type builder struct {
	o     Options
	bird  string
	st    *State
	nodes map[string]*NodeInfo
}

func newBuilder(o Options, bird string) *builder {
	st := &State{
		Prefix:       o.Prefix,
		Mode:         o.Mode,
		Borrowed:     o.Borrowed,
		StaticRoutes: o.StaticRoutes,
		Phase:        PhaseBuilding,
		StartedAt:    time.Now().UTC().Truncate(time.Millisecond),
	}
	for _, n := range nodeSpecs {
		ni := NodeInfo{Name: n.name, NS: o.Prefix + "-" + n.name, IP: n.ip, Block: n.block}
		if o.Mode == "vxlan" {
			ni.VTEP = vtepIP(n.block)
			ni.VTEPMAC = vtepMAC(ni.VTEP).String()
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
	if b.o.Borrowed {
		ps = append(ps, borrowedPod)
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
	for _, p := range b.pods() {
		names = append(names, podNSName(b.o.Prefix, p.namespace, p.name))
	}
	for _, n := range names {
		if nsExists(n) {
			return fmt.Errorf("namespace %s exists but is not in podlab's state %s: remove it (ip netns del %s) or use another --prefix", n, b.o.statePath(), n)
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
	if err := os.MkdirAll(b.o.fileDir(), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", b.o.fileDir(), err)
	}
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
	if b.o.Mode == "vxlan" {
		if err := b.vxlan(); err != nil {
			return err
		}
		if err := b.step(ctx, "vxlan"); err != nil {
			return err
		}
	}
	start := time.Now()
	if b.o.StaticRoutes {
		if err := b.staticRoutes(); err != nil {
			return err
		}
	} else {
		if err := b.startBirds(ctx); err != nil {
			return err
		}
		if err := b.step(ctx, "bird"); err != nil {
			return err
		}
	}
	if err := b.converge(ctx); err != nil {
		return err
	}
	b.st.ConvergedMS = time.Since(start).Milliseconds()
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
// holding host1's address and the stand-in gateway, with no uplink.
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
	for _, a := range []netip.Addr{host1IP, gatewayIP} {
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
	fab := b.st.FabricNS()
	if err := b.recordLinks(
		LinkRec{NS: n.NS, Name: "eth0", Kind: "veth", Peer: fab + "/" + n.Name},
		LinkRec{NS: fab, Name: n.Name, Kind: "veth", Peer: n.NS + "/eth0"},
	); err != nil {
		return err
	}
	h, ns, err := handle(n.NS)
	if err != nil {
		return err
	}
	defer ns.Close()
	defer h.Close()
	fh, fns, err := handle(fab)
	if err != nil {
		return err
	}
	defer fns.Close()
	defer fh.Close()

	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: "eth0", Index: nodeEthIdx, MTU: nodeMTU},
		PeerName:      n.Name,
		PeerNamespace: netlink.NsFd(fns),
	}
	if err := h.LinkAdd(veth); err != nil {
		return fmt.Errorf("add eth0 in %s: %w", n.NS, err)
	}
	br, err := fh.LinkByName(bridgeName)
	if err != nil {
		return fmt.Errorf("find %s in %s: %w", bridgeName, fab, err)
	}
	port, err := fh.LinkByName(n.Name)
	if err != nil {
		return fmt.Errorf("find %s in %s: %w", n.Name, fab, err)
	}
	if err := fh.LinkSetMaster(port, br); err != nil {
		return fmt.Errorf("attach %s to the fabric: %w", n.Name, err)
	}
	if err := fh.LinkSetUp(port); err != nil {
		return fmt.Errorf("set %s up in %s: %w", port.Attrs().Name, fab, err)
	}
	eth0, err := h.LinkByName("eth0")
	if err != nil {
		return fmt.Errorf("find eth0 in %s: %w", n.NS, err)
	}
	b.setLinkIndex(n.NS, "eth0", eth0.Attrs().Index)
	if err := h.AddrAdd(eth0, &netlink.Addr{IPNet: ipnet(netip.PrefixFrom(n.IP, fabricNet.Bits()))}); err != nil {
		return fmt.Errorf("address %s on %s eth0: %w", n.IP, n.Name, err)
	}
	if err := h.LinkSetUp(eth0); err != nil {
		return fmt.Errorf("set %s up in %s: %w", eth0.Attrs().Name, n.NS, err)
	}
	def := &netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: gatewayIP.AsSlice(), Protocol: unix.RTPROT_BOOT}
	if err := h.RouteAdd(def); err != nil {
		return fmt.Errorf("default route on %s: %w", n.Name, err)
	}
	if err := setSysctls(n.NS, [][2]string{{"net/ipv4/ip_forward", "1"}}, nil); err != nil {
		return err
	}
	return b.save()
}

// pod wires one pod as Calico's CNI plugin does: the veth is made in the
// pod's namespace (eth0 and the host end, already named cali… with MAC
// ee:ee:ee:ee:ee:ee), the pod side gets its /32 and the two routes to
// 169.254.1.1, then the host end moves to the node, where it gets its
// sysctls and the /32 route Felix writes.
func (b *builder) pod(p podSpec, hostIdx int) error {
	n := b.nodes[p.node]
	nsName := podNSName(b.o.Prefix, p.namespace, p.name)
	hostIf := vethName(p.namespace, p.name)
	b.st.Pods = append(b.st.Pods, PodInfo{
		Namespace: p.namespace, Name: p.name, Node: p.node, IP: p.ip, NS: nsName, HostIf: hostIf,
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
	// brd equal to the address, as the lesson's `ip addr` shows.
	addr := &netlink.Addr{IPNet: host32(p.ip), Broadcast: p.ip.AsSlice()}
	if err := ph.AddrAdd(eth0, addr); err != nil {
		return fmt.Errorf("pod %s address: %w", p.name, err)
	}
	if err := ph.LinkSetUp(eth0); err != nil {
		return fmt.Errorf("set %s up in %s: %w", eth0.Attrs().Name, nsName, err)
	}
	gw := &netlink.Route{LinkIndex: eth0.Attrs().Index, Dst: host32(calicoGW), Scope: netlink.SCOPE_LINK, Protocol: unix.RTPROT_BOOT}
	if err := ph.RouteAdd(gw); err != nil {
		return fmt.Errorf("pod %s route to %s: %w", p.name, calicoGW, err)
	}
	def := &netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: calicoGW.AsSlice(), Protocol: unix.RTPROT_BOOT}
	if err := ph.RouteAdd(def); err != nil {
		return fmt.Errorf("pod %s default route: %w", p.name, err)
	}
	if err := ph.LinkSetNsFd(host, int(nns)); err != nil {
		return fmt.Errorf("move %s to %s: %w", hostIf, n.NS, err)
	}
	host, err = nh.LinkByName(hostIf)
	if err != nil {
		return fmt.Errorf("find %s in %s: %w", hostIf, n.NS, err)
	}
	if err := nh.LinkSetUp(host); err != nil {
		return fmt.Errorf("set %s up in %s: %w", host.Attrs().Name, n.NS, err)
	}
	if err := setSysctls(n.NS, [][2]string{
		{"net/ipv4/conf/" + hostIf + "/proxy_arp", "1"},
		{"net/ipv4/neigh/" + hostIf + "/proxy_delay", "0"},
		{"net/ipv4/conf/" + hostIf + "/forwarding", "1"},
		{"net/ipv4/conf/" + hostIf + "/route_localnet", "1"},
		{"net/ipv6/conf/" + hostIf + "/accept_ra", "0"},
	}, func(k string) bool { return strings.HasPrefix(k, "net/ipv6/") }); err != nil {
		return err
	}
	// Felix writes the route with RTPROT_BOOT, so `ip route` shows no proto.
	r := &netlink.Route{LinkIndex: host.Attrs().Index, Dst: host32(p.ip), Scope: netlink.SCOPE_LINK, Protocol: unix.RTPROT_BOOT}
	if err := nh.RouteAdd(r); err != nil {
		return fmt.Errorf("route to pod %s on %s: %w", p.name, n.Name, err)
	}
	pi := &b.st.Pods[len(b.st.Pods)-1]
	pi.HostIndex = host.Attrs().Index
	pi.PodIndex = eth0.Attrs().Index
	b.setLinkIndex(n.NS, hostIf, pi.HostIndex)
	b.setLinkIndex(nsName, "eth0", pi.PodIndex)
	return b.save()
}

func (b *builder) recordRoute(ns string, r *netlink.Route) error {
	b.st.Routes = append(b.st.Routes, RouteInfo{NS: ns, Route: r.String()})
	return b.save()
}

// staticRoutes writes, without BGP, the routes BIRD would: the other
// nodes' blocks via them and our own blackhole, all proto bird (12). The
// state says static_routes so every view can say so. In vxlan mode the
// block routes are Felix's, already written.
func (b *builder) staticRoutes() error {
	for _, n := range b.st.Nodes {
		if b.o.Mode == "vxlan" {
			continue
		}
		h, ns, err := handle(n.NS)
		if err != nil {
			return err
		}
		err = b.writeRoutes(h, n, protoBird)
		h.Close()
		ns.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// writeRoutes writes a node's block routes the way the routing daemon of
// the mode would: for bgp via the other nodes on eth0, for vxlan via
// their VTEPs, onlink; plus the own block's blackhole and a borrowed /32.
func (b *builder) writeRoutes(h *netlink.Handle, n NodeInfo, proto netlink.RouteProtocol) error {
	dev := "eth0"
	if b.o.Mode == "vxlan" {
		dev = vxlanName
	}
	l, err := h.LinkByName(dev)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", dev, n.Name, err)
	}
	add := func(r *netlink.Route) error {
		if err := b.recordRoute(n.NS, r); err != nil {
			return err
		}
		if err := h.RouteAdd(r); err != nil {
			return fmt.Errorf("route %s on %s: %w", r, n.Name, err)
		}
		return nil
	}
	via := func(o NodeInfo, dst netip.Prefix) *netlink.Route {
		r := &netlink.Route{LinkIndex: l.Attrs().Index, Dst: ipnet(dst), Gw: o.IP.AsSlice(), Protocol: proto}
		if b.o.Mode == "vxlan" {
			r.Gw = o.VTEP.AsSlice()
			r.Flags = int(netlink.FLAG_ONLINK)
		}
		return r
	}
	for _, o := range b.st.Nodes {
		if o.Name == n.Name {
			continue
		}
		if err := add(via(o, o.Block)); err != nil {
			return err
		}
	}
	if err := add(&netlink.Route{Dst: ipnet(n.Block), Type: unix.RTN_BLACKHOLE, Protocol: proto}); err != nil {
		return err
	}
	if b.o.Borrowed && n.Name != borrowedPod.node {
		o := *b.nodes[borrowedPod.node]
		if err := add(via(o, netip.PrefixFrom(borrowedPod.ip, 32))); err != nil {
			return err
		}
	}
	return nil
}

// vxlan gives each node a vxlan.calico VTEP and writes, as Felix does,
// the static neighbour and FDB entries for the other VTEPs and the
// routes to their blocks with proto 80.
func (b *builder) vxlan() error {
	for i := range b.st.Nodes {
		n := b.st.Nodes[i]
		if err := b.recordLinks(LinkRec{NS: n.NS, Name: vxlanName, Kind: "vxlan"}); err != nil {
			return err
		}
		h, ns, err := handle(n.NS)
		if err != nil {
			return err
		}
		err = b.vxlanNode(h, n)
		h.Close()
		ns.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) vxlanNode(h *netlink.Handle, n NodeInfo) error {
	eth0, err := h.LinkByName("eth0")
	if err != nil {
		return fmt.Errorf("find eth0 in %s: %w", n.NS, err)
	}
	mac := vtepMAC(n.VTEP)
	vx := &netlink.Vxlan{
		LinkAttrs:    netlink.LinkAttrs{Name: vxlanName, Index: vxlanIdx, MTU: vxlanMTU, HardwareAddr: mac},
		VxlanId:      vxlanVNI,
		VtepDevIndex: eth0.Attrs().Index,
		SrcAddr:      n.IP.AsSlice(),
		Port:         vxlanPort,
		Learning:     false,
	}
	if err := h.LinkAdd(vx); err != nil {
		vx.Index = 0
		if err2 := h.LinkAdd(vx); err2 != nil {
			return fmt.Errorf("add %s on %s: %w", vxlanName, n.Name, err2)
		}
	}
	l, err := h.LinkByName(vxlanName)
	if err != nil {
		return fmt.Errorf("find %s in %s: %w", vxlanName, n.NS, err)
	}
	b.setLinkIndex(n.NS, vxlanName, l.Attrs().Index)
	if err := h.AddrAdd(l, &netlink.Addr{IPNet: host32(n.VTEP)}); err != nil {
		return fmt.Errorf("address on %s of %s: %w", vxlanName, n.Name, err)
	}
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("set %s up in %s: %w", l.Attrs().Name, n.NS, err)
	}
	for _, o := range b.st.Nodes {
		if o.Name == n.Name {
			continue
		}
		omac := vtepMAC(o.VTEP)
		if err := h.NeighSet(&netlink.Neigh{LinkIndex: l.Attrs().Index, Family: unix.AF_INET, State: netlink.NUD_PERMANENT,
			IP: o.VTEP.AsSlice(), HardwareAddr: omac}); err != nil {
			return fmt.Errorf("neighbour %s on %s: %w", o.VTEP, n.Name, err)
		}
		if err := h.NeighSet(&netlink.Neigh{LinkIndex: l.Attrs().Index, Family: unix.AF_BRIDGE, State: netlink.NUD_PERMANENT,
			Flags: netlink.NTF_SELF, IP: o.IP.AsSlice(), HardwareAddr: omac}); err != nil {
			return fmt.Errorf("fdb %s on %s: %w", omac, n.Name, err)
		}
	}
	return b.writeRoutes(h, n, protoFelix)
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
		c := birdConf{
			RouterID: n.IP.String(), Block: n.Block.String(), ClusterCIDR: clusterCIDR.String(),
			AS: asNumber, Log: log, VXLAN: b.o.Mode == "vxlan",
		}
		for _, o := range b.st.Nodes {
			if o.Name != n.Name {
				c.Peers = append(c.Peers, birdPeer{Name: meshName(o.IP.String()), IP: o.IP.String()})
			}
		}
		for _, f := range []string{conf, sock, pid, log, log + ".stderr"} {
			if err := b.addFile(f); err != nil {
				return err
			}
		}
		var sb strings.Builder
		if err := birdTmpl.Execute(&sb, c); err != nil {
			return err
		}
		if err := os.WriteFile(conf, []byte(sb.String()), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", conf, err)
		}
		p := Process{Node: n.Name, NS: n.NS, Cmdline: birdCmdline(b.bird, conf, sock, pid), PidFile: pid, Log: log, Socket: sock}
		b.st.Processes = append(b.st.Processes, p)
		if err := b.save(); err != nil {
			return err
		}
		got, err := startBird(ctx, b.bird, p)
		if err != nil {
			return err
		}
		b.st.Processes[len(b.st.Processes)-1].Pid = got
		if err := b.save(); err != nil {
			return err
		}
	}
	return nil
}

// wantRoute is a route a converged node must have.
type wantRoute struct {
	dst   netip.Prefix
	gw    netip.Addr // zero for a blackhole
	proto int
}

func (w wantRoute) String() string {
	if !w.gw.IsValid() {
		return fmt.Sprintf("blackhole %s proto %s", w.dst, protoName(w.proto))
	}
	return fmt.Sprintf("%s via %s proto %s", w.dst, w.gw, protoName(w.proto))
}

func protoName(p int) string {
	if p == protoBird {
		return "bird"
	}
	return fmt.Sprint(p)
}

// wanted lists the routes BGP must have written on node n (bgp mode).
func (b *builder) wanted(n NodeInfo) []wantRoute {
	var w []wantRoute
	for _, o := range b.st.Nodes {
		if o.Name != n.Name {
			w = append(w, wantRoute{o.Block, o.IP, protoBird})
		}
	}
	w = append(w, wantRoute{dst: n.Block, proto: protoBird})
	if b.o.Borrowed && n.Name != borrowedPod.node {
		w = append(w, wantRoute{netip.PrefixFrom(borrowedPod.ip, 32), b.nodes[borrowedPod.node].IP, protoBird})
	}
	return w
}

// listMainRoutes dumps a namespace's main IPv4 table; tests replace it
// to interrupt the dump as the kernel may.
var listMainRoutes = func(h *netlink.Handle) ([]netlink.Route, error) {
	return h.RouteListFiltered(unix.AF_INET, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
}

// missingRoutes returns which wanted routes node n's kernel lacks. BIRD
// writes routes while we read, so an interrupted dump is read again.
func missingRoutes(ctx context.Context, h *netlink.Handle, want []wantRoute) ([]wantRoute, error) {
	rs, err := lab.RetryDump(ctx, func() ([]netlink.Route, error) { return listMainRoutes(h) })
	if err != nil {
		return nil, err
	}
	var miss []wantRoute
	for _, w := range want {
		found := false
		for _, r := range rs {
			if r.Dst == nil || int(r.Protocol) != w.proto || prefixOf(r.Dst) != w.dst {
				continue
			}
			gw, _ := netip.AddrFromSlice(r.Gw)
			if w.gw.IsValid() && gw.Unmap() == w.gw || !w.gw.IsValid() && r.Type == unix.RTN_BLACKHOLE {
				found = true
			}
		}
		if !found {
			miss = append(miss, w)
		}
	}
	return miss, nil
}

// converge waits, bounded, until every node's kernel has its BGP routes
// (bgp mode) or every mesh session is Established (vxlan mode, where
// BIRD writes no routes).
func (b *builder) converge(ctx context.Context) error {
	if b.o.StaticRoutes {
		return nil
	}
	deadline := time.Now().Add(convergeTimeout)
	handles := map[string]*netlink.Handle{}
	for _, n := range b.st.Nodes {
		h, ns, err := handle(n.NS)
		if err != nil {
			return err
		}
		ns.Close()
		defer h.Close()
		handles[n.Name] = h
	}
	for {
		var lacking []string
		var worst NodeInfo
		for i, n := range b.st.Nodes {
			var what []string
			if b.o.Mode == "vxlan" {
				var peers []birdPeer
				for _, o := range b.st.Nodes {
					if o.Name != n.Name {
						peers = append(peers, birdPeer{Name: meshName(o.IP.String())})
					}
				}
				miss, err := meshEstablished(b.st.Processes[i].Socket, peers)
				if err != nil {
					miss = []string{"its BIRD control socket (" + err.Error() + ")"}
				}
				for _, m := range miss {
					what = append(what, m+" Established")
				}
			} else {
				miss, err := missingRoutes(ctx, handles[n.Name], b.wanted(n))
				if err != nil {
					return err
				}
				for _, m := range miss {
					what = append(what, m.String())
				}
			}
			if len(what) > 0 {
				if len(lacking) == 0 {
					worst = n
				}
				lacking = append(lacking, n.Name+" lacks "+strings.Join(what, ", "))
			}
		}
		if len(lacking) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			_, _, _, log := birdFiles(b.o.fileDir(), worst.Name)
			return &convergeError{
				msg: fmt.Sprintf("BGP did not converge within %s: %s; %s's bird log (%s) ends:",
					convergeTimeout, strings.Join(lacking, "; "), worst.Name, log),
				tail: logTail(log, 12),
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sandbox build stopped while waiting for BGP: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// convergeError is Up's failure to converge; its message ends with the
// tail of a BIRD log, which the command line prints in full.
type convergeError struct {
	msg, tail string
}

func (e *convergeError) Error() string { return e.msg + "\n" + e.tail }
