package lab

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"

	"github.com/vishvananda/netlink"

	"podlab/netview"
)

// NetnsConfig says which namespaces a Netns lab shows.
type NetnsConfig struct {
	// Host is the node's namespace; zero is podlab's own.
	Host NSRef
	// Pod is the pod's namespace. Zero means: find it from PodIP with
	// FindPodNS.
	Pod NSRef
	// PodIP is the pod's address. Zero means: the address on the pod's
	// eth0.
	PodIP netip.Addr
	// Facts, when given, is what is known about the cluster; otherwise
	// the lab knows only the pod's address.
	Facts *netview.Facts
	// InterfacePrefix is Felix's workload interface prefix (--interface-
	// prefix); empty is Felix's default.
	InterfacePrefix string
}

// Netns is the lab of two live namespaces on this machine: a pod's and
// its node's host namespace.
type Netns struct {
	cfg   NetnsConfig
	found method // how the pod's namespace was found, if it was

	mu   sync.Mutex
	host *netlink.Handle // in the host namespace, for Route
	kept Kept            // while Changes watches: the snapshots kept current
}

// NewNetns checks the namespaces exist (finding the pod's if need be).
func NewNetns(ctx context.Context, cfg NetnsConfig) (*Netns, error) {
	n := &Netns{cfg: cfg}
	if cfg.Pod.IsZero() {
		if !cfg.PodIP.IsValid() {
			return nil, errors.New("netns lab: give the pod's namespace or the pod's IP")
		}
		ref, m, err := findPodNSBy(ctx, cfg.Host, cfg.PodIP)
		if err != nil {
			return nil, err
		}
		n.cfg.Pod, n.found = ref, m
	}
	for _, r := range []NSRef{n.cfg.Host, n.cfg.Pod} {
		ns, err := openNS(r)
		if err != nil {
			return nil, err
		}
		ns.Close()
	}
	return n, nil
}

// Kind is "netns".
func (n *Netns) Kind() string { return "netns" }

// Describe names the two namespaces.
func (n *Netns) Describe() string {
	d := fmt.Sprintf("pod namespace %s", n.cfg.Pod)
	if n.found != "" {
		d += fmt.Sprintf(" (found from %s by %s)", n.cfg.PodIP, n.found)
	}
	return netview.Clean(d + fmt.Sprintf(", host namespace %s", n.cfg.Host))
}

// Pod is the pod's namespace, found or given.
func (n *Netns) Pod() NSRef { return n.cfg.Pod }

// Collect snapshots both namespaces at (nearly) the same moment.
func (n *Netns) Collect(ctx context.Context) (*netview.Pair, error) {
	if s, ok := n.kept.Snapshots(n.cfg.Host, n.cfg.Pod); ok {
		return n.pair(s[1], s[0]), nil
	}
	var wg sync.WaitGroup
	var host *netview.Snapshot
	var hostErr error
	wg.Go(func() { host, hostErr = Collect(ctx, n.cfg.Host) })
	pod, podErr := Collect(ctx, n.cfg.Pod)
	wg.Wait()
	if podErr != nil {
		return nil, fmt.Errorf("pod side: %w", podErr)
	}
	if hostErr != nil {
		return nil, fmt.Errorf("host side: %w", hostErr)
	}
	return n.pair(pod, host), nil
}

func (n *Netns) pair(pod, host *netview.Snapshot) *netview.Pair {
	if pod.NS.Name == "" {
		pod.NS.Name = "pod"
	}
	if host.NS.Name == "" {
		host.NS.Name = "host"
	}
	p := &netview.Pair{Pod: *pod, Host: *host}
	if n.cfg.Facts != nil {
		p.Facts = *n.cfg.Facts
	} else {
		p.Facts = n.facts(pod, host)
	}
	// The snapshots are clean; the facts hold the host name and what the
	// caller gave.
	p.Facts.Sanitize()
	return p
}

// facts are what two namespaces alone say: the pod's address, and the
// node's name when the host namespace is this machine's own.
func (n *Netns) facts(pod, host *netview.Snapshot) netview.Facts {
	ip := n.cfg.PodIP
	if !ip.IsValid() {
		ip = podAddr(pod)
	}
	node := host.NS.Name
	if n.cfg.Host.IsZero() {
		if h, err := os.Hostname(); err == nil {
			node = h
		}
	}
	pf := netview.PodFact{IP: ip, Node: node}
	f := netview.Facts{Pod: pf, Node: node, InterfacePrefix: cmp.Or(n.cfg.InterfacePrefix, netview.DefaultInterfacePrefix)}
	if ip.IsValid() {
		f.Pods = []netview.PodFact{pf}
	}
	return f
}

// podAddr is the first global address on the pod's eth0 (IPv4 first).
func podAddr(s *netview.Snapshot) netip.Addr {
	l := s.LinkByName("eth0")
	if l == nil {
		return netip.Addr{}
	}
	var v6 netip.Addr
	for _, a := range s.AddrsOf(l.Index) {
		if a.Scope != "global" {
			continue
		}
		if a.Prefix.Addr().Is4() {
			return a.Prefix.Addr()
		}
		if !v6.IsValid() {
			v6 = a.Prefix.Addr()
		}
	}
	return v6
}

// Route is the kernel's own answer in the host namespace (see RouteGet),
// through a handle kept open between calls.
func (n *Netns) Route(ctx context.Context, dst netip.Addr) (netview.Route, error) {
	if err := ctx.Err(); err != nil {
		return netview.Route{}, err
	}
	h, err := n.hostHandle()
	if err != nil {
		return netview.Route{}, err
	}
	return routeGet(ctx, h, n.cfg.Host, dst)
}

func (n *Netns) hostHandle() (*netlink.Handle, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.host != nil {
		return n.host, nil
	}
	h, err := openHandle(n.cfg.Host)
	if err != nil {
		return nil, err
	}
	n.host = h
	return h, nil
}

// Close releases the netlink handle Route keeps and ends a watch.
func (n *Netns) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.kept.Close()
	if n.host != nil {
		n.host.Close()
		n.host = nil
	}
	return nil
}
