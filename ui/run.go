package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/term"
)

// ErrNoTerminal is returned by Run when there is no terminal to draw on.
var ErrNoTerminal = errors.New("the lesson needs an interactive terminal; use 'podlab show' for plain output")

// ErrDumbTerminal is returned by Run when TERM says the terminal cannot
// move its cursor: the lesson would be drawn as a stream of escapes.
var ErrDumbTerminal = errors.New("TERM=dumb cannot draw the lesson, which moves the cursor; use 'podlab show' for plain output, or set TERM if the terminal can")

// Bounds on ending: how long the quit path (a progress save) may take
// once asked to stop, how long bubbletea then has to end its program
// after it is killed, and how long Run waits for the lab's calls still
// running after it cancelled them.
const (
	quitGrace = time.Second
	killGrace = time.Second
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
	m.setEnv(env{ctx: labCtx, io: g, now: m.env.now})
	in := &ttyInput{File: os.Stdin, gone: make(chan struct{}), interrupt: make(chan os.Signal, 4)}
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
	// Signals come to ctx (main) and, counted, here: a second one ends
	// podlab at once.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	tty, _ := term.GetState(os.Stdin.Fd())
	go watchEnd(ctx, p, ended, merge(ended, sigs, in.interrupt), in.gone, func(code int, restored bool) {
		if !restored {
			restoreTTY(tty)
		}
		cancel()
		g.closeWait(ioGrace)
		exitProcess(code)
	})
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

// watchEnd ends the program when ctx ends (a signal) or the terminal
// goes away: first by the quit path, as q (a progress save); after
// quitGrace by killing it; and if bubbletea has not ended it killGrace
// later, or a second SIGINT or SIGTERM comes, by ending the process
// (hard). Each step is needed because bubbletea reads messages and kills
// its program between Updates: an Update or a render that does not
// return (a map of a hostile lab took minutes) holds both back.
func watchEnd(ctx context.Context, p *tea.Program, ended <-chan struct{}, sigs <-chan os.Signal, gone <-chan struct{}, hard func(code int, restored bool)) {
	signals, code := 0, 1
	select {
	case <-ended:
		return
	case <-ctx.Done():
	case <-gone:
		gone = nil
	case sig := <-sigs:
		signals++
		code = exitCode(sig)
	}
	// Send waits for the event loop; it must not hold up the rest.
	go p.Send(stopMsg{})
	killed, restored := make(chan struct{}), make(chan struct{})
	kill := func() {
		select {
		case <-killed:
		default:
			close(killed)
			// Kill restores the terminal (the alternate screen left, the
			// modes reset, the tty back in cooked mode) even when the
			// event loop is stuck.
			go func() {
				p.Kill()
				close(restored)
			}()
		}
	}
	end := func() {
		waitEnded(restored, killGrace/4)
		select {
		case <-restored:
			hard(code, true)
		default:
			hard(code, false)
		}
	}
	t := time.NewTimer(quitGrace)
	defer t.Stop()
	for {
		select {
		case <-ended:
			return
		case <-gone:
			gone = nil
		case sig := <-sigs:
			// The signal that cancelled ctx counts too: ctx and sigs
			// hear each one.
			signals++
			code = exitCode(sig)
			if signals > 1 && sig != syscall.SIGHUP {
				kill()
				end()
				return
			}
		case <-t.C:
			select {
			case <-killed:
				end()
				return
			default:
				kill()
				t.Reset(killGrace)
			}
		}
	}
}

// merge is the signals and the ctrl+c the terminal sends, on one channel.
func merge(ended <-chan struct{}, sigs, keys <-chan os.Signal) <-chan os.Signal {
	out := make(chan os.Signal, 4)
	go func() {
		for {
			var s os.Signal
			select {
			case <-ended:
				return
			case s = <-sigs:
			case s = <-keys:
			}
			select {
			case out <- s:
			case <-ended:
				return
			}
		}
	}()
	return out
}

// exitCode is a shell's status for a process a signal ended.
func exitCode(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}

// waitEnded waits up to d for the channel to close.
func waitEnded(ended <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ended:
	case <-t.C:
	}
}

// exitProcess ends podlab when the program cannot be ended.
var exitProcess = os.Exit

// restoreTTY puts the terminal back as bubbletea would on its way out,
// for when it could not: the main screen, a visible cursor, no mouse,
// paste or focus reports, no keyboard enhancements, cooked mode. The
// write is given a moment only: a terminal that is gone may block it.
func restoreTTY(st *term.State) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = os.Stdout.WriteString(ansi.ResetModifyOtherKeys + ansi.PopKittyKeyboard(1) +
			ansi.ResetModeBracketedPaste + ansi.ResetModeFocusEvent + ansi.ResetModeMouseButtonEvent +
			ansi.ResetModeMouseAnyEvent + ansi.ResetModeMouseExtSgr + ansi.ResetStyle +
			ansi.ResetModeAltScreenSaveCursor + ansi.ShowCursor + "\r\n")
		if st != nil {
			_ = term.Restore(os.Stdin.Fd(), st)
		}
	}()
	waitEnded(done, killGrace/4)
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
	// interrupt hears ctrl+c as it is read, before bubbletea does: the
	// terminal is raw, so ctrl+c is a key, not SIGINT, and a key waits
	// for an Update that may not return.
	interrupt chan os.Signal
}

// ctrlC is ctrl+c as a terminal sends it: plain, with modifyOtherKeys,
// and with the kitty keyboard protocol.
var ctrlC = [][]byte{{0x03}, []byte("\x1b[27;5;99~"), []byte("\x1b[99;5u"), []byte("\x1b[99;5:1u")}

func (t *ttyInput) Read(p []byte) (int, error) {
	n, err := t.File.Read(p)
	if t.interrupt != nil {
		for _, c := range ctrlC {
			if bytes.Contains(p[:n], c) {
				select {
				case t.interrupt <- os.Interrupt:
				default:
				}
				break
			}
		}
	}
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
	if !g.closed {
		g.closed = true
		if g.n == 0 {
			close(g.idle)
		}
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
