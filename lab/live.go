package lab

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"podlab/netview"
)

// Live keeps snapshots of namespaces current from netlink notifications,
// so that a node with tens of thousands of routes is not read again
// whole each time one of them changes. Each namespace's subscription is
// opened before its first dump (the kernel's dump-then-listen order):
// what changes during the dump is queued and applied after it. Routes
// are applied one notification at a time (IPv6 ones by reading the IPv6
// routes again, see apply); a change of links (which can
// take IPv4 routes with them without a notification) or lost
// notifications (a full socket buffer) read the namespace again whole;
// addresses and neighbours, a few hundred at most, are read again when
// they change.
type Live struct {
	nss     []*liveNS
	changes chan struct{}
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// liveRcvBuf is the subscription's socket buffer: a burst of route
// changes (BIRD after a session comes up) must fit, or the namespace is
// read again whole.
const liveRcvBuf = 8 << 20

// livePoll is how often a quiet subscription wakes to check that its
// namespace still exists: the socket itself keeps the namespace alive.
const livePoll = time.Second

type liveNS struct {
	ns  *nsFile
	fd  int
	buf []byte

	// reading is held by a full read (Resync's), and by a batch of
	// notifications with the reads it asks for. A notification received
	// while a full read is under way is applied after that read is in
	// place: applied before, the read would overwrite it with a dump
	// taken before the change.
	reading sync.Mutex

	mu   sync.Mutex
	base netview.Snapshot // all but the routes
	// routes are the namespace's routes in kernel order, its IPv4 ones
	// (nv4 of them) first. The snapshots handed out share them, so they
	// are replaced, never changed in place: a node's tens of thousands
	// of routes are held once, not once here and again in each snapshot.
	routes []netview.Route
	nv4    int
	// dirty holds, for each IPv4 key changed since routes was built, its
	// routes now (none: gone); v6, when v6set, the IPv6 routes read
	// again. The next snapshot merges them in.
	dirty  map[liveKey][]netview.Route
	v6     []netview.Route
	v6set  bool
	merges int // snapshots that merged changes in (for tests)
	err    error
	// Resyncs counts full reads forced by lost notifications.
	resyncs int
}

// liveKey is what identifies a route to the kernel: a route added with
// the same key replaces (or, appended, joins) the ones there.
type liveKey struct {
	family, table, metric int
	dst                   netip.Prefix
}

// NewLive subscribes to the namespaces' changes and reads each once. The
// channel of Changes gets a (coalesced) signal after each applied batch
// and is closed when ctx ends or a namespace fails or goes away;
// Snapshot then reports why.
func NewLive(ctx context.Context, refs ...NSRef) (*Live, error) {
	l := &Live{changes: make(chan struct{}, 1)}
	for _, r := range refs {
		n, err := openLiveNS(r)
		if err != nil {
			l.closeAll()
			return nil, err
		}
		l.nss = append(l.nss, n)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(l.nss))
	for i, n := range l.nss {
		wg.Go(func() { errs[i] = n.full(ctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		l.closeAll()
		return nil, err
	}
	ctx, l.cancel = context.WithCancel(ctx)
	for _, n := range l.nss {
		l.wg.Go(func() {
			defer l.cancel() // one namespace failing ends the watch
			n.run(ctx, l.signal)
		})
	}
	go func() {
		<-ctx.Done()
		l.wg.Wait()
		l.closeAll()
		close(l.changes)
	}()
	return l, nil
}

// Changes signals after each batch of changes is applied.
func (l *Live) Changes() <-chan struct{} { return l.changes }

// Close stops the subscriptions and lets the namespaces go.
func (l *Live) Close() {
	if l.cancel != nil {
		l.cancel()
	}
}

// Snapshot is namespace i (in NewLive's order) as it is now. It shares
// the links, addresses, routes and neighbours with later snapshots: those
// slices are replaced, never changed, and callers must not change them.
func (l *Live) Snapshot(i int) (*netview.Snapshot, error) {
	return l.nss[i].snapshot()
}

// Resync reads every namespace again whole, as after a lost
// notification.
func (l *Live) Resync(ctx context.Context) error {
	var errs []error
	for _, n := range l.nss {
		n.reading.Lock()
		errs = append(errs, n.full(ctx))
		n.reading.Unlock()
	}
	return errors.Join(errs...)
}

func (l *Live) signal() {
	select {
	case l.changes <- struct{}{}:
	default:
	}
}

func (l *Live) closeAll() {
	for _, n := range l.nss {
		unix.Close(n.fd)
		n.ns.Close()
	}
}

// liveGroups are the rtnetlink multicast groups a snapshot depends on.
var liveGroups = []int{
	unix.RTNLGRP_LINK, unix.RTNLGRP_NEIGH, unix.RTNLGRP_NSID,
	unix.RTNLGRP_IPV4_IFADDR, unix.RTNLGRP_IPV6_IFADDR,
	unix.RTNLGRP_IPV4_ROUTE, unix.RTNLGRP_IPV6_ROUTE,
}

func openLiveNS(r NSRef) (*liveNS, error) {
	ns, err := openNS(r)
	if err != nil {
		return nil, err
	}
	n := &liveNS{ns: ns, fd: -1, buf: make([]byte, dumpBufSize)}
	// The socket joins the namespace of the thread that creates it.
	err = inNS(ns, func() error {
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
		if err != nil {
			return err
		}
		n.fd = fd
		if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			return err
		}
		for _, g := range liveGroups {
			if err := unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, g); err != nil {
				return err
			}
		}
		if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, liveRcvBuf) != nil {
			_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, liveRcvBuf) // what an unprivileged reader may
		}
		tv := unix.NsecToTimeval(livePoll.Nanoseconds())
		return unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	})
	if err != nil {
		if n.fd >= 0 {
			unix.Close(n.fd)
		}
		ns.Close()
		return nil, wrapNS(ns, "subscribing to changes", err)
	}
	return n, nil
}

