package kubeproxy

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"podlab/termtext"
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
// spare: 5,000 services with 20,000 endpoints are about 72,000 rules,
// and no rule iptables-save prints comes near 16 KiB (a comment is at
// most 256 bytes).
var DefaultLimits = Limits{Lines: 1_000_000, Rules: 500_000, LineBytes: 16 << 10}

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
	lr := lineReader{r: r, buf: make([]byte, 256<<10), max: lim.LineBytes}
	var (
		toks   []string
		tables int
		rules  int
		n      int
	)
	for {
		line, ok, err := lr.next()
		if err != nil {
			if errors.Is(err, errLineTooLong) {
				return nil, fmt.Errorf("line %d is longer than %d bytes: podlab reads no longer line", n+1, lim.LineBytes)
			}
			return nil, fmt.Errorf("reading the nat table: %s", termtext.Clean(termtext.FirstLine(err.Error())))
		}
		if !ok {
			return t, nil
		}
		n++
		if n > lim.Lines {
			return nil, fmt.Errorf("the nat table is longer than %d lines: podlab reads at most that many", lim.Lines)
		}
		line = strings.TrimRight(line, "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		switch line[0] {
		case '*':
			tables++
			if tables > 1 {
				return nil, fmt.Errorf("line %d: a second table; podlab reads one (iptables-save -t nat)", n)
			}
			t.Name = clip(line[1:], capValue)
			continue
		case ':':
			if !t.chainLine(line[1:]) {
				t.Skipped++
			}
			continue
		}
		if line == "COMMIT" {
			continue
		}
		rules++
		if rules > lim.Rules {
			return nil, fmt.Errorf("the nat table holds more than %d rules: podlab reads at most that many", lim.Rules)
		}
		toks, ok = p.ruleLine(line, toks[:0])
		if !ok {
			t.Skipped++
		}
	}
}

var errLineTooLong = errors.New("line too long")

// lineReader hands out lines as pieces of one string per read, not one
// per line: every field of a rule is then a piece of its read, and a
// table of 70,000 rules costs a few hundred allocations, not 70,000
// (which, with their page faults, cost more than the parse).
type lineReader struct {
	r     io.Reader
	buf   []byte
	rest  string // what the last read holds past the lines handed out
	carry []byte // a line begun in an earlier read
	max   int
	err   error // the reader's, once it has said it
}

// next is the next line without its newline; ok is false at the end.
func (l *lineReader) next() (line string, ok bool, err error) {
	for empty := 0; ; {
		if i := strings.IndexByte(l.rest, '\n'); i >= 0 {
			line, l.rest = l.rest[:i], l.rest[i+1:]
			if len(l.carry) > 0 {
				if len(l.carry)+len(line) > l.max {
					return "", false, errLineTooLong
				}
				line = string(append(l.carry, line...))
				l.carry = l.carry[:0]
			}
			if len(line) > l.max {
				return "", false, errLineTooLong
			}
			return line, true, nil
		}
		if len(l.carry)+len(l.rest) > l.max {
			return "", false, errLineTooLong
		}
		l.carry, l.rest = append(l.carry, l.rest...), ""
		if l.err != nil {
			if len(l.carry) > 0 {
				line, l.carry = string(l.carry), l.carry[:0]
				return line, true, nil
			}
			if l.err == io.EOF {
				return "", false, nil
			}
			return "", false, l.err
		}
		n, err := l.r.Read(l.buf)
		if n > 0 {
			l.rest = string(l.buf[:n])
		}
		l.err = err
		if n == 0 && err == nil {
			if empty++; empty > 100 {
				l.err = io.ErrNoProgress
			}
		}
	}
}

// cut bounds a string known to be clean.
func cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return termtext.Cut(s, max)
}

// clip is netview.Cut for a string that is nearly always clean and
// short already: those are kept as they are, without Cut's walk.
func clip(s string, max int) string {
	if len(s) <= max && termtext.IsClean(s) {
		return s
	}
	return termtext.Cut(s, max)
}

