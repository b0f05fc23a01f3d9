package netview

import (
	"podlab/termtext"
	"strings"
)

// CutMark ends a string that was cut to its kind's cap.
const CutMark = termtext.CutMark

// textKind is what a string from outside names; each kind has a cap.
type textKind uint8

const (
	kindIfName textKind = iota
	kindK8sName
	kindK8sLabel
	kindNetNS
	kindPath
	kindWord
	kindHWAddr
	kindText
	numKinds
)

// textCaps bound every string from outside, in bytes of what it was
// before Clean (an escape counts as the bytes it stands for). Each is
// the most that kind can be where it comes from, so a real name is never
// cut: a name longer than that is an attack or a broken file, and
// drawing it (a 1 MB interface name in a recording) cost minutes.
var textCaps = [numKinds]struct {
	max  int
	what string
}{
	kindIfName:   {15, "interface names to 15 bytes (Linux's IFNAMSIZ)"},
	kindK8sName:  {253, "pod and node names to 253 bytes (Kubernetes' limit)"},
	kindK8sLabel: {63, "namespace names to 63 bytes (Kubernetes' limit)"},
	kindNetNS:    {255, "network namespace names to 255 bytes (a file name's limit)"},
	kindPath:     {4096, "paths to 4096 bytes (PATH_MAX)"},
	kindWord:     {64, "kinds, flags, states and scopes to 64 bytes"},
	kindHWAddr:   {95, "hardware addresses to 95 bytes (32 bytes written xx:xx:…)"},
	kindText:     {2048, "notes to 2048 bytes"},
}

// Cut is Clean(s) cut to max bytes of s (termtext.Cut).
func Cut(s string, max int) string { return termtext.Cut(s, max) }

// counted is how many bytes of outside text clean text s stands for.
func counted(s string) int {
	n := 0
	for i := 0; i < len(s); {
		size, c := termtext.Unit(s[i:])
		n += c
		i += size
	}
	return n
}

// isCut reports whether s, a string of kind k, was cut by Sanitize. A
// cut one counts at least its cap (the kept part fills it but for less
// than one rune, and CutMark counts three).
func isCut(s string, k textKind) bool {
	max := textCaps[k].max
	return strings.HasSuffix(s, CutMark) && len(s) >= max && counted(s) >= max
}

// Cuts says which kinds of name in the pair were cut to their caps, as
// "interface names to 15 bytes (…)", in a fixed order; nil when none
// was. The map and `podlab show` tell the student, so that a name ending
// in CutMark is not taken for the whole name.
func (p *Pair) Cuts() []string {
	var seen [numKinds]bool
	p.each(func(s string, k textKind) (string, bool) {
		if !seen[k] && isCut(s, k) {
			seen[k] = true
		}
		return s, false
	})
	var out []string
	for k, ok := range seen {
		if ok {
			out = append(out, textCaps[k].what)
		}
	}
	return out
}