// full reads the namespace whole and takes that as the new state.
func (n *liveNS) full(ctx context.Context) error {
	var snap *netview.Snapshot
	err := inNS(n.ns, func() error {
		var err error
		snap, err = collectHere(ctx, n.ns)
		return err
	})
	if err != nil {
		return err
	}
	// IPv4 in kernel order (a dump's order within a key kept), then
	// IPv6 as the dump listed them; in the dump's own list, not a copy
	// of it (a node's tens of thousands of routes are megabytes).
	routes := snap.Routes
	var v6 []netview.Route
	nv4 := 0
	for _, r := range routes {
		if r.Family == 6 {
			v6 = append(v6, r)
		} else {
			routes[nv4] = r
			nv4++
		}
	}
	slices.SortStableFunc(routes[:nv4], func(a, b netview.Route) int { return keyOrder(keyOfRoute(&a), keyOfRoute(&b)) })
	routes = append(routes[:nv4], v6...)
	snap.Routes = nil
	n.mu.Lock()
	defer n.mu.Unlock()
	n.base, n.routes, n.nv4 = *snap, routes, nv4
	n.dirty, n.v6, n.v6set = nil, nil, false
	return nil
}

// parts reads addresses, neighbours or IPv6 routes again (they hang on
// the links' names, which did not change).
func (n *liveNS) parts(ctx context.Context, addrs, neighs, v6 bool) error {
	n.mu.Lock()
	links := n.base.Links
	n.mu.Unlock()
	names := make(map[int]string, len(links))
	for _, l := range links {
		names[l.Index] = l.Name
	}
	var as []netview.Addr
	var ns []netview.Neigh
	var rs []netview.Route
	err := inNS(n.ns, func() error {
		c, err := openRT()
		if err != nil {
			return err
		}
		defer c.Close()
		if v6 {
			if rs, err = retry(ctx, func() ([]netview.Route, error) { return c.dumpRoutesOf(unix.AF_INET6, nil, nil) }); err != nil {
				return err
			}
		}
		if addrs {
			if as, err = retry(ctx, func() ([]netview.Addr, error) { return c.dumpAddrs(0, names) }); err != nil {
				return err
			}
		}
		if neighs {
			if ns, err = retry(ctx, func() ([]netview.Neigh, error) { return c.dumpNeighs(names) }); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return wrapNS(n.ns, "reading changes", err)
	}
	// What enters the kept snapshot is cleaned as a whole dump is
	// (Collect): an address's label is the kernel's copy of a link name.
	fresh := netview.Snapshot{Addrs: as, Neighs: ns, Routes: rs}
	fresh.Sanitize()
	as, ns, rs = fresh.Addrs, fresh.Neighs, fresh.Routes
	n.mu.Lock()
	defer n.mu.Unlock()
	if addrs {
		n.base.Addrs = as
	}
	if neighs {
		n.base.Neighs = ns
	}
	if v6 {
		n.v6, n.v6set = rs, true
	}
	return nil
}

// run applies notifications until ctx ends or the namespace fails.
func (n *liveNS) run(ctx context.Context, signal func()) {
	for {
		// Block, up to livePoll, for a batch's first notification.
		m, _, err := unix.Recvfrom(n.fd, n.buf, 0)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			// A quiet second: is the namespace still there?
			err = n.stillThere()
		} else {
			// A batch waits for a full read under way to be in place.
			n.reading.Lock()
			err = n.batch(ctx, m, err)
			n.reading.Unlock()
			if err == nil {
				signal()
				continue
			}
		}
		if err != nil {
			if ctx.Err() == nil {
				n.mu.Lock()
				n.err = err
				n.mu.Unlock()
			}
			signal()
			return
		}
	}
}

// batch applies the notification just read (m bytes of n.buf, or the
// loss err reports) and those queued behind it, then reads again what
// they ask for.
func (n *liveNS) batch(ctx context.Context, m int, err error) error {
	var full, addrs, neighs, v6 bool
	for {
		switch {
		case errors.Is(err, unix.ENOBUFS):
			// Notifications were lost: only a full read is sure.
			full = true
			n.mu.Lock()
			n.resyncs++
			n.mu.Unlock()
		case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
			return n.reread(ctx, full, addrs, neighs, v6)
		case err != nil:
			return wrapNS(n.ns, "reading changes", err)
		default:
			f, a, ne, v := n.apply(n.buf[:m])
			full, addrs, neighs, v6 = full || f, addrs || a, neighs || ne, v6 || v
		}
		m, _, err = unix.Recvfrom(n.fd, n.buf, unix.MSG_DONTWAIT)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// reread reads again what a batch asked for, once it has checked that
// the namespace is still there (a deleted namespace's links go first).
func (n *liveNS) reread(ctx context.Context, full, addrs, neighs, v6 bool) error {
	if err := n.stillThere(); err != nil {
		return err
	}
	switch {
	case full:
		return n.full(ctx)
	case addrs || neighs || v6:
		return n.parts(ctx, addrs, neighs, v6)
	}
	return nil
}

// stillThere reports an error once the ref no longer names the namespace
// being watched (deleted, or its process gone).
func (n *liveNS) stillThere() error {
	ns, err := openNS(n.ns.ref)
	if err != nil {
		return err
	}
	defer ns.Close()
	if ns.dev != n.ns.dev || ns.inode != n.ns.inode {
		return &goneError{n.ns.ref, errors.New("the name now points to another namespace")}
	}
	return nil
}

// apply applies one read's route notifications and says what else must
// be read again.
func (n *liveNS) apply(b []byte) (full, addrs, neighs, v6 bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for len(b) >= unix.SizeofNlMsghdr {
		l := int(native.Uint32(b[0:]))
		if l < unix.SizeofNlMsghdr || l > len(b) {
			return true, false, false, false // cannot trust the rest
		}
		typ, flags := native.Uint16(b[4:]), native.Uint16(b[6:])
		m := b[unix.SizeofNlMsghdr:l]
		if a := nlmAlign(l); a < len(b) {
			b = b[a:]
		} else {
			b = nil
		}
		switch typ {
		case unix.RTM_NEWROUTE, unix.RTM_DELROUTE:
			if len(m) > 0 && m[0] == unix.AF_INET6 {
				// The order of a dump of IPv6 routes follows the
				// kernel's tree, not anything a route says: read
				// them again (on a Calico IPv4 node, a few per link).
				v6 = true
				continue
			}
			r, keep, err := parseRoute(m)
			if err != nil {
				full = true
				continue
			}
			if keep {
				n.applyRoute(typ == unix.RTM_NEWROUTE, flags, r)
			}
		case unix.RTM_NEWLINK, unix.RTM_DELLINK, unix.RTM_NEWNSID, unix.RTM_DELNSID:
			full = true
		case unix.RTM_NEWADDR, unix.RTM_DELADDR:
			addrs = true
		case unix.RTM_NEWNEIGH, unix.RTM_DELNEIGH:
			neighs = true
		}
	}
	return full, addrs, neighs, v6
}

// applyRoute is one notification of an IPv4 route. Each is absolute
// (this route is there now, or is not), so notifications queued during a
// dump, already seen by it, can be applied again after it without harm.
func (n *liveNS) applyRoute(add bool, flags uint16, r netview.Route) {
	k := keyOfRoute(&r)
	list, ok := n.dirty[k]
	if !ok {
		list = n.keyed(k)
	}
	i := slices.IndexFunc(list, func(x netview.Route) bool { return sameRoute(&x, &r) })
	// list may be a part of n.routes, which the snapshots share: it is
	// copied, never changed in place.
	switch {
	case !add && i < 0:
		return
	case !add:
		list = slices.Delete(slices.Clone(list), i, i+1)
	case flags&unix.NLM_F_APPEND != 0 && i < 0:
		list = append(slices.Clip(list), r)
	case flags&unix.NLM_F_APPEND != 0:
		list = slices.Clone(list)
		list[i] = r
	default:
		// A plain add or a replace: this is the route for its key.
		list = []netview.Route{r}
	}
	if n.dirty == nil {
		n.dirty = make(map[liveKey][]netview.Route)
	}
	n.dirty[k] = list
}

// keyed is the part of the IPv4 routes with key k, found by bisection:
// kernel order keeps a key's routes together.
func (n *liveNS) keyed(k liveKey) []netview.Route {
	v4 := n.routes[:n.nv4]
	i, _ := slices.BinarySearchFunc(v4, k, func(r netview.Route, k liveKey) int { return keyOrder(keyOfRoute(&r), k) })
	j := i
	for j < len(v4) && keyOfRoute(&v4[j]) == k {
		j++
	}
	return v4[i:j]
}

// rebuild merges the changed keys' routes and the IPv6 routes read again
// into a new list in kernel order, sorting only what changed. Called with
// n.mu held.
func (n *liveNS) rebuild() {
	n.merges++
	names := make(map[int]string, len(n.base.Links))
	for _, l := range n.base.Links {
		names[l.Index] = l.Name
	}
	keys := make([]liveKey, 0, len(n.dirty))
	grow := 0
	for k, l := range n.dirty {
		keys = append(keys, k)
		grow += len(l)
	}
	slices.SortFunc(keys, keyOrder)
	v4, v6 := n.routes[:n.nv4], n.routes[n.nv4:]
	if n.v6set {
		v6 = n.v6
	}
	out := make([]netview.Route, 0, len(v4)+grow+len(v6))
	emit := func(k liveKey) {
		for _, r := range n.dirty[k] {
			nameRoute(&r, names) // a notification names no device
			out = append(out, r)
		}
	}
	i := 0
	for j := range v4 {
		k := keyOfRoute(&v4[j])
		for i < len(keys) && keyOrder(keys[i], k) <= 0 {
			emit(keys[i])
			i++
		}
		if _, changed := n.dirty[k]; !changed {
			out = append(out, v4[j])
		}
	}
	for ; i < len(keys); i++ {
		emit(keys[i])
	}
	nv4 := len(out)
	for _, r := range v6 {
		nameRoute(&r, names)
		out = append(out, r)
	}
	n.routes, n.nv4 = out, nv4
	n.dirty, n.v6, n.v6set = nil, nil, false
}

func keyOfRoute(r *netview.Route) liveKey {
	return liveKey{family: r.Family, table: r.Table, metric: r.Metric, dst: r.Dst}
}

// sameRoute is whether a notification is about the route held: the same
// key, type and next hops.
func sameRoute(a, b *netview.Route) bool {
	return a.Type == b.Type && a.Gw == b.Gw && a.DevIndex == b.DevIndex &&
		slices.EqualFunc(a.NextHops, b.NextHops, func(x, y netview.NextHop) bool {
			return x.Gw == y.Gw && x.DevIndex == y.DevIndex
		})
}

func (n *liveNS) snapshot() (*netview.Snapshot, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.err != nil {
		return nil, n.err
	}
	if len(n.dirty) > 0 || n.v6set {
		n.rebuild()
	}
	s := n.base
	s.TakenAt = time.Now().UTC()
	// Callers may edit the names (the sandbox forgets some); the slices
	// they do not edit.
	s.NS.NSIDs = maps.Clone(s.NS.NSIDs)
	s.Routes = n.routes
	return &s, nil
}

// keyOrder is the order of IPv4 routes' keys in a dump of every table:
// tables in the order of the kernel's table hash (the id modulo 256),
// each walked in address order, a longer prefix of the same address
// first, then by metric.
func keyOrder(x, y liveKey) int {
	if c := cmp.Compare(x.family, y.family); c != 0 {
		return c
	}
	if c := cmp.Compare(x.table%256, y.table%256); c != 0 {
		return c
	}
	if c := cmp.Compare(x.table, y.table); c != 0 {
		return c
	}
	if c := x.dst.Addr().Compare(y.dst.Addr()); c != 0 {
		return c
	}
	if c := cmp.Compare(y.dst.Bits(), x.dst.Bits()); c != 0 {
		return c
	}
	return cmp.Compare(x.metric, y.metric)
}

// Resyncs is how many times lost notifications forced a full read.
func (l *Live) Resyncs() int {
	t := 0
	for _, n := range l.nss {
		n.mu.Lock()
		t += n.resyncs
		n.mu.Unlock()
	}
	return t
}
