package lab

import (
	"context"
	"slices"
	"sync"

	"podlab/netview"
)

// Kept is a lab's watch: the Live that keeps the snapshots of the
// namespaces it was started on, while it runs. The netns, sandbox and
// on-node cluster labs each hold one. The zero value watches nothing.
type Kept struct {
	mu   sync.Mutex
	live *Live
	refs []NSRef
}

// Watch keeps refs' snapshots from now on, in place of an earlier watch,
// and returns its change signals; the channel is closed at once when the
// namespaces cannot be watched (the caller then polls).
func (k *Kept) Watch(ctx context.Context, refs ...NSRef) <-chan struct{} {
	lv, err := NewLive(ctx, refs...)
	if err != nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	k.mu.Lock()
	if k.live != nil {
		k.live.Close()
	}
	k.live, k.refs = lv, slices.Clone(refs)
	k.mu.Unlock()
	return lv.Changes()
}

// Snapshots are the kept snapshots of refs, in their order, while the
// watch of exactly those namespaces is healthy. A failed watch (a
// namespace gone) is let go, and the lab reads afresh and says why.
func (k *Kept) Snapshots(refs ...NSRef) ([]*netview.Snapshot, bool) {
	k.mu.Lock()
	lv, watched := k.live, k.refs
	k.mu.Unlock()
	if lv == nil || !slices.Equal(watched, refs) {
		return nil, false
	}
	out := make([]*netview.Snapshot, len(refs))
	for i := range refs {
		s, err := lv.Snapshot(i)
		if err != nil {
			k.drop(lv)
			return nil, false
		}
		out[i] = s
	}
	return out, true
}

// Drop lets the watch go: its snapshots no longer stand for the lab.
func (k *Kept) Drop() {
	k.mu.Lock()
	lv := k.live
	k.mu.Unlock()
	if lv != nil {
		k.drop(lv)
	}
}

func (k *Kept) drop(lv *Live) {
	k.mu.Lock()
	if k.live == lv {
		k.live, k.refs = nil, nil
	}
	k.mu.Unlock()
	lv.Close()
}

// Resyncs is how many times the watch read its namespaces again whole
// because notifications were lost.
func (k *Kept) Resyncs() int {
	k.mu.Lock()
	lv := k.live
	k.mu.Unlock()
	if lv == nil {
		return 0
	}
	return lv.Resyncs()
}

// Resync reads the watched namespaces again whole (the UI's r).
func (k *Kept) Resync(ctx context.Context) error {
	k.mu.Lock()
	lv := k.live
	k.mu.Unlock()
	if lv == nil {
		return nil
	}
	return lv.Resync(ctx)
}

// Close ends the watch.
func (k *Kept) Close() { k.Drop() }
