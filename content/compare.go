package content

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/google/cel-go/cel"
)

// comparison is one tolerant way of holding a student's answer against the
// right one. The forms a terminal prints a value in are forgiven here, in
// Go; what a wrong answer means is the pack's (its wrong: lines).
type comparison struct {
	// typ is what the answer expression must give.
	typ *cel.Type
	doc string
	// text is the right answer as text, "" when not known.
	text func(v any) string
	// read reads a normalized answer into the value wrong: lines see as
	// got, or says why it cannot (a hint about the form).
	read func(in, want string) (any, string)
	// same says whether got is the answer; hint, when set, says why a
	// right answer in an unusual form is right.
	same func(got any, want string) (ok bool, hint string)
}

func str(v any) string { s, _ := v.(string); return s }

func positiveText(v any) string {
	n, _ := v.(int64)
	if n <= 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

var comparisons = map[string]comparison{
	"address": {
		typ: cel.StringType, doc: "an IP address, with or without /LENGTH or words before it (inet 198.19.22.132/32)",
		text: str,
		read: func(in, _ string) (any, string) {
			a, ok := parseAddr(in)
			if !ok {
				return nil, fmt.Sprintf("%q is not an IP address; answer with one, like 10.1.2.3", in)
			}
			return a.String(), ""
		},
		same: func(got any, want string) (bool, string) {
			w, _ := parseAddr(want)
			return got == w.String(), ""
		},
	},
	"index": {
		typ: cel.IntType, doc: "an interface index: 9, @if9, if9, eth0@if9",
		text: positiveText,
		read: func(in, _ string) (any, string) {
			n, ok := indexOf(in)
			if !ok {
				return nil, "answer with the interface number, e.g. 7 (or @if7)"
			}
			return int64(n), ""
		},
		same: func(got any, want string) (bool, string) {
			w, _ := strconv.ParseInt(want, 10, 64)
			return got == w, ""
		},
	},
	"interface": {
		typ: cel.StringType, doc: "an interface name, any case, with or without its index (9:) or @ifN",
		text: str,
		read: func(in, _ string) (any, string) {
			got := lastField(in)
			if i := strings.Index(got, ":"); i >= 0 && i < len(got)-1 {
				got = got[i+1:] // "9:caliea2aa288365"
			}
			got, _, _ = strings.Cut(got, "@")
			return strings.TrimSuffix(got, ":"), ""
		},
		same: func(got any, want string) (bool, string) { return got == strings.ToLower(want), "" },
	},
	"node": {
		typ: cel.StringType, doc: "a node's name, any case, or its short name for a dotted one",
		text: str,
		read: func(in, _ string) (any, string) { return lastField(in), "" },
		same: func(got any, want string) (bool, string) {
			g, w := str(got), strings.ToLower(want)
			short, _, _ := strings.Cut(w, ".")
			return g == w || g == short && !strings.Contains(g, "."), ""
		},
	},
	"cidr": {
		typ: cel.StringType, doc: "a prefix ADDRESS/LENGTH; any address inside it with the same length",
		text: str,
		read: func(in, want string) (any, string) {
			w, _ := netip.ParsePrefix(want)
			s := lastField(in)
			p, err := netip.ParsePrefix(s)
			if err == nil {
				return p.String(), ""
			}
			if a, aerr := netip.ParseAddr(s); aerr == nil {
				switch {
				case a == w.Masked().Addr():
					return nil, "give the whole block: its first address, a slash and the prefix length"
				case w.Contains(a):
					return nil, "that address is inside the block; give the block itself (ADDRESS/LENGTH)"
				}
				return nil, "give a block as ADDRESS/LENGTH, the way ip route prints it"
			}
			return nil, fmt.Sprintf("%q is not a block; give one as ADDRESS/LENGTH, the way ip route prints it", in)
		},
		same: func(got any, want string) (bool, string) {
			p, _ := netip.ParsePrefix(str(got))
			w, _ := netip.ParsePrefix(want)
			return p.Masked() == w.Masked(), ""
		},
	},
	"length": {
		typ: cel.IntType, doc: "an IPv4 prefix length: /26, 26, or the number of addresses (64)",
		text: func(v any) string {
			n, _ := v.(int64)
			return lengthText(int(n))
		},
		read: func(in, _ string) (any, string) {
			s := lastField(in)
			if i := strings.LastIndex(s, "/"); i >= 0 {
				s = s[i+1:]
			}
			if _, err := strconv.Atoi(s); err != nil {
				return nil, "answer with the prefix length, e.g. /24"
			}
			return s, ""
		},
		same: func(got any, want string) (bool, string) {
			w, _ := strconv.Atoi(strings.TrimPrefix(want, "/"))
			s := str(got)
			if n, _ := strconv.Atoi(s); n == w {
				return true, ""
			}
			if addrs := blockAddrs(w); w > 0 && addrs != "" && s == addrs {
				return true, "that many addresses, yes: a /" + strconv.Itoa(w)
			}
			return false, ""
		},
	},
	"int": {
		typ: cel.IntType, doc: "a whole number",
		text: func(v any) string {
			n, ok := v.(int64)
			if !ok {
				return ""
			}
			return strconv.FormatInt(n, 10)
		},
		read: func(in, _ string) (any, string) {
			n, err := strconv.ParseInt(lastField(in), 10, 64)
			if err != nil {
				return nil, "answer with a number"
			}
			return n, ""
		},
		same: func(got any, want string) (bool, string) {
			w, _ := strconv.ParseInt(want, 10, 64)
			return got == w, ""
		},
	},
	"text": {
		typ: cel.StringType, doc: "words, any case, spaces and quotes around them forgiven",
		text: str,
		read: func(in, _ string) (any, string) { return in, "" },
		same: func(got any, want string) (bool, string) { return got == normalize(want), "" },
	},
}

// Comparisons names the comparison kinds a question may use, sorted, with
// what each forgives.
func Comparisons() [][2]string {
	var out [][2]string
	for k, c := range comparisons {
		out = append(out, [2]string{k, c.doc})
	}
	slices.SortFunc(out, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	return out
}

func comparisonNames() []string {
	var out []string
	for _, c := range Comparisons() {
		out = append(out, c[0])
	}
	return out
}

// normalize lowercases and trims an answer and what people wrap it in.
func normalize(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.Trim(s, "`'\".,;!? \t")
	return strings.Join(strings.Fields(s), " ")
}

// lastField is the last word of an answer: "inet 198.19.22.132/32" and
// "via 198.19.0.3" name their value last.
func lastField(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

// parseAddr reads an address, with or without a prefix length.
func parseAddr(s string) (netip.Addr, bool) {
	s = lastField(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Addr(), true
	}
	a, err := netip.ParseAddr(s)
	return a, err == nil
}

// indexOf reads an interface number: 9, @if9, if9, eth0@if9.
func indexOf(s string) (int, bool) {
	s = lastField(s)
	if i := strings.LastIndex(s, "@if"); i >= 0 {
		s = s[i+3:]
	} else {
		s = strings.TrimPrefix(s, "if")
	}
	s = strings.TrimSuffix(s, ":")
	n, err := strconv.Atoi(s)
	return n, err == nil && n > 0
}
