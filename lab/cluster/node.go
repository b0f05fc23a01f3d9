package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"podlab/lab"
	"podlab/netview"
)

// hostRef is the namespace standing for the node's host namespace:
// HostNetns, or the one podlab runs in.
func (l *Lab) hostRef() (lab.NSRef, error) {
	ref, err := lab.ParseNSRef(l.opts.HostNetns)
	if err != nil {
		return ref, errorf(err, "--host-netns: %v", err)
	}
	return ref, nil
}

// collectNode reads both namespaces here with the netlink collector; the
// pod's is found from the host side and remembered until it goes away.
func (l *Lab) collectNode(ctx context.Context) (*netview.Pair, string, error) {
	hostRef, err := l.hostRef()
	if err != nil {
		return nil, "", err
	}
	l.mu.Lock()
	cached := l.podRef
	l.mu.Unlock()
	host, pod, ok := l.liveSnapshots(hostRef, cached)
	podRef := cached
	if !ok {
		host, pod, podRef, err = collectHere(ctx, hostRef, l.facts.Pod.IP, cached)
		if err != nil {
			return nil, "", l.nodeError(err)
		}
	}
	l.mu.Lock()
	l.podRef = podRef
	l.mu.Unlock()
	how := fmt.Sprintf("collected here on %s as root (pod namespace %s)", l.facts.Node, podRef)
	if l.opts.HostNetns != "" {
		how = fmt.Sprintf("collected here as root: host namespace %s standing in for %s, pod namespace %s", hostRef, l.facts.Node, podRef)
	}
	return &netview.Pair{Host: *host, Pod: *pod, Extra: l.localParts(ctx, hostRef)}, how, nil
}

func (l *Lab) nodeError(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return errorf(err, "collecting %s/%s on %s: %v", l.facts.Pod.Namespace, l.facts.Pod.Name, l.facts.Node, err)
}

// collectNodeNoRoot: the host namespace is podlab's own, which needs no
// root to read; the pod's does, so it comes through the exec API.
func (l *Lab) collectNodeNoRoot(ctx context.Context) (*netview.Pair, string, error) {
	hostRef, err := l.hostRef()
	if err != nil {
		return nil, "", err
	}
	host, err := lab.Collect(ctx, hostRef)
	if err != nil {
		return nil, "", l.nodeError(err)
	}
	pod, err := l.execPod(ctx)
	if err != nil {
		return nil, "", err
	}
	return &netview.Pair{Host: *host, Pod: *pod, Extra: l.localParts(ctx, hostRef)},
		fmt.Sprintf("on %s without root: host namespace here, pod through the exec API (run with sudo to read the pod's namespace directly)", l.facts.Node), nil
}

// collectHere takes the host snapshot and the pod's, finding the pod's
// namespace from the host side unless cached still holds it.
func collectHere(ctx context.Context, hostRef lab.NSRef, podIP netip.Addr, cached lab.NSRef) (host, pod *netview.Snapshot, podRef lab.NSRef, err error) {
	host, err = lab.Collect(ctx, hostRef)
	if err != nil {
		return nil, nil, podRef, fmt.Errorf("reading the host namespace %s: %w", hostRef, err)
	}
	podRef = cached
	if !podRef.IsZero() {
		pod, err = lab.Collect(ctx, podRef)
		if err == nil && holds(pod, podIP) {
			return host, pod, podRef, nil
		}
		// Gone, or reused by another pod: look again.
	}
	podRef, err = lab.FindPodNS(ctx, hostRef, podIP)
	if err != nil {
		return nil, nil, podRef, err
	}
	pod, err = lab.Collect(ctx, podRef)
	if err != nil {
		return nil, nil, podRef, fmt.Errorf("reading the pod's namespace %s: %w", podRef, err)
	}
	return host, pod, podRef, nil
}

// holds reports whether the snapshot has ip on one of its links.
func holds(s *netview.Snapshot, ip netip.Addr) bool {
	for _, a := range s.Addrs {
		if a.Prefix.Addr() == ip {
			return true
		}
	}
	return false
}

// Changes keeps the node's and the pod's namespaces current from their
// netlink notifications (see lab.Live) when they are read here as root,
// and signals after each change; Collect then gives the kept snapshots.
// Elsewhere the channel is closed at once and the caller polls Collect.
func (l *Lab) Changes(ctx context.Context) <-chan struct{} {
	closed := func() <-chan struct{} {
		c := make(chan struct{})
		close(c)
		return c
	}
	if l.where != OnNode {
		return closed()
	}
	hostRef, err := l.hostRef()
	if err != nil {
		return closed()
	}
	l.mu.Lock()
	podRef := l.podRef
	l.mu.Unlock()
	if podRef.IsZero() {
		if podRef, err = lab.FindPodNS(ctx, hostRef, l.facts.Pod.IP); err != nil {
			return closed()
		}
	}
	return l.kept.Watch(ctx, hostRef, podRef)
}

// Resyncs is how many times the watch read the namespaces again whole
// because notifications were lost.
func (l *Lab) Resyncs() int { return l.kept.Resyncs() }

// Resync reads the watched namespaces again whole (the UI's r).
func (l *Lab) Resync(ctx context.Context) error { return l.kept.Resync(ctx) }

// liveSnapshots are the kept snapshots while the watch of these
// namespaces is healthy and the pod's still holds the pod's address;
// otherwise Collect reads afresh and finds the pod again.
func (l *Lab) liveSnapshots(hostRef, podRef lab.NSRef) (host, pod *netview.Snapshot, ok bool) {
	kept, ok := l.kept.Snapshots(hostRef, podRef)
	if !ok {
		return nil, nil, false
	}
	if !holds(kept[1], l.facts.Pod.IP) {
		l.kept.Drop() // the pod's namespace was reused by another
		return nil, nil, false
	}
	return kept[0], kept[1], true
}
