package ui

import (
	"context"
	"net/netip"
	"time"

	tea "charm.land/bubbletea/v2"

	"podlab/netview"
)

// Source is where the pod's and the node's snapshots come from: a live
// cluster, a sandbox, or a recording.
type Source interface {
	Kind() string
	Describe() string
	Collect(ctx context.Context) (*netview.Pair, error)
}

// Router is a Source that can also ask the kernel which route a
// destination takes on the node.
type Router interface {
	Route(ctx context.Context, dst netip.Addr) (netview.Route, error)
}

// Watcher is a Source that signals when what it collects has changed
// (netlink notifications of both namespaces), so a live lab is shown
// again at once rather than at the next refresh. A channel that is closed
// at once means "cannot watch here": the program keeps polling.
type Watcher interface {
	Changes(ctx context.Context) <-chan struct{}
}

// Resyncer is a Watcher that keeps its snapshots current from change
// notifications; Resync reads its lab again whole (the r key), and
// Resyncs counts the times lost notifications made it do so itself.
type Resyncer interface {
	Resync(ctx context.Context) error
	Resyncs() int
}

// collectTimeout bounds one collection, so a hung lab shows an error
// instead of a frozen status line; a Bounded lab's own bound wins when
// it is longer.
const collectTimeout = 20 * time.Second

// Bounded is a Source that says how long one collection may take (a
// cluster's, with its ssh and exec rounds).
type Bounded interface {
	CollectTimeout() time.Duration
}

func timeoutOf(src any) time.Duration {
	if b, ok := src.(Bounded); ok {
		return max(b.CollectTimeout(), collectTimeout)
	}
	return collectTimeout
}

// collectedMsg is the answer to one collection; id drops stale answers.
type collectedMsg struct {
	id   int
	pair *netview.Pair
	err  error
	at   time.Time
	// resyncs is the lab's count of full reads forced by lost change
	// notifications (a Resyncer's), when it was collected.
	resyncs int
}

// tickMsg asks for an automatic refresh; gen drops ticks of an older chain.
type tickMsg struct{ gen int }

// burstMsg ends the pause before reading a lab that changed while it was
// being read; id is the collection it starts.
type burstMsg struct{ id int }

// burstGap is the least time between the starts of two reads of a lab
// that keeps changing.
const burstGap = 50 * time.Millisecond

// kernelRouteMsg is the kernel's answer to a route lookup.
type kernelRouteMsg struct {
	id    int
	route netview.Route
	err   error
}

// collectCmd collects a pair; it captures only values.
func collectCmd(ctx context.Context, g *ioGroup, src Source, id int, now func() time.Time) tea.Cmd {
	return func() tea.Msg {
		if !g.enter() {
			return collectedMsg{id: id, err: errStopped, at: now()}
		}
		defer g.leave()
		c, cancel := context.WithTimeout(ctx, timeoutOf(src))
		defer cancel()
		p, err := src.Collect(c)
		msg := collectedMsg{id: id, pair: p, err: err, at: now()}
		if r, ok := src.(Resyncer); ok {
			msg.resyncs = r.Resyncs()
		}
		return msg
	}
}

// resyncCmd is collectCmd after reading the lab again whole, where the
// source keeps its snapshots from notifications.
func resyncCmd(ctx context.Context, g *ioGroup, src Source, id int, now func() time.Time) tea.Cmd {
	collect := collectCmd(ctx, g, src, id, now)
	r, ok := src.(Resyncer)
	if !ok {
		return collect
	}
	return func() tea.Msg {
		if !g.enter() {
			return collectedMsg{id: id, err: errStopped, at: now()}
		}
		c, cancel := context.WithTimeout(ctx, timeoutOf(src))
		err := r.Resync(c)
		cancel()
		g.leave()
		if err != nil {
			return collectedMsg{id: id, err: err, at: now()}
		}
		return collect()
	}
}

func tickCmd(d time.Duration, gen int) tea.Cmd {
	return tea.Tick(d, func(time.Time) tea.Msg { return tickMsg{gen: gen} })
}

func kernelRouteCmd(ctx context.Context, g *ioGroup, r Router, id int, dst netip.Addr) tea.Cmd {
	return func() tea.Msg {
		if !g.enter() {
			return kernelRouteMsg{id: id, err: errStopped}
		}
		defer g.leave()
		c, cancel := context.WithTimeout(ctx, timeoutOf(r))
		defer cancel()
		rt, err := r.Route(c, dst)
		return kernelRouteMsg{id: id, route: rt, err: err}
	}
}

// watchingMsg carries the channel of a started watch.
type watchingMsg struct{ ch <-chan struct{} }

// changedMsg says the lab changed; closed says the watch ended.
type changedMsg struct {
	ch     <-chan struct{}
	closed bool
}

// watchCmd starts watching; Changes may enter namespaces, so it runs
// here rather than on the program's goroutine.
func watchCmd(ctx context.Context, g *ioGroup, w Watcher) tea.Cmd {
	return func() tea.Msg {
		if !g.enter() {
			return nil
		}
		defer g.leave()
		return watchingMsg{ch: w.Changes(ctx)}
	}
}

// nextChangeCmd waits for the next signal; the program issues it again
// after each.
func nextChangeCmd(ch <-chan struct{}) tea.Cmd {
	return func() tea.Msg {
		_, ok := <-ch
		return changedMsg{ch: ch, closed: !ok}
	}
}