// chainLine reads ":NAME POLICY [packets:bytes]".
func (t *Table) chainLine(line string) bool {
	name, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
	policy, cnt, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
	cnt = strings.TrimSpace(cnt)
	if name == "" || policy == "" || strings.ContainsAny(cnt, " \t") {
		return false
	}
	var p, by uint64
	if cnt != "" {
		var ok bool
		if p, by, ok = counters(cnt); !ok {
			return false
		}
	}
	c := t.AddChain(clip(name, capChain), clip(policy, capValue))
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
	// One look at the whole line: when it is clean (nearly always), so
	// is every word of it, and only their lengths are left to bound.
	clean := len(line) <= DefaultLimits.LineBytes && termtext.IsClean(line)
	chain := toks[1]
	if !clean || len(chain) > capChain {
		chain = clip(chain, capChain)
	}
	text := strings.TrimLeft(strings.TrimPrefix(line, "-A "+toks[1]), " ")
	var m *Matches
	if !clean {
		// Match could not read the matches back from the cleaned
		// text (an escape is not what was there): they are read now,
		// each cleaned on its own.
		m = new(Matches)
	}
	if !scan(toks[2:], m, &r.Target, &r.Goto, clean) {
		return toks, false
	}
	r.Text, r.Parsed = text, m
	if !clean {
		r.Text = termtext.Cut(text, DefaultLimits.LineBytes)
	}
	// iptables-save prints a chain's rules together: the last chain
	// is nearly always this rule's.
	i := p.last
	if i < 0 || t.Chains[i].Name != chain {
		i = t.addChain(chain, "-")
	}
	p.add(i, r)
	return toks, true
}

// scan reads a rule's words after `-A CHAIN`: the target, and into m
// (when not nil) the matches. It is false when an option lacks its value.
// clean says the words are known to be clean.
func scan(toks []string, m *Matches, target *string, isGoto *bool, clean bool) bool {
	clip := clip
	if clean {
		clip = cut
	}
	var sink Matches
	if m == nil {
		m = &sink
	}
	not := false
	for i := 0; i < len(toks); i++ {
		w := toks[i]
		if w == "!" {
			not = true
			continue
		}
		var dst *string
		var mv *Match
		capacity := capValue
		switch w {
		case "-s", "--source":
			mv = &m.Source
		case "-d", "--destination":
			mv = &m.Dest
		case "-p", "--protocol":
			mv = &m.Protocol
		case "--dport", "--dports", "--destination-port":
			mv = &m.DPort
		case "--comment":
			dst, capacity = &m.Comment, capComment
		case "--probability":
			dst = &m.Probability
		case "-j", "--jump":
			dst, capacity = target, capChain
		case "-g", "--goto":
			dst, capacity, *isGoto = target, capChain, true
		case "--to-destination":
			dst = &m.ToDest
		case "--rcheck":
			m.Affinity = true
		}
		if dst == nil && mv == nil {
			not = false
			continue
		}
		if i+1 >= len(toks) {
			return false
		}
		i++
		// The sink's fields are never read: only the target is kept
		// then, and only it is cleaned.
		switch {
		case mv != nil && m != &sink:
			*mv = Match{Value: clip(toks[i], capValue), Not: not}
		case dst == target:
			*dst = clip(toks[i], capacity)
		case dst != nil && m != &sink:
			*dst = clip(toks[i], capacity)
		}
		not = false
	}
	return true
}

// Match reads what the rule matches: from Parsed when its reader read
// it, else from Text, as iptables-save wrote it.
func (r *Rule) Match() Matches {
	if r.Parsed != nil {
		return *r.Parsed
	}
	var m Matches
	toks, ok := words(r.Text, make([]string, 0, 32))
	if !ok {
		return m
	}
	var target string
	var isGoto bool
	// Text is clean as the parse keeps it; each field is checked all
	// the same (a few rules are asked, not the table).
	scan(toks, &m, &target, &isGoto, false)
	return m
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
