package lab

import (
	"context"
	"errors"
	"sync"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// watchGroups are the rtnetlink multicast groups whose messages change
// what a snapshot shows.
var watchGroups = []uint{
	unix.RTNLGRP_LINK,
	unix.RTNLGRP_IPV4_IFADDR, unix.RTNLGRP_IPV6_IFADDR,
	unix.RTNLGRP_IPV4_ROUTE, unix.RTNLGRP_IPV6_ROUTE,
	unix.RTNLGRP_NEIGH, unix.RTNLGRP_NSID,
}

// Watch signals on the returned channel whenever a link, address, route,
// neighbour or nsid changes in any of the namespaces. Signals are
// coalesced: one pending signal stands for any number of changes, so a
// reader should collect afresh on each. The channel is closed when ctx
// ends or a namespace can no longer be watched.
func Watch(ctx context.Context, refs ...NSRef) (<-chan struct{}, error) {
	if len(refs) == 0 {
		refs = []NSRef{{}}
	}
	var socks []*nl.NetlinkSocket
	closeAll := func() {
		for _, s := range socks {
			s.Close()
		}
	}
	for _, r := range refs {
		ns, err := openNS(r)
		if err != nil {
			closeAll()
			return nil, err
		}
		var s *nl.NetlinkSocket
		// The socket joins the namespace of the thread that creates it.
		err = inNS(ns, func() error {
			var err error
			s, err = nl.Subscribe(unix.NETLINK_ROUTE, watchGroups...)
			return err
		})
		ns.Close()
		if err != nil {
			closeAll()
			return nil, err
		}
		socks = append(socks, s)
	}
	out := make(chan struct{}, 1)
	signal := func() {
		select {
		case out <- struct{}{}:
		default:
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, s := range socks {
		wg.Go(func() {
			defer cancel() // one namespace gone ends the watch
			for {
				_, _, err := s.Receive()
				if ctx.Err() != nil {
					return
				}
				switch {
				case err == nil, errors.Is(err, unix.ENOBUFS):
					// ENOBUFS: messages were lost, so something changed.
					signal()
				case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR):
				default:
					return
				}
			}
		})
	}
	go func() {
		defer cancel()
		<-ctx.Done()
		closeAll() // wakes the readers
		wg.Wait()
		close(out)
	}()
	return out, nil
}

// Changes keeps the lab's two namespaces current from their netlink
// notifications (see Live) and signals after each change; Collect then
// gives the kept snapshots instead of reading both namespaces again. If
// they cannot be watched the channel is closed at once, and the caller
// should poll.
func (n *Netns) Changes(ctx context.Context) <-chan struct{} {
	return n.kept.Watch(ctx, n.cfg.Host, n.cfg.Pod)
}

// Resyncs is how many times the watch read the namespaces again whole
// because notifications were lost.
func (n *Netns) Resyncs() int { return n.kept.Resyncs() }

// Resync reads the watched namespaces again whole (the UI's r).
func (n *Netns) Resync(ctx context.Context) error { return n.kept.Resync(ctx) }
