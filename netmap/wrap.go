package netmap

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"podlab/netview"
)

// wrap breaks spans into rows of at most w cells, at spaces where it can;
// continued rows are indented by two. It reads the text once: a word
// longer than a row is cut cluster by cluster as it goes (measuring the
// rest of the word again for each row made a long name cost minutes).
func wrap(sp []netview.Span, w int) [][]netview.Span {
	if width(sp) <= w {
		return [][]netview.Span{sp}
	}
	if w < 8 {
		return hardWrap(sp, w)
	}
	const indent = "  "
	var rows [][]netview.Span
	var cur []netview.Span
	curW := 0
	flush := func() {
		rows = append(rows, cur)
		cur, curW = []netview.Span{span(indent, netview.TagNone)}, len(indent)
	}
	for _, s := range sp {
		for _, word := range splitKeep(s.Text) {
			ww := stringWidth(word)
			if curW+ww > w && curW > len(indent) {
				flush()
				if strings.TrimSpace(word) == "" {
					continue
				}
			}
			for word != "" && curW+ww > w { // a word longer than a row
				n, nw := 0, 0
				for n < len(word) {
					c, cw := firstCluster(word[n:])
					if curW+nw+cw > w && (n > 0 || curW > len(indent)) {
						break
					}
					n, nw = n+len(c), nw+cw
				}
				if n > 0 {
					cur = append(cur, span(word[:n], s.Tag))
				}
				word, ww = word[n:], ww-nw
				flush()
			}
			if word != "" {
				cur = append(cur, span(word, s.Tag))
				curW += ww
			}
		}
	}
	if curW > 0 {
		rows = append(rows, cur)
	}
	return rows
}

// stringWidth and firstCluster measure text; variables so that a test
// can count the work wrapping does.
var (
	stringWidth  = ansi.StringWidth
	firstCluster = func(s string) (string, int) { return ansi.FirstGraphemeCluster(s, ansi.GraphemeWidth) }
)

// hardWrap cuts a line into rows of w cells, for boxes too narrow to
// wrap at spaces.
func hardWrap(sp []netview.Span, w int) [][]netview.Span {
	w = max(w, 1)
	var rows [][]netview.Span
	var cur []netview.Span
	curW := 0
	for _, s := range sp {
		for _, r := range s.Text {
			c := string(r)
			cw := ansi.StringWidth(c)
			if curW+cw > w {
				rows = append(rows, cur)
				cur, curW = nil, 0
			}
			cur = append(cur, span(c, s.Tag))
			curW += cw
		}
	}
	return append(rows, cur)
}

// splitKeep splits text into words, each followed by its spaces.
func splitKeep(text string) []string {
	var out []string
	for text != "" {
		i := strings.IndexByte(text, ' ')
		if i < 0 {
			return append(out, text)
		}
		j := i
		for j < len(text) && text[j] == ' ' {
			j++
		}
		out = append(out, text[:j])
		text = text[j:]
	}
	return out
}
