package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/term"
)

// ErrNoTerminal is returned by Run when there is no terminal to draw on.
var ErrNoTerminal = errors.New("the lesson needs an interactive terminal; use 'podlab show' for plain output")

// ErrDumbTerminal is returned by Run when TERM says the terminal cannot
// move its cursor: the lesson would be drawn as a stream of escapes.
var ErrDumbTerminal = errors.New("TERM=dumb cannot draw the lesson, which moves the cursor; use 'podlab show' for plain output, or set TERM if the terminal can")

// Bounds on ending: how long the quit path (a progress save) may take
// once asked to stop, and how long Run waits for the lab's calls still
// running after it cancelled them.
const (
	quitGrace = time.Second
	ioGrace   = time.Second
)

// CheckTerminal says whether the lesson can be drawn here: on a terminal
// (stdin and stdout) that can move its cursor. Callers ask before opening
// a lab, so that nothing is built for a lesson that cannot run.
func CheckTerminal() error {
	if !term.IsTerminal(os.Stdin.Fd()) || !term.IsTerminal(os.Stdout.Fd()) {
		return ErrNoTerminal
	}
	if os.Getenv("TERM") == "dumb" {
		return ErrDumbTerminal
	}
	return nil
}

// Run runs the program until the student quits, the terminal goes away
// or ctx ends (a signal). Each way out takes the quit path, so progress is
// saved as on q, and the lab's work is cancelled and waited for before
// Run returns: nothing started for the lesson outlives it.
func Run(ctx context.Context, opts Options) error {
	if err := CheckTerminal(); err != nil {
		return err
	}
	labCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	g := &ioGroup{idle: make(chan struct{})}
	m := New(opts)
	m.ctx, m.io = labCtx, g
	in := &ttyInput{File: os.Stdin, gone: make(chan struct{})}
	popts := []tea.ProgramOption{
		tea.WithInput(in),
		// Signals arrive through ctx (main), so that they too take the
		// quit path instead of bubbletea's immediate exit.
		tea.WithoutSignalHandler(),
	}
	if opts.NoColor {
		popts = append(popts, tea.WithColorProfile(colorprofile.ASCII))
	}
	p := tea.NewProgram(m, popts...)
	ended := make(chan struct{})
	go func() {
		select {
		case <-ended:
			return
		case <-ctx.Done():
		case <-in.gone:
		}
		p.Send(stopMsg{})
		select {
		case <-ended:
		case <-time.After(quitGrace):
			p.Kill()
		}
	}()
	_, err := p.Run()
	close(ended)
	cancel()
	g.closeWait(ioGrace)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, tea.ErrProgramPanic):
		return fmt.Errorf("podlab crashed: %w", err)
	case errors.Is(err, tea.ErrProgramKilled), errors.Is(err, tea.ErrInterrupted):
		// Ended by ctrl+c, a signal or a lost terminal: not an error.
		return nil
	}
	return fmt.Errorf("terminal: %w", err)
}

// stopMsg asks the program to end as on q: a signal came, or the
// terminal went away.
type stopMsg struct{}

// ttyInput is the terminal as the program reads it. A read that returns
// EOF or EIO means the terminal is gone (its window closed, the pty's
// master side hung up). bubbletea's reader ends quietly on EOF and leaves
// the program running with nobody to see it, whatever SIGHUP's
// disposition; so the read closes gone, and Run ends the program.
type ttyInput struct {
	*os.File
	once sync.Once
	gone chan struct{}
}

func (t *ttyInput) Read(p []byte) (int, error) {
	n, err := t.File.Read(p)
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.EIO) {
		t.once.Do(func() { close(t.gone) })
		// EOF ends bubbletea's reader without an error that would
		// kill the program before the quit path ran.
		return n, io.EOF
	}
	return n, err
}

// ioGroup counts the lab calls running for the program (collections,
// route lookups, starting a watch), so Run can wait for them once it has
// cancelled their context: an ssh or exec it started is then gone too.
// After closeWait no call starts.
type ioGroup struct {
	mu     sync.Mutex
	n      int
	closed bool
	idle   chan struct{} // closed when closed and n is 0
}

// enter reports whether a call may start; a nil group always lets it.
func (g *ioGroup) enter() bool {
	if g == nil {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.n++
	return true
}

func (g *ioGroup) leave() {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n--
	if g.closed && g.n == 0 {
		close(g.idle)
	}
}

// closeWait lets no more calls start and waits up to d for the running
// ones; it reports whether they all ended.
func (g *ioGroup) closeWait(d time.Duration) bool {
	g.mu.Lock()
	g.closed = true
	if g.n == 0 {
		close(g.idle)
	}
	g.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-g.idle:
		return true
	case <-t.C:
		return false
	}
}

// errStopped answers a call asked for after the program ended.
var errStopped = errors.New("podlab is ending")
