package prose

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/util"

	"podlab/netview"
)

// flags say what a piece of text is, and so how it is styled.
type flags uint8

const (
	fH1 flags = 1 << iota
	fHeading
	fStrong
	fEmph
	fCode
	fLink
	fURL
)

// kind is what a run is for the line breaking.
type kind uint8

const (
	word  kind = iota // printable text that stays with the runs it touches
	space             // a place to break the line, printed when it is not broken
	brk               // a hard line break
)

// run is a piece of inline text with one style.
type run struct {
	text string
	f    flags
	kind kind
}

// inlines appends n's inline content to out, styled by f and the
// emphasis, code and links inside.
func (r *renderer) inlines(out []run, n ast.Node, f flags) []run {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			v := c.Segment.Value(r.src)
			if c.IsRaw() {
				out = words(out, string(v), f, true)
			} else {
				out = words(out, unescape(v), f, true)
			}
			switch {
			case c.HardLineBreak():
				out = append(out, run{kind: brk})
			case c.SoftLineBreak():
				out = append(out, run{text: " ", f: f, kind: space})
			}
		case *ast.String:
			v := string(c.Value)
			if !c.IsRaw() && !c.IsCode() {
				v = unescape(c.Value)
			}
			out = words(out, v, f, true)
		case *ast.CodeSpan:
			var b strings.Builder
			for t := c.FirstChild(); t != nil; t = t.NextSibling() {
				if t, ok := t.(*ast.Text); ok {
					b.Write(t.Segment.Value(r.src))
				}
			}
			// Padded, as a key cap: the pads stay with the code's first
			// and last words and mark the code where there is no colour.
			code := strings.ReplaceAll(b.String(), "\n", " ")
			out = append(out, run{text: " ", f: f | fCode})
			out = words(out, code, f|fCode, false)
			out = append(out, run{text: " ", f: f | fCode})
		case *ast.Emphasis:
			e := fEmph
			if c.Level >= 2 {
				e = fStrong
			}
			out = r.inlines(out, c, f|e)
		case *ast.Link:
			out = r.link(out, c, string(c.Destination), f)
		case *ast.Image:
			out = r.link(out, c, string(c.Destination), f)
		case *ast.AutoLink:
			out = words(out, string(c.Label(r.src)), f|fURL, true)
		case *ast.RawHTML:
			// A tag is markup, not text.
		default:
			out = r.inlines(out, c, f)
		}
	}
	return out
}

// link appends a link's (or an image's) text and then its address, which
// a terminal reader cannot follow otherwise; an address that is the text
// is shown once.
func (r *renderer) link(out []run, n ast.Node, dest string, f flags) []run {
	from := len(out)
	out = r.inlines(out, n, f|fLink)
	var label strings.Builder
	for _, rn := range out[from:] {
		label.WriteString(rn.text)
	}
	if dest == "" || strings.TrimSpace(label.String()) == clean(dest) {
		return out
	}
	if len(out) > from {
		out = append(out, run{text: " ", f: f, kind: space})
	}
	return words(out, dest, f|fURL, true)
}

// words appends s as word runs and the blanks between them as space runs;
// collapse makes a run of blanks one space (text), else they are kept
// (code). Control characters in the words are shown escaped.
func words(out []run, s string, f flags, collapse bool) []run {
	for s != "" {
		i := strings.IndexFunc(s, isBlank)
		if i < 0 {
			i = len(s)
		}
		if i > 0 {
			out = append(out, run{text: clean(s[:i]), f: f})
			s = s[i:]
			continue
		}
		j := strings.IndexFunc(s, func(c rune) bool { return !isBlank(c) })
		if j < 0 {
			j = len(s)
		}
		gap := " "
		if !collapse {
			gap = strings.Repeat(" ", j)
		}
		if !collapse || len(out) == 0 || out[len(out)-1].kind != space {
			out = append(out, run{text: gap, f: f, kind: space})
		}
		s = s[j:]
	}
	return out
}

// isBlank is a blank the line may break at: newlines are soft breaks and
// tabs are blanks in CommonMark text.
func isBlank(c rune) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// flow lays runs out in lines at most w columns wide, breaking at spaces
// and, for a word wider than a line, inside it.
func (r *renderer) flow(runs []run, w int) []string {
	var (
		lines []string
		line  []run
		lw    int
		gap   *run // the space before the next word, when the line has one
	)
	flush := func() {
		lines = append(lines, r.draw(line))
		line, lw, gap = nil, 0, nil
	}
	for i := 0; i < len(runs); {
		switch runs[i].kind {
		case brk:
			flush()
			i++
			continue
		case space:
			if len(line) > 0 && gap == nil {
				gap = &runs[i]
			}
			i++
			continue
		}
		// A word: the runs that touch each other with no space between.
		j, aw := i, 0
		for ; j < len(runs) && runs[j].kind == word; j++ {
			aw += width(runs[j].text)
		}
		atom := runs[i:j]
		i = j
		gw := 0
		if gap != nil {
			gw = width(gap.text)
		}
		switch {
		case lw+gw+aw <= w:
			if gap != nil {
				line = append(line, *gap)
			}
			line = append(line, atom...)
			lw += gw + aw
		case aw <= w:
			flush()
			line = append(line, atom...)
			lw = aw
		default:
			if len(line) > 0 {
				flush()
			}
			parts := cut(atom, w)
			for _, p := range parts[:len(parts)-1] {
				line = p
				flush()
			}
			line = parts[len(parts)-1]
			for _, rn := range line {
				lw += width(rn.text)
			}
		}
		gap = nil
	}
	if len(line) > 0 {
		flush()
	}
	return lines
}

