package ui

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// watchSource is a scriptSource whose changes the test signals.
type watchSource struct {
	*scriptSource
	ch chan struct{}
}

func (w watchSource) Changes(ctx context.Context) <-chan struct{} { return w.ch }

func TestWatchedChangeRefreshesAtOnce(t *testing.T) {
	full := lessonRecording(t)
	less := withoutRoute(t, full, "198.19.22.131")
	// One read at start, once the watch has begun; the change is the next.
	src := watchSource{&scriptSource{answers: []answer{{pair: full}, {pair: less}}}, make(chan struct{}, 1)}
	// A refresh far away: only the watch can bring the change in time.
	h := startProgram(t, Options{Source: src, Refresh: time.Hour}, 160, 48)
	h.waitFor("the recording", loaded)
	gotoSection(t, h, 4)
	src.ch <- struct{}{}
	m := h.waitFor("the change", func(m Model) bool { return m.changed() != "" })
	if !strings.Contains(screen(m), "changed: route 198.19.22.131 removed") {
		t.Errorf("after a watched change:\n%s", screen(m))
	}
	// A closed watch leaves the program running on its refresh.
	close(src.ch)
	h.press("n")
	h.waitFor("the next step", func(m Model) bool { st, _ := m.step(); return st.Section == 4 && st.Index == 2 })
}

// resyncSource is a watchSource that counts its full reads: those asked
// for (r), and those lost notifications forced (lost).
type resyncSource struct {
	watchSource
	resyncs atomic.Int32
	lost    atomic.Int32
}

func (r *resyncSource) Resync(ctx context.Context) error {
	r.resyncs.Add(1)
	return nil
}

func (r *resyncSource) Resyncs() int { return int(r.lost.Load()) }

// When the lab's watch lost notifications and read everything again, the
// status line says so, once.
func TestLostNotificationsAreShown(t *testing.T) {
	src := &resyncSource{watchSource: watchSource{&scriptSource{answers: []answer{{pair: lessonRecording(t)}}}, make(chan struct{}, 1)}}
	h := startProgram(t, Options{Source: src, Refresh: time.Hour}, 160, 48)
	h.waitFor("the recording", func(m Model) bool { return loaded(m) && m.col.watching && !m.col.inFlight })
	src.lost.Store(1)
	src.ch <- struct{}{}
	m := h.waitFor("the note", func(m Model) bool { return strings.Contains(m.changed(), "notifications were lost") })
	if !strings.Contains(screen(m), "notifications were lost, the lab was read again whole") {
		t.Errorf("the status line does not say notifications were lost:\n%s", screen(m))
	}
	src.ch <- struct{}{}
	h.waitFor("the note to go", func(m Model) bool { return m.changed() == "" && m.col.resyncs == 1 && !m.col.inFlight })
}

// A watched lab that does not change is not read again: the watch says
// when to. r still reads it again, whole.
func TestWatchedQuietLabIsNotPolled(t *testing.T) {
	src := &resyncSource{watchSource: watchSource{&scriptSource{answers: []answer{{pair: lessonRecording(t)}}}, make(chan struct{}, 1)}}
	h := startProgram(t, Options{Source: src, Refresh: 5 * time.Millisecond}, 160, 48)
	h.waitFor("the read when the watch began", func(m Model) bool { return loaded(m) && m.col.watching && m.col.id >= 2 && !m.col.inFlight })
	time.Sleep(100 * 5 * time.Millisecond) // a hundred refresh periods
	src.mu.Lock()
	calls := src.calls
	src.mu.Unlock()
	if calls != 1 {
		t.Errorf("a quiet watched lab was read %d times, want 1 (once the watch had begun)", calls)
	}
	h.press("r")
	h.waitFor("the refresh by r", func(m Model) bool { return m.col.id >= 3 && !m.col.inFlight })
	if n := src.resyncs.Load(); n != 1 {
		t.Errorf("r resynced %d times, want 1", n)
	}
}

// One change in the lab (a pod deleted) arrives as several netlink events:
// the refreshes they bring keep showing the change, which only a timed
// refresh or r clears.
func TestWatchedBurstKeepsTheChange(t *testing.T) {
	full := lessonRecording(t)
	less := withoutRoute(t, full, "198.19.22.131")
	// One read at start, once the watch has begun; the change is the next.
	src := watchSource{&scriptSource{answers: []answer{{pair: full}, {pair: less}}}, make(chan struct{}, 1)}
	h := startProgram(t, Options{Source: src, Refresh: time.Hour}, 160, 48)
	h.waitFor("the recording", loaded)
	gotoSection(t, h, 4)
	src.ch <- struct{}{}
	h.waitFor("the change", func(m Model) bool { return m.changed() != "" })
	src.ch <- struct{}{} // the same change's next event
	m := h.waitFor("the second refresh", func(m Model) bool { return m.col.id >= 4 && !m.col.inFlight })
	if sc := screen(m); !strings.Contains(sc, "changed: route 198.19.22.131 removed") || !strings.Contains(sc, "- 198.19.22.131 dev calif0a98285df9") {
		t.Errorf("the burst's second refresh wiped what changed:\n%s", sc)
	}
	h.press("r")
	m = h.waitFor("the refresh by r", func(m Model) bool { return m.col.id >= 5 && !m.col.inFlight })
	if m.changed() != "" || strings.Contains(screen(m), "- 198.19.22.131") {
		t.Errorf("r compares with what was shown, so nothing changed; still: %q", m.changed())
	}
}
