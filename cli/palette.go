package cli

import (
	"io"
	"os"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/term"

	"podlab/netview"
	"podlab/ui"
)

// palette styles `podlab show` with the lesson UI's theme, so a tag has
// the same colour in both. Without a theme it writes plain text.
type palette struct{ theme *ui.Theme }

func newPalette(on, dark bool) palette {
	if !on {
		return palette{}
	}
	t := ui.NewTheme(dark, false)
	return palette{theme: &t}
}

// showPalette is the palette for w, and the writer to print through: the
// theme's colours brought down to what the terminal shows. Plain with
// --plain, NO_COLOR, or when w is not a terminal.
func showPalette(w io.Writer, plain bool) (palette, io.Writer) {
	f, ok := w.(*os.File)
	if plain || os.Getenv("NO_COLOR") != "" || !ok || !term.IsTerminal(f.Fd()) {
		return newPalette(false, false), w
	}
	return newPalette(true, lipgloss.HasDarkBackground(os.Stdin, f)), colorprofile.NewWriter(w, os.Environ())
}

func (p palette) tagged(s string, t netview.Tag) string {
	if p.theme == nil || s == "" {
		return s
	}
	return p.theme.TagStyle(t, false).Render(s)
}

func (p palette) heading(s string) string {
	if p.theme == nil {
		return s
	}
	return lipgloss.NewStyle().Bold(true).Render(s)
}

func (p palette) line(l netview.Line) string {
	var b strings.Builder
	for _, s := range l.Spans {
		b.WriteString(p.tagged(s.Text, s.Tag))
	}
	return b.String()
}
