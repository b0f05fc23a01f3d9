package ui

import (
	"context"
	"errors"
	"fmt"
	"os"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/term"
)

// ErrNoTerminal is returned by Run when there is no terminal to draw on.
var ErrNoTerminal = errors.New("the lesson needs an interactive terminal; use 'podlab show' for plain output")

// Run runs the program until the student quits or ctx ends.
func Run(ctx context.Context, opts Options) error {
	if !term.IsTerminal(os.Stdin.Fd()) || !term.IsTerminal(os.Stdout.Fd()) {
		return ErrNoTerminal
	}
	m := New(opts)
	m.ctx = ctx
	popts := []tea.ProgramOption{tea.WithContext(ctx)}
	if opts.NoColor {
		popts = append(popts, tea.WithColorProfile(colorprofile.ASCII))
	}
	_, err := tea.NewProgram(m, popts...).Run()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, tea.ErrProgramPanic):
		return fmt.Errorf("podlab crashed: %w", err)
	case errors.Is(err, tea.ErrProgramKilled), errors.Is(err, tea.ErrInterrupted):
		// Quitting by ctrl+c or a cancelled context is not an error.
		return nil
	}
	return fmt.Errorf("terminal: %w", err)
}
