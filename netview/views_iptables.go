package netview

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"podlab/kubeproxy"
)

// A rule as `iptables -L -v -n` prints it, from the words iptables-save
// wrote: what the NAT view shows of each rule in iptables mode.

// iptRuleLine lays a rule out as `iptables -L -v -n` does (iptables
// 1.8's print_firewall): counters, target, protocol number, options,
// interfaces, addresses, then each match and the target's own words.
func iptRuleLine(it natItem, grew bool) Line {
	b := lineBuilder{key: it.key}
	r := &it.rule
	ct := TagNone
	if grew {
		ct = TagCounterMoved
	}
	b.add(iptNum(r.Packets)+iptNum(r.Bytes), ct)
	lf := listForm(r)
	b.add(lf.target, chainTag(r.Target))
	b.add(strings.Repeat(" ", max(0, 9-len(lf.target)))+" ", TagNone)
	b.add(fmt.Sprintf("%c%-5s-- %s%-6s %-6s %c%-19s %c%-19s ", lf.protoInv, lf.proto, " ", lf.in, lf.out, lf.srcInv, lf.src, lf.dstInv, lf.dst), TagNone)
	for _, m := range lf.rest {
		b.add(" ", TagNone)
		for _, s := range m {
			b.add(s.Text, s.Tag)
		}
	}
	return b.line()
}

// iptNum is xtables_print_num without -x: five columns, then K, M, G, T.
func iptNum(n uint64) string {
	if n <= 99999 {
		return fmt.Sprintf("%5d ", n)
	}
	for _, unit := range []string{"K", "M", "G"} {
		n = (n + 500) / 1000
		if n <= 9999 {
			return fmt.Sprintf("%4d%s ", n, unit)
		}
	}
	return fmt.Sprintf("%4dT ", (n+500)/1000)
}

// ruleList is a rule in the columns of `iptables -L`.
type ruleList struct {
	target                   string
	proto, in, out, src, dst string
	protoInv, srcInv, dstInv byte
	rest                     [][]Span // each match's, then the target's
}

var protoNumbers = map[string]string{"all": "0", "icmp": "1", "tcp": "6", "udp": "17", "sctp": "132", "icmpv6": "58"}

// listForm reads a rule's iptables-save words into iptables -L's
// columns and words.
func listForm(r *kubeproxy.Rule) ruleList {
	l := ruleList{target: r.Target, proto: "0", in: "*", out: "*", src: "0.0.0.0/0", dst: "0.0.0.0/0", protoInv: ' ', srcInv: ' ', dstInv: ' '}
	toks := kubeproxy.Fields(r.Text)
	var module string
	var opts []string // the current module's or target's words
	flush := func() {
		if ws := matchWords(module, opts); module != "" && len(ws) > 0 {
			l.rest = append(l.rest, ws)
		}
		module, opts = "", nil
	}
	inTarget := false
	for i := 0; i < len(toks); i++ {
		w := toks[i]
		not := false
		if w == "!" && i+1 < len(toks) {
			not, i = true, i+1
			w = toks[i]
		}
		val := func() string {
			if i+1 < len(toks) {
				i++
				return toks[i]
			}
			return ""
		}
		inv := func(c *byte) {
			if not {
				*c = '!'
			}
		}
		switch {
		case !inTarget && (w == "-s" || w == "--source"):
			l.src = hostText(val())
			inv(&l.srcInv)
		case !inTarget && (w == "-d" || w == "--destination"):
			l.dst = hostText(val())
			inv(&l.dstInv)
		case !inTarget && (w == "-p" || w == "--protocol"):
			p := strings.ToLower(val())
			l.proto = cmp.Or(protoNumbers[p], p)
			inv(&l.protoInv)
		case !inTarget && (w == "-i" || w == "-o"):
			v := val()
			if not {
				v = "!" + v
			}
			if w == "-i" {
				l.in = v
			} else {
				l.out = v
			}
		case !inTarget && (w == "-m" || w == "--match"):
			flush()
			module = val()
		case w == "-j" || w == "-g" || w == "--jump" || w == "--goto":
			flush()
			val()
			inTarget, module = true, "target:"+r.Target
		default:
			if not {
				opts = append(opts, "!")
			}
			opts = append(opts, w)
		}
	}
	flush()
	return l
}

// hostText is an address as iptables -L -n prints it: a /32 without
// its length.
func hostText(s string) string {
	return strings.TrimSuffix(s, "/32")
}