// cut splits a word wider than w into pieces of at most w columns.
func cut(atom []run, w int) [][]run {
	var (
		parts [][]run
		cur   []run
		cw    int
	)
	for _, rn := range atom {
		for t := rn.text; t != ""; {
			head := ansi.Truncate(t, w-cw, "")
			if head == "" && cw == 0 {
				// A character wider than the line: alone it overflows.
				_, n := utf8.DecodeRuneInString(t)
				head = t[:n]
			}
			if head != "" {
				cur = append(cur, run{text: head, f: rn.f})
				cw += width(head)
				t = t[len(head):]
			}
			if t != "" {
				parts = append(parts, cur)
				cur, cw = nil, 0
			}
		}
	}
	if len(cur) > 0 || len(parts) == 0 {
		parts = append(parts, cur)
	}
	return parts
}

// draw styles a line's runs, each style opened and closed on the line; a
// blank at its end that would not show is dropped.
func (r *renderer) draw(line []run) string {
	for len(line) > 0 {
		last := line[len(line)-1]
		if r.showsBlank(last.f) {
			break
		}
		if t := strings.TrimRight(last.text, " "); t != "" {
			line[len(line)-1].text = t
			break
		}
		line = line[:len(line)-1]
	}
	var b strings.Builder
	for i := 0; i < len(line); {
		j := i
		var s strings.Builder
		for ; j < len(line) && line[j].f == line[i].f; j++ {
			s.WriteString(line[j].text)
		}
		b.WriteString(r.paint(line[i].f, s.String()))
		i = j
	}
	return b.String()
}

// paint styles s as text of kind f.
func (r *renderer) paint(f flags, s string) string {
	if f == 0 {
		return s
	}
	return r.style(f).Render(s)
}

// style is the style of text of kind f: the inner kind's style over the
// outer's, e.g. code in a heading keeps the heading's boldness.
func (r *renderer) style(f flags) lipgloss.Style {
	if s, ok := r.styles[f]; ok {
		return s
	}
	var s lipgloss.Style
	switch {
	case f&fH1 != 0:
		s = r.st.H1
	case f&fHeading != 0:
		s = r.st.Heading
	}
	for _, l := range []struct {
		f flags
		s lipgloss.Style
	}{{fLink, r.st.Link}, {fURL, r.st.URL}, {fEmph, r.st.Emph}, {fStrong, r.st.Strong}, {fCode, r.st.Code}} {
		if f&l.f != 0 {
			s = l.s.Inherit(s)
		}
	}
	r.styles[f] = s
	return s
}

// showsBlank says whether a blank styled as f can be seen: a background
// or reverse video, as inline code has.
func (r *renderer) showsBlank(f flags) bool {
	if f == 0 {
		return false
	}
	s := r.style(f)
	_, none := s.GetBackground().(lipgloss.NoColor)
	return !none || s.GetReverse()
}

// width is the columns s takes; the text is mostly ASCII, which needs no
// look at graphemes.
func width(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return ansi.StringWidth(s)
		}
	}
	return len(s)
}

// clean shows control characters escaped, as podlab shows every string
// from outside.
func clean(s string) string { return netview.Clean(s) }

// unescape resolves what CommonMark resolves in text: a backslash before
// ASCII punctuation, and entity and numeric character references.
func unescape(b []byte) string {
	if bytes.IndexAny(b, `\&`) < 0 {
		return string(b)
	}
	var out strings.Builder
	for i := 0; i < len(b); {
		switch c := b[i]; {
		case c == '\\' && i+1 < len(b) && util.IsPunct(b[i+1]):
			out.WriteByte(b[i+1])
			i += 2
			continue
		case c == '&':
			if s, n := reference(b[i:]); n > 0 {
				out.WriteString(s)
				i += n
				continue
			}
		}
		out.WriteByte(b[i])
		i++
	}
	return out.String()
}

// reference reads the character reference b starts with (&amp;, &#35;,
// &#x23;): what it stands for and its length, or a length of 0.
func reference(b []byte) (string, int) {
	end := bytes.IndexByte(b, ';')
	if end < 2 || end > 40 {
		return "", 0
	}
	body := string(b[1:end])
	if body[0] != '#' {
		for _, c := range []byte(body) {
			if !util.IsAlphaNumeric(c) {
				return "", 0
			}
		}
		e, ok := util.LookUpHTML5EntityByName(body)
		if !ok {
			return "", 0
		}
		return string(e.Characters), end + 1
	}
	digits, base, most := body[1:], 10, 7
	if digits != "" && (digits[0] == 'x' || digits[0] == 'X') {
		digits, base, most = digits[1:], 16, 6
	}
	if digits == "" || len(digits) > most || digits[0] == '+' {
		return "", 0
	}
	v, err := strconv.ParseUint(digits, base, 32)
	if err != nil {
		return "", 0
	}
	c := rune(v)
	if c == 0 || !utf8.ValidRune(c) {
		c = utf8.RuneError
	}
	return string(c), end + 1
}
