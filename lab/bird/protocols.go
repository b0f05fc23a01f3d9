package bird

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"podlab/netview"
)

// The codes of `show protocols all`'s lines.
const (
	codeOK       = 0
	codeHello    = 1
	codeRestrict = 16
	codeNoMatch  = 8003
	codeProtoRow = 1002
	codeDetails  = 1006
)

// protocolsParser builds the protocols from the lines of `show protocols
// [all]`: a 1002 line is a protocol's row, the 1006 lines after it are
// its details.
type protocolsParser struct {
	lim Limits
	out netview.BirdProtocols
	// ch is the channel the details are in, -1 outside one.
	ch int
}

func (p *protocolsParser) line(code int, text string) error {
	switch code {
	case codeProtoRow:
		if len(p.out) == p.lim.Protocols {
			return &LimitError{fmt.Sprintf("more than %d protocols", p.lim.Protocols)}
		}
		if pr, ok := parseRow(text); ok {
			p.out = append(p.out, pr)
			p.ch = -1
		}
	case codeDetails:
		if len(p.out) > 0 {
			return p.detail(&p.out[len(p.out)-1], text)
		}
	}
	return nil
}

// parseRow reads a row: name, kind, table, state, since and info,
// written by BIRD 2 as "%-10s %-10s %-10s %-6s %-12s  %s" (BIRD 1 has
// one space before the info). Since is one word, or two when the time
// format has a date and a time ("2026-12-05 08:12:10").
func parseRow(text string) (netview.BirdProtocol, bool) {
	var p netview.BirdProtocol
	rest := text
	for _, f := range []*string{&p.Name, &p.Proto, &p.Table, &p.State} {
		*f, rest = word(rest)
	}
	if p.State == "" {
		return p, false
	}
	rest = strings.TrimLeft(rest, " ")
	since, info, twoSpaces := strings.Cut(rest, "  ")
	if sf := strings.Fields(since); !twoSpaces || len(sf) > 2 || len(sf) == 2 && !startsWithDigit(sf[1]) {
		since, info = word(rest)
	}
	p.Since = strings.TrimSpace(since)
	p.Info = strings.Join(strings.Fields(info), " ")
	return p, true
}

// word is s's first space-separated word and what follows it.
func word(s string) (string, string) {
	s = strings.TrimLeft(s, " ")
	i := strings.IndexByte(s, ' ')
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// detail reads one line of a protocol's details: "Key: value" lines,
// indented two spaces for the protocol's and four for what is under a
// heading ("BGP state:", "Channel ipv4"). BIRD 1 has no channels: its
// filters and counts are the protocol's, and read as one channel's.
func (p *protocolsParser) detail(pr *netview.BirdProtocol, text string) error {
	t := strings.TrimLeft(text, " ")
	indent := len(text) - len(t)
	if indent <= 2 {
		p.ch = -1
		if name, ok := strings.CutPrefix(t, "Channel "); ok {
			return p.channel(pr, strings.TrimSpace(name))
		}
	}
	key, val, ok := strings.Cut(t, ":")
	if !ok {
		return nil
	}
	val = strings.Join(strings.Fields(val), " ")
	switch key {
	case "Description":
		pr.Description = val
	case "BGP state":
		bgp(pr).State = val
	case "Neighbor address":
		bgp(pr).NeighborAddr = addr(val)
	case "Neighbor AS":
		bgp(pr).NeighborAS = asNumber(val)
	case "Local AS":
		bgp(pr).LocalAS = asNumber(val)
	case "Neighbor ID":
		bgp(pr).NeighborID = addr(val)
	case "Source address":
		bgp(pr).SourceAddr = addr(val)
	case "Last error":
		bgp(pr).LastError = val
	case "State", "Table", "Input filter", "Output filter", "Routes":
		if p.ch < 0 {
			if indent > 2 || key == "State" || key == "Table" {
				return nil // not a channel's: under another heading
			}
			if err := p.channel(pr, ""); err != nil {
				return err
			}
		}
		c := &pr.Channels[p.ch]
		switch key {
		case "State":
			c.State = val
		case "Table":
			c.Table = val
		case "Input filter":
			c.ImportFilter = val
		case "Output filter":
			c.ExportFilter = val
		case "Routes":
			c.Routes = routeCounts(val)
			pr.Routes = sumRoutes(pr.Channels)
		}
	}
	return nil
}

// channel starts (or, BIRD 1's unnamed one, finds) a channel of pr.
func (p *protocolsParser) channel(pr *netview.BirdProtocol, name string) error {
	if name == "" {
		for i, c := range pr.Channels {
			if c.Name == "" {
				p.ch = i
				return nil
			}
		}
	}
	if len(pr.Channels) == p.lim.Channels {
		return &LimitError{fmt.Sprintf("more than %d channels in protocol %s", p.lim.Channels, netview.Cut(pr.Name, 64))}
	}
	pr.Channels = append(pr.Channels, netview.BirdChannel{Name: name})
	p.ch = len(pr.Channels) - 1
	return nil
}

func bgp(pr *netview.BirdProtocol) *netview.BirdBGP {
	if pr.BGP == nil {
		pr.BGP = &netview.BirdBGP{}
	}
	return pr.BGP
}

// addr is an address BIRD printed; the zero Addr when it is none.
func addr(s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a
}

// asNumber reads an AS number (BIRD prints it in plain decimal).
func asNumber(s string) uint32 {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0
	}
	return uint32(n)
}

// routeCounts reads "1 imported, 0 filtered, 2 exported, 1 preferred".
func routeCounts(s string) netview.BirdRoutes {
	var r netview.BirdRoutes
	for part := range strings.SplitSeq(s, ",") {
		f := strings.Fields(part)
		if len(f) != 2 {
			continue
		}
		n, err := strconv.Atoi(f[0])
		if err != nil || n < 0 {
			continue
		}
		n = min(n, maxCount)
		switch f[1] {
		case "imported":
			r.Imported = n
		case "filtered":
			r.Filtered = n
		case "exported":
			r.Exported = n
		case "preferred":
			r.Preferred = n
		}
	}
	return r
}

// sumRoutes adds the channels' counts, saturating: the numbers come
// from outside.
func sumRoutes(cs []netview.BirdChannel) netview.BirdRoutes {
	var r netview.BirdRoutes
	add := func(a *int, b int) { *a = min(*a+b, maxCount) }
	for _, c := range cs {
		add(&r.Imported, c.Routes.Imported)
		add(&r.Filtered, c.Routes.Filtered)
		add(&r.Exported, c.Routes.Exported)
		add(&r.Preferred, c.Routes.Preferred)
	}
	return r
}

// maxCount caps a count: more than any table holds.
const maxCount = 1 << 40
