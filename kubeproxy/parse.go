package kubeproxy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"podlab/netview"
)

// Limits bound what ParseSave reads: a node's nat table is outside
// input, and a broken or hostile one must cost a one-line error, not
// the machine's memory.
type Limits struct {
	Lines     int // lines in all
	Rules     int // rules in all
	LineBytes int // bytes in one line
}

// DefaultLimits hold kube-proxy's rules for a large cluster with room to
// spare: 5,000 services with 20,000 endpoints are about 90,000 rules,
// and no rule iptables-save prints comes near 16 KiB (a comment is at
// most 256 bytes).
var DefaultLimits = Limits{Lines: 4_000_000, Rules: 2_000_000, LineBytes: 16 << 10}

// The caps of the strings a rule carries, in bytes before cleaning.
const (
	capChain   = 256 // nftables' longest name; iptables' is 28
	capComment = 256 // xt_comment's limit
	capValue   = 128 // an address, a port range, a probability, a verdict
)

// ParseSave reads what `iptables-save -c -t nat` prints (counters are
// read when present) into a Table of the nat table. A line it cannot
// read is left out and counted in Skipped; a bound passed is an error
// that names it.
func ParseSave(r io.Reader, lim Limits) (*Table, error) {
	t := &Table{Mode: ModeIPTables, byName: map[string]int{}}
	p := parser{t: t, last: -1}
	sc := bufio.NewScanner(r)
	// The buffer's capacity is a bound too (bufio.Scanner takes the
	// larger), so it starts no larger than the bound.
	sc.Buffer(make([]byte, 0, min(64<<10, lim.LineBytes+1)), lim.LineBytes+1)
	var (
		toks   []string
		tables int
		rules  int
		n      int
	)
	for sc.Scan() {
		n++
		if n > lim.Lines {
			return nil, fmt.Errorf("the nat table is longer than %d lines: podlab reads at most that many", lim.Lines)
		}
		b := bytes.TrimRight(sc.Bytes(), "\r")
		if len(b) == 0 || b[0] == '#' {
			continue
		}
		switch b[0] {
		case '*':
			tables++
			if tables > 1 {
				return nil, fmt.Errorf("line %d: a second table; podlab reads one (iptables-save -t nat)", n)
			}
			t.Name = clip(string(b[1:]), capValue)
			continue
		case ':':
			if !t.chainLine(b[1:]) {
				t.Skipped++
			}
			continue
		}
		if string(b) == "COMMIT" {
			continue
		}
		rules++
		if rules > lim.Rules {
			return nil, fmt.Errorf("the nat table holds more than %d rules: podlab reads at most that many", lim.Rules)
		}
		// One string per line: every field of the rule is a piece of
		// it, so a large table costs its text once.
		var ok bool
		toks, ok = p.ruleLine(string(b), toks[:0])
		if !ok {
			t.Skipped++
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d is longer than %d bytes: podlab reads no longer line", n+1, lim.LineBytes)
		}
		return nil, fmt.Errorf("reading the nat table: %s", netview.FirstLine(err.Error()))
	}
	return t, nil
}

// clip is netview.Cut for a string that is nearly always clean and
// short already: those are kept as they are, without Cut's walk.
func clip(s string, max int) string {
	if len(s) <= max && netview.IsClean(s) {
		return s
	}
	return netview.Cut(s, max)
}

// chainLine reads ":NAME POLICY [packets:bytes]".
func (t *Table) chainLine(b []byte) bool {
	f := strings.Fields(string(b))
	if len(f) < 2 || len(f) > 3 {
		return false
	}
	var p, by uint64
	if len(f) == 3 {
		var ok bool
		if p, by, ok = counters(f[2]); !ok {
			return false
		}
	}
	c := t.AddChain(clip(f[0], capChain), clip(f[1], capValue))
	c.Packets, c.Bytes = p, by
	return true
}

// counters reads "[packets:bytes]".
func counters(s string) (p, b uint64, ok bool) {
	if len(s) < 5 || s[0] != '[' || s[len(s)-1] != ']' {
		return 0, 0, false
	}
	ps, bs, found := strings.Cut(s[1:len(s)-1], ":")
	if !found {
		return 0, 0, false
	}
	p, err1 := strconv.ParseUint(ps, 10, 64)
	b, err2 := strconv.ParseUint(bs, 10, 64)
	return p, b, err1 == nil && err2 == nil
}

