// Package prose draws the lesson's markdown for a terminal: CommonMark,
// parsed by goldmark, laid out as lines of styled text no wider than asked.
//
// podlab draws its own because a general renderer's syntax highlighting
// costs start-up time and memory on every run, and the lesson needs
// headings, paragraphs, lists, emphasis, code and links, no more.
package prose

import (
	"strconv"
	"strings"
	"sync"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// Styles say how each kind of text looks. The zero value draws plain
// text; the colours come from the caller's theme.
type Styles struct {
	H1        lipgloss.Style // a level-one heading, padded by a space each side
	Heading   lipgloss.Style // the other levels, after their #s
	Strong    lipgloss.Style
	Emph      lipgloss.Style
	Code      lipgloss.Style // inline code, padded by a space each side
	CodeBlock lipgloss.Style
	Link      lipgloss.Style // a link's text
	URL       lipgloss.Style // the address shown after a link's text
	Marker    lipgloss.Style // list bullets and numbers, the quote bar
	Rule      lipgloss.Style // a thematic break
}

// margin is the blank columns left of every line.
const margin = 2

// Render draws md at most width columns wide: blocks apart by a blank
// line, text word-wrapped, every line self-contained (styles open and
// close on it) and without trailing blanks. Control characters in the
// text are shown escaped, never sent to the terminal.
func Render(md string, width int, st Styles) string {
	width = max(width, 1)
	src := []byte(md)
	doc := cmark().Parse(text.NewReader(src))
	r := &renderer{src: src, st: st, styles: map[flags]lipgloss.Style{}}
	lines := r.blocks(doc, max(width-margin, 1), false)
	left := strings.Repeat(" ", min(margin, width-1))
	for i, l := range lines {
		if l == "" {
			continue
		}
		l = left + l
		// Only a nesting deeper than the width allows can overflow.
		if ansi.StringWidth(l) > width {
			l = ansi.Truncate(l, width, "")
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

// cmark is a CommonMark parser without extensions, made once: it readies
// its tables at the first parse, and parses concurrently after that.
var cmark = sync.OnceValue(func() parser.Parser {
	return parser.NewParser(
		parser.WithBlockParsers(parser.DefaultBlockParsers()...),
		parser.WithInlineParsers(parser.DefaultInlineParsers()...),
		parser.WithParagraphTransformers(parser.DefaultParagraphTransformers()...),
	)
})

type renderer struct {
	src    []byte
	st     Styles
	styles map[flags]lipgloss.Style // composed inline styles
}

// blocks lays out n's children w columns wide, a blank line between
// them unless tight.
func (r *renderer) blocks(n ast.Node, w int, tight bool) []string {
	var out []string
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		lines := r.block(c, w)
		if len(lines) == 0 {
			continue
		}
		if len(out) > 0 && !tight {
			out = append(out, "")
		}
		out = append(out, lines...)
	}
	return out
}

// block lays out one block w columns wide.
func (r *renderer) block(n ast.Node, w int) []string {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock:
		return r.flow(r.inlines(nil, n, 0), w)
	case *ast.Heading:
		var runs []run
		if n.Level == 1 {
			runs = append(runs, run{text: " ", f: fH1})
			runs = r.inlines(runs, n, fH1)
			runs = append(runs, run{text: " ", f: fH1})
		} else {
			runs = append(runs, run{text: strings.Repeat("#", n.Level), f: fHeading}, run{text: " ", f: fHeading, kind: space})
			runs = r.inlines(runs, n, fHeading)
		}
		return r.flow(runs, w)
	case *ast.ThematicBreak:
		return []string{r.st.Rule.Render(strings.Repeat("─", min(w, 8)))}
	case *ast.CodeBlock, *ast.FencedCodeBlock:
		return r.code(n, w)
	case *ast.Blockquote:
		bar := r.st.Marker.Render("│")
		return indent(r.blocks(n, max(w-2, 1), false), lead{bar + " ", bar}, lead{bar + " ", bar})
	case *ast.List:
		return r.list(n, w)
	case *ast.HTMLBlock:
		// Markup (a comment, a tag) is not text.
		return nil
	default:
		return r.blocks(n, w, false)
	}
}

// list lays out a list: each item behind its bullet or number, its
// following lines under its text.
func (r *renderer) list(l *ast.List, w int) []string {
	var marks []string
	for i, item := 0, l.FirstChild(); item != nil; i, item = i+1, item.NextSibling() {
		if l.IsOrdered() {
			marks = append(marks, strconv.Itoa(l.Start+i)+string(l.Marker))
		} else {
			marks = append(marks, "•")
		}
	}
	mw := 0
	for _, m := range marks {
		mw = max(mw, ansi.StringWidth(m))
	}
	var out []string
	for i, item := 0, l.FirstChild(); item != nil; i, item = i+1, item.NextSibling() {
		inner := r.blocks(item, max(w-mw-1, 1), l.IsTight)
		if len(inner) == 0 {
			inner = []string{""}
		}
		if len(out) > 0 && !l.IsTight {
			out = append(out, "")
		}
		// Numbers align on the right, as 9. and 10. do.
		m := r.st.Marker.Render(strings.Repeat(" ", mw-ansi.StringWidth(marks[i])) + marks[i])
		out = append(out, indent(inner, lead{m + " ", m}, lead{strings.Repeat(" ", mw+1), ""})...)
	}
	return out
}

// code lays out a code block's lines as they are, indented, each cut
// into pieces where it is wider than the pane.
func (r *renderer) code(n ast.Node, w int) []string {
	const in = "  "
	cw := max(w-len(in), 1)
	var out []string
	lines := n.Lines()
	for i := range lines.Len() {
		seg := lines.At(i)
		l := strings.Repeat(" ", seg.Padding) + strings.TrimRight(string(seg.Value(r.src)), "\r\n")
		l = strings.TrimRight(clean(expandTabs(l)), " ")
		if l == "" {
			out = append(out, "")
			continue
		}
		for _, p := range strings.Split(ansi.Hardwrap(l, cw, true), "\n") {
			if p = strings.TrimRight(p, " "); p != "" {
				out = append(out, in+r.st.CodeBlock.Render(p))
			}
		}
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// lead is what goes before a line of a nested block; bare is what goes
// before a blank one, so that no line ends in blanks.
type lead struct{ text, bare string }

// indent puts first before lines[0] and rest before the others.
func indent(lines []string, first, rest lead) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		ld := rest
		if i == 0 {
			ld = first
		}
		if l == "" {
			out[i] = ld.bare
		} else {
			out[i] = ld.text + l
		}
	}
	return out
}

// expandTabs turns tabs into spaces up to the next multiple of four.
func expandTabs(s string) string {
	if !strings.Contains(s, "\t") {
		return s
	}
	var b strings.Builder
	col := 0
	for _, c := range s {
		if c == '\t' {
			n := 4 - col%4
			b.WriteString(strings.Repeat(" ", n))
			col += n
			continue
		}
		b.WriteRune(c)
		col++
	}
	return b.String()
}
