// Package termtext makes text from outside (names and output from pods,
// nodes, recordings, packs) safe to print on a terminal, and cuts it to
// a length. It is pure: every reader of outside text uses it.
package termtext

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// CutMark ends a string that was cut to its cap.
const CutMark = "…"

// Clean makes text from outside safe to print: C0 controls, DEL, C1
// controls (U+0080-U+009F), the bidirectional controls (U+202E and the
// like) and bytes that are not UTF-8 are shown as
// escapes (`\x1b`, `\u009b`), so that a name cannot move the cursor, set
// a title, write the clipboard or open a hyperlink. Clean(Clean(s)) is
// Clean(s): the escapes are printable.
func Clean(s string) string {
	if IsClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f || isBidi(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// IsClean reports whether s holds nothing Clean would escape.
func IsClean(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 || r >= 0x80 && r <= 0x9f || isBidi(r) {
			return false
		}
		i += size
	}
	return true
}

// isBidi says r reorders the text around it (the explicit embeddings,
// overrides and isolates, and the marks): a name holding one can print
// as another name.
func isBidi(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c
}

// Cut is Clean(s) cut to max bytes of s, CutMark added when it is cut.
// Cut(Cut(s, n), n) is Cut(s, n): the length is counted on the clean
// form with each escape counting as the bytes it stands for, so a name
// already cut (and its escapes) is not cut again.
func Cut(s string, max int) string {
	// A unit counts at least one byte per four it takes, so the units
	// that fit max, and the one after them that decides the cut, lie in
	// the first 4*max+6 bytes: what is past them can only be cut off.
	if limit := 4*max + 8; len(s) > limit {
		s = s[:limit]
	}
	s = Clean(s)
	n, i := 0, 0
	for i < len(s) {
		size, counts := Unit(s[i:])
		if n+counts > max {
			return s[:i] + CutMark
		}
		n += counts
		i += size
	}
	return s
}

// Unit is the first piece of clean text: an escape Clean writes (\x1b
// stands for one byte, \u009b for two) or a rune. It returns the piece's
// size and how many bytes it counts for.
func Unit(s string) (size, counts int) {
	if len(s) >= 4 && s[0] == '\\' {
		switch {
		case s[1] == 'x' && isHex(s[2:4]):
			return 4, 1
		case s[1] == 'u' && len(s) >= 6 && isHex(s[2:6]):
			return 6, 2
		}
	}
	_, size = utf8.DecodeRuneInString(s)
	return size, size
}

func isHex(s string) bool {
	for i := range len(s) {
		if !strings.ContainsRune("0123456789abcdef", rune(s[i])) {
			return false
		}
	}
	return true
}

// FirstLine is the first line of s, trimmed: an error as podlab words it,
// in one line.
func FirstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(s)
}