// parser is ParseSave's state between rules.
type parser struct {
	t    *Table
	last int // the chain the last rule went to, or -1
	// block holds the rules of many chains, each chain's a piece of
	// it: 25,000 small chains would otherwise each grow a slice of
	// their own, which cost a third of the parse. start is where the
	// last chain's rules begin in it, or -1 when they are elsewhere.
	block []Rule
	start int
}

const blockRules = 1024

// add appends r to the rules of chain i.
func (p *parser) add(i int, r Rule) {
	c := &p.t.Chains[i]
	if i != p.last {
		p.last, p.start = i, len(p.block)
		if len(c.Rules) > 0 {
			// The chain's rules came before another chain's: they
			// go on in a slice of their own.
			p.start = -1
		}
	}
	if p.start < 0 {
		c.Rules = append(c.Rules, r)
		return
	}
	if len(p.block) == cap(p.block) {
		n := len(p.block) - p.start
		nb := make([]Rule, n, max(blockRules, 2*n))
		copy(nb, p.block[p.start:])
		p.block, p.start = nb, 0
	}
	p.block = append(p.block, r)
	// The cap ends at the length, so that no append to a chain's rules
	// elsewhere can write over the next chain's.
	c.Rules = p.block[p.start:len(p.block):len(p.block)]
}

// ruleLine reads "[p:b] -A CHAIN matches… -j TARGET …" into its chain.
// toks is a buffer for the line's words, handed back for the next line.
func (p *parser) ruleLine(line string, toks []string) ([]string, bool) {
	t := p.t
	var r Rule
	if line[0] == '[' {
		end := strings.IndexByte(line, ']')
		if end < 0 {
			return toks, false
		}
		var ok bool
		if r.Packets, r.Bytes, ok = counters(line[:end+1]); !ok {
			return toks, false
		}
		r.Counted = true
		line = strings.TrimLeft(line[end+1:], " ")
	}
	toks, ok := words(line, toks)
	if !ok || len(toks) < 2 || toks[0] != "-A" {
		return toks, false
	}
	chain := clip(toks[1], capChain)
	r.Text = clip(strings.TrimLeft(strings.TrimPrefix(line, "-A "+toks[1]), " "), DefaultLimits.LineBytes)
	not := false
	for i := 2; i < len(toks); i++ {
		w := toks[i]
		if w == "!" {
			not = true
			continue
		}
		var dst *string
		var m *Match
		switch w {
		case "-s", "--source":
			m = &r.Source
		case "-d", "--destination":
			m = &r.Dest
		case "-p", "--protocol":
			m = &r.Protocol
		case "--dport", "--dports", "--destination-port":
			m = &r.DPort
		case "--comment":
			dst = &r.Comment
		case "--probability":
			dst = &r.Probability
		case "-j", "--jump":
			dst = &r.Target
		case "-g", "--goto":
			dst, r.Goto = &r.Target, true
		case "--to-destination":
			dst = &r.ToDest
		case "--rcheck":
			r.Affinity = true
		}
		if dst == nil && m == nil {
			not = false
			continue
		}
		if i+1 >= len(toks) {
			return toks, false
		}
		i++
		v := toks[i]
		switch {
		case m != nil:
			*m = Match{Value: clip(v, capValue), Not: not}
		case dst == &r.Comment:
			*dst = clip(v, capComment)
		case dst == &r.Target:
			*dst = clip(v, capChain)
		default:
			*dst = clip(v, capValue)
		}
		not = false
	}
	// iptables-save prints a chain's rules together: the last chain
	// is nearly always this rule's.
	i := p.last
	if i < 0 || t.Chains[i].Name != chain {
		t.AddChain(chain, "-")
		i = t.byName[chain]
	}
	p.add(i, r)
	return toks, true
}

// words splits a rule as iptables-save quotes it (libxtables'
// xtables_save_string): a word with anything but [A-Za-z0-9_-] is in
// double quotes, with `"`, `\` and `'` escaped by a backslash. Words are
// pieces of line unless they held an escape.
func words(line string, out []string) ([]string, bool) {
	for i := 0; i < len(line); {
		switch line[i] {
		case ' ', '\t':
			i++
			continue
		case '"':
			j, esc := i+1, false
			for ; j < len(line) && line[j] != '"'; j++ {
				if line[j] == '\\' {
					esc = true
					j++
				}
			}
			if j >= len(line) {
				return out, false
			}
			w := line[i+1 : j]
			if esc {
				w = unescape(w)
			}
			out = append(out, w)
			i = j + 1
		default:
			j := i
			for j < len(line) && line[j] != ' ' && line[j] != '\t' {
				j++
			}
			out = append(out, line[i:j])
			i = j
		}
	}
	return out, true
}

func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
