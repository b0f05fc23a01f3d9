package ui

import (
	"context"
	"errors"
	"time"

	tea "charm.land/bubbletea/v2"

	"podlab/content"
	"podlab/netview"
)

// env is the program's way out to its lab: the context the lab's calls
// run under, the group Run waits for, and the clock shown.
type env struct {
	ctx context.Context
	io  *ioGroup // nil outside Run
	now func() time.Time
}

// collector decides when the lab is read: at start, on a tick, on the
// lab's own change stream, and on r; it derives each pair read once
// (lab) and keeps what the last read came to. The root shows lab.
type collector struct {
	env     env
	src     Source
	refresh time.Duration

	// lab is the last refresh, derived once (nil until the lab is read);
	// analyzer remembers its analysis: a refresh of a large node works
	// out only the routes that changed.
	lab      *content.Lab
	analyzer *netview.Analyzer

	id       int
	inFlight bool
	// watchFirst: the first collection waits for the watch to start.
	watchFirst bool
	tickGen    int
	// watching: the lab's change stream is open, so nothing is polled:
	// a quiet lab costs nothing. reread: the stream began during a
	// collection, which may have missed what changed in between.
	watching, reread bool
	// dirty: the lab changed while a collection was under way.
	dirty bool
	// startedAt is when the last collection began (the clock's, not
	// env.now's: it paces reads, it is not shown).
	startedAt time.Time
	// byWatch: the collection under way was started by the lab's own
	// change stream. One change (a pod deleted) arrives as a burst of
	// netlink events; their refreshes keep comparing with the state from
	// before the burst, so what changed stays shown until a timed
	// refresh or r, instead of being wiped by the burst's next event.
	byWatch bool

	// lastAt is when the last pair was read and err why the last read
	// failed (nil when it did not).
	lastAt time.Time
	err    error
	// resyncs is the last count of full reads forced by lost change
	// notifications; lost says the last pair came after one.
	resyncs int
	lost    bool
}

func newCollector(e env, src Source, refresh time.Duration) collector {
	c := collector{env: e, src: src, refresh: refresh, analyzer: &netview.Analyzer{}}
	if src != nil {
		// In flight from the start: Init collects, or starts the watch
		// the first collection waits for (watchFirst).
		c.id, c.inFlight = 1, true
		_, watcher := src.(Watcher)
		c.watchFirst = watcher && refresh > 0
	}
	return c
}

// Init starts the first read.
func (c collector) Init() tea.Cmd {
	if w, ok := c.src.(Watcher); ok && c.refresh > 0 {
		// The watch reads the lab once as it starts; the first
		// collection follows it and takes what it read (a node of tens of
		// thousands of routes is not read twice at start).
		return watchCmd(c.env.ctx, c.env.io, w)
	} else if c.src != nil {
		return collectCmd(c.env.ctx, c.env.io, c.src, c.id, c.env.now)
	}
	return nil
}

// current says whether a collection's answer is the one awaited.
func (c collector) current(msg collectedMsg) bool { return msg.id == c.id }

// Update follows the lab's stream, ticks and answers.
func (c collector) Update(msg tea.Msg) (collector, tea.Cmd) {
	switch msg := msg.(type) {
	case collectedMsg:
		return c.collected(msg)
	case watchingMsg:
		// Collect what the watch keeps (and, had a collection begun
		// before the watch, read once more so that nothing between the
		// two is missed).
		c.watching = true
		if c.watchFirst {
			c.watchFirst, c.inFlight = false, false
		}
		if c.inFlight {
			c.reread = true
			return c, nextChangeCmd(msg.ch)
		}
		cmd := c.start(false)
		return c, tea.Batch(cmd, nextChangeCmd(msg.ch))
	case changedMsg:
		if msg.closed {
			// Polling takes over.
			c.watching = false
			if c.refresh > 0 {
				c.tickGen++
				return c, tickCmd(c.refresh, c.tickGen)
			}
			return c, nil
		}
		if c.inFlight {
			c.dirty = true
			return c, nextChangeCmd(msg.ch)
		}
		if wait := burstGap - time.Since(c.startedAt); wait > 0 {
			cmd := c.pause(wait)
			return c, tea.Batch(cmd, nextChangeCmd(msg.ch))
		}
		cmd := c.start(true)
		return c, tea.Batch(cmd, nextChangeCmd(msg.ch))
	case burstMsg:
		if msg.id != c.id || !c.inFlight {
			return c, nil // r, or a resync, read the lab meanwhile
		}
		c.dirty = false // this read sees what changed while it waited
		cmd := c.start(true)
		return c, cmd
	case tickMsg:
		if msg.gen != c.tickGen || c.inFlight || c.src == nil {
			return c, nil
		}
		cmd := c.start(false)
		return c, cmd
	}
	return c, nil
}

