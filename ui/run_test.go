package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest/v2"

	"podlab/internal/ptytest"
	"podlab/netview"
)

// A stop (a signal, the terminal gone) waits for a running save, as q.
func TestStopWaitsForSave(t *testing.T) {
	saver := &fakeSaver{block: make(chan struct{})}
	h := startProgram(t, Options{Source: recordingSource(t), SelfPaced: true, Saver: saver}, 80, 24)
	h.waitFor("the recording", loaded)
	h.press("n")
	h.tm.Send(stopMsg{})
	m := h.waitFor("quitting", func(m Model) bool { return m.self.quitting })
	if !m.self.saving {
		t.Fatal("quitting while no save runs")
	}
	// A second stop keeps waiting for the save.
	h.tm.Send(stopMsg{})
	if m := h.model(); !m.self.quitting {
		t.Fatal("a second stop lost the wait")
	}
	close(saver.block)
	h.tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if saver.last() == nil || saver.last().Last == "" {
		t.Errorf("the last change was not saved: %+v", saver.last())
	}
}

func TestIOGroup(t *testing.T) {
	t.Run("waits for running calls", func(t *testing.T) {
		g := &ioGroup{idle: make(chan struct{})}
		if !g.enter() {
			t.Fatal("a call may not start before the end")
		}
		done := make(chan bool)
		go func() { done <- g.closeWait(5 * time.Second) }()
		select {
		case <-done:
			t.Fatal("closeWait returned while a call runs")
		case <-time.After(50 * time.Millisecond):
		}
		g.leave()
		if !<-done {
			t.Error("closeWait says a call still runs")
		}
	})
	t.Run("no call starts after the end", func(t *testing.T) {
		g := &ioGroup{idle: make(chan struct{})}
		if !g.closeWait(time.Second) {
			t.Fatal("an idle group did not close")
		}
		if g.enter() {
			t.Error("a call started after closeWait")
		}
	})
	t.Run("gives up on a hung call", func(t *testing.T) {
		g := &ioGroup{idle: make(chan struct{})}
		g.enter()
		if g.closeWait(10 * time.Millisecond) {
			t.Error("closeWait says a hung call ended")
		}
	})
	t.Run("nil lets every call run", func(t *testing.T) {
		var g *ioGroup
		if !g.enter() {
			t.Error("a nil group refused a call")
		}
		g.leave()
	})
}

// The end of the terminal's input is the terminal gone: gone closes and
// the reader sees EOF; other reads pass through.
func TestTTYInputGone(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	in := &ttyInput{File: r, gone: make(chan struct{})}
	if _, err := w.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if n, err := in.Read(buf); n != 1 || err != nil {
		t.Fatalf("read %d, %v; want the key", n, err)
	}
	select {
	case <-in.gone:
		t.Fatal("gone after a key")
	default:
	}
	w.Close()
	if _, err := in.Read(buf); !errors.Is(err, io.EOF) {
		t.Fatalf("read after the writer closed: %v, want EOF", err)
	}
	select {
	case <-in.gone:
	default:
		t.Fatal("EOF did not say the terminal is gone")
	}
	// Again: gone is closed once only.
	if _, err := in.Read(buf); !errors.Is(err, io.EOF) {
		t.Fatalf("second read: %v, want EOF", err)
	}
}

// procSource is a lab whose collection runs a real process until its
// context ends, as an ssh to the node does.
type procSource struct{ started chan int }

func (procSource) Kind() string     { return "live" }
func (procSource) Describe() string { return "a lab that runs a process" }

func (s procSource) Collect(ctx context.Context) (*netview.Pair, error) {
	cmd := exec.CommandContext(ctx, "sleep", "600")
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s.started <- cmd.Process.Pid
	return nil, cmd.Wait()
}

// When the terminal goes, Run ends, and the process a collection started
// has ended (and been waited for) by the time it returns.
func TestRunEndsTheLabsProcesses(t *testing.T) {
	master, slave := ptytest.Open(t, 80, 24)
	ptytest.Drain(master)
	stdin, stdout := os.Stdin, os.Stdout
	os.Stdin, os.Stdout = slave, slave
	t.Cleanup(func() { os.Stdin, os.Stdout = stdin, stdout })
	t.Setenv("TERM", "xterm-256color")

	src := procSource{started: make(chan int, 1)}
	done := make(chan error, 1)
	go func() { done <- Run(context.Background(), Options{Source: src, Refresh: time.Hour}) }()
	var pid int
	select {
	case pid = <-src.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the first collection did not start")
	}
	master.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after the terminal went: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not end when its terminal went away")
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
		t.Errorf("the collection's process %d outlives Run", pid)
	}
}