// matchWords are a match's (or the target's) words in iptables -L's
// form, for the matches and targets kube-proxy writes; another's are
// shown as saved.
func matchWords(module string, opts []string) []Span {
	get := func(name string) (string, bool, bool) {
		for i, o := range opts {
			if o == name {
				not := i > 0 && opts[i-1] == "!"
				if i+1 < len(opts) {
					return opts[i+1], not, true
				}
				return "", not, true
			}
		}
		return "", false, false
	}
	switch module {
	case "comment":
		c, _, _ := get("--comment")
		return []Span{{Text: "/* " + c + " */"}}
	case "tcp", "udp", "sctp":
		out := []Span{{Text: module}}
		for _, o := range []struct{ opt, word string }{{"--sport", "spt"}, {"--source-port", "spt"}, {"--dport", "dpt"}, {"--destination-port", "dpt"}} {
			if v, not, ok := get(o.opt); ok {
				word := o.word
				if strings.Contains(v, ":") {
					word += "s"
				}
				if not {
					v = "!" + v
				}
				out = append(out, Span{Text: word + ":" + v})
			}
		}
		return joinSpans(out)
	case "statistic":
		mode, _, _ := get("--mode")
		text := "statistic mode " + mode
		if p, _, ok := get("--probability"); ok {
			text += " probability " + p
		}
		if n, _, ok := get("--every"); ok {
			text += " every " + n
		}
		return []Span{{Text: text, Tag: TagProbability}}
	case "addrtype":
		text := "ADDRTYPE match"
		for _, o := range []struct{ opt, word string }{{"--src-type", "src-type"}, {"--dst-type", "dst-type"}} {
			if v, not, ok := get(o.opt); ok {
				if not {
					v = "!" + v
				}
				text += " " + o.word + " " + v
			}
		}
		return []Span{{Text: text}}
	case "mark":
		v, not, _ := get("--mark")
		if not {
			return []Span{{Text: "mark match ! " + v}}
		}
		return []Span{{Text: "mark match " + v}}
	case "recent":
		text := "recent:"
		switch {
		case has(opts, "--set"):
			text += " SET"
		case has(opts, "--rcheck"):
			text += " CHECK"
		case has(opts, "--update"):
			text += " UPDATE"
		case has(opts, "--remove"):
			text += " REMOVE"
		}
		if v, _, ok := get("--seconds"); ok {
			text += " seconds: " + v
		}
		if has(opts, "--reap") {
			text += " reap"
		}
		if v, _, ok := get("--name"); ok {
			text += " name: " + v
		}
		if has(opts, "--rdest") {
			text += " side: dest"
		} else {
			text += " side: source"
		}
		if v, _, ok := get("--mask"); ok {
			text += " mask: " + v
		}
		return []Span{{Text: text}}
	case "target:DNAT":
		v, _, _ := get("--to-destination")
		out := []Span{{Text: "to:" + v, Tag: TagDNAT}}
		if has(opts, "--random") {
			out = append(out, Span{Text: " random"})
		}
		return out
	case "target:MARK":
		return []Span{{Text: markWords(get)}}
	case "target:MASQUERADE":
		var ws []string
		if v, _, ok := get("--to-ports"); ok {
			ws = append(ws, "masq ports: "+v)
		}
		for _, f := range []string{"--random", "--random-fully"} {
			if has(opts, f) {
				ws = append(ws, strings.TrimPrefix(f, "--"))
			}
		}
		if len(ws) == 0 {
			return nil
		}
		return []Span{{Text: strings.Join(ws, " ")}}
	}
	if strings.HasPrefix(module, "target:") {
		if len(opts) == 0 {
			return nil
		}
		return []Span{{Text: strings.Join(opts, " ")}}
	}
	return []Span{{Text: strings.TrimSpace(module + " " + strings.Join(opts, " "))}}
}

func has(opts []string, o string) bool { return slices.Contains(opts, o) }

// joinSpans puts spaces between the spans of one match.
func joinSpans(ss []Span) []Span {
	var out []Span
	for i, s := range ss {
		if i > 0 {
			s.Text = " " + s.Text
		}
		out = append(out, s)
	}
	return out
}

// markWords is the MARK target as iptables -L says it.
func markWords(get func(string) (string, bool, bool)) string {
	for _, o := range []struct{ opt, word string }{{"--or-mark", "or"}, {"--xor-mark", "xor"}, {"--and-mark", "and"}, {"--set-mark", "set"}} {
		if v, _, ok := get(o.opt); ok {
			return "MARK " + o.word + " " + v
		}
	}
	v, _, ok := get("--set-xmark")
	if !ok {
		return "MARK"
	}
	val, mask, _ := strings.Cut(v, "/")
	vn, err1 := strconv.ParseUint(strings.TrimPrefix(val, "0x"), 16, 32)
	mn, err2 := strconv.ParseUint(strings.TrimPrefix(mask, "0x"), 16, 32)
	if err1 != nil || err2 != nil || mask == "" {
		return "MARK xset " + v
	}
	switch {
	case mn == 0:
		return fmt.Sprintf("MARK xor 0x%x", vn)
	case vn == 0:
		return fmt.Sprintf("MARK and 0x%x", ^mn&0xffffffff)
	case vn == mn:
		return fmt.Sprintf("MARK or 0x%x", vn)
	case mn == 0xffffffff:
		return fmt.Sprintf("MARK set 0x%x", vn)
	}
	return "MARK xset " + v
}