// resync reads the lab again whole (r).
func (c collector) resync() (collector, tea.Cmd) {
	if c.src == nil {
		return c, nil
	}
	c.id++
	c.inFlight, c.byWatch = true, false
	return c, resyncCmd(c.env.ctx, c.env.io, c.src, c.id, c.env.now)
}

// collected notes the answer of the collection awaited and reads again
// if the lab changed meanwhile.
func (c collector) collected(msg collectedMsg) (collector, tea.Cmd) {
	if !c.current(msg) {
		return c, nil // a refresh superseded this one
	}
	c.inFlight = false
	switch {
	case msg.err != nil:
		c.err = msg.err
	case msg.pair == nil:
		c.err = errors.New("the lab returned no snapshots: press r to read it again")
	default:
		var last *netview.Refresh
		if c.lab != nil {
			last = c.lab.Refresh
		}
		c.lab = content.NewLab(last.Next(c.analyzer, msg.pair, c.byWatch), c.src.Kind() == "recording")
		c.err = nil
		c.lastAt = msg.at
		// The watch lost notifications (the kernel's buffer ran over)
		// and read the lab again whole: say so.
		c.lost = msg.resyncs > c.resyncs
		c.resyncs = msg.resyncs
	}
	var cmds []tea.Cmd
	switch {
	case c.dirty:
		// The lab changed under this collection: read it again, after
		// a pause (see pause).
		c.dirty, c.reread = false, false
		cmds = append(cmds, c.pause(burstGap-time.Since(c.startedAt)))
	case c.reread:
		c.reread = false
		cmds = append(cmds, c.start(false))
	}
	// While watching, one timed refresh follows a change (it ends the
	// burst's "what changed" marks, see byWatch); a quiet lab gets none,
	// unless the lesson reads what netlink does not signal (BIRD's
	// sessions, NAT counters, the cluster's objects, host1).
	if c.refresh > 0 && (!c.watching || c.byWatch || c.readsBeyond()) {
		c.tickGen++
		cmds = append(cmds, tickCmd(c.refresh, c.tickGen))
	}
	return c, tea.Batch(cmds...)
}

// readsBeyond says the last refresh holds what the lab read beyond the
// two namespaces, which no change stream covers.
func (c collector) readsBeyond() bool {
	return c.lab != nil && c.lab.Pair != nil && c.lab.Pair.Extra != nil
}

// pause reads the lab once wait has passed; until then it counts as
// being read, so that the changes that come meanwhile wait for that
// read. A lab that keeps changing (a new node's links settling, a pod
// going) would otherwise be read back to back, each read analysed and
// laid out whole: on a node of 20,000 routes forty times a second, the
// collector behind. A change to a quiet lab is read at once.
func (c *collector) pause(wait time.Duration) tea.Cmd {
	c.id++
	c.inFlight, c.byWatch = true, true
	id := c.id
	return tea.Tick(max(wait, 0), func(time.Time) tea.Msg { return burstMsg{id: id} })
}

func (c *collector) start(byWatch bool) tea.Cmd {
	c.startedAt = time.Now()
	c.id++
	c.inFlight = true
	c.byWatch = byWatch
	return collectCmd(c.env.ctx, c.env.io, c.src, c.id, c.env.now)
}
