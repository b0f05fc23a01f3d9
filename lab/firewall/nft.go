package firewall

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"podlab/kubeproxy"
	"podlab/lab"
	"podlab/netview"
)

// ReadNFT reads kube-proxy's nftables-mode table (`ip kube-proxy`) in the
// namespace r over netlink: its chains and rules (counters where a rule
// has one), and the maps a walk follows (service-ips,
// service-nodeports, and each numgen map a service chain DNATs through).
// A namespace without the table is an error that says so.
func ReadNFT(ctx context.Context, r lab.NSRef) (*kubeproxy.Table, error) {
	return readNFT(ctx, r, kubeproxy.DefaultLimits)
}

func readNFT(ctx context.Context, r lab.NSRef, lim kubeproxy.Limits) (*kubeproxy.Table, error) {
	var c *nftables.Conn
	err := lab.InNS(r, func() error {
		// The socket is made on this thread, so it belongs to the
		// namespace the thread joined; it is read from here, off the
		// locked thread, whose every wait on the socket would cost a
		// hand-off between threads (5,000 services: 7 s instead of 2).
		var err error
		c, err = nftables.New(nftables.AsLasting())
		if err != nil {
			return fmt.Errorf("opening netlink to nftables: %s", netview.FirstLine(err.Error()))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	defer c.CloseLasting()
	return readNFTConn(ctx, c, lim)
}

func readNFTConn(ctx context.Context, c *nftables.Conn, lim kubeproxy.Limits) (*kubeproxy.Table, error) {
	tab, err := c.ListTableOfFamily(kubeproxy.NFTTable, nftables.TableFamilyIPv4)
	if err != nil {
		return nil, fmt.Errorf("no nftables table ip %s here (is kube-proxy in nftables mode?): %s", kubeproxy.NFTTable, netview.FirstLine(err.Error()))
	}
	t := &kubeproxy.Table{Mode: kubeproxy.ModeNFTables, Name: kubeproxy.NFTTable}
	sets, err := c.GetSets(tab)
	if err != nil {
		return nil, fmt.Errorf("reading the sets of ip %s: %s", kubeproxy.NFTTable, netview.FirstLine(err.Error()))
	}
	byName := make(map[string]*nftables.Set, len(sets))
	for _, s := range sets {
		byName[s.Name] = s
	}
	elems := 0
	elements := func(name string) ([]nftables.SetElement, error) {
		s := byName[name]
		if s == nil {
			return nil, nil
		}
		el, err := c.GetSetElements(s)
		if err != nil {
			return nil, fmt.Errorf("reading the elements of %s: %s", netview.Cut(name, 64), netview.FirstLine(err.Error()))
		}
		if elems += len(el); elems > lim.Rules {
			return nil, fmt.Errorf("the table's maps hold more than %d elements: podlab reads at most that many", lim.Rules)
		}
		return el, nil
	}
	for _, name := range []string{kubeproxy.NFTServiceIPsMap, kubeproxy.NFTNodePortsMap} {
		el, err := elements(name)
		if err != nil {
			return nil, err
		}
		if byName[name] == nil {
			continue
		}
		m := kubeproxy.Map{Name: name}
		for _, e := range el {
			kind, chain, ok := verdict(e)
			if !ok {
				continue
			}
			me := kubeproxy.MapElem{Key: mapKey(e.Key), Goto: kind == expr.VerdictGoto, Target: netview.Cut(chain, capChain)}
			m.Elems = append(m.Elems, me)
		}
		t.Maps = append(t.Maps, m)
	}
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return nil, fmt.Errorf("listing the chains: %s", netview.FirstLine(err.Error()))
	}
	rules := 0
	for _, ch := range chains {
		if ch.Table == nil || ch.Table.Name != kubeproxy.NFTTable {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("reading ip %s took longer than podlab waits: %w", kubeproxy.NFTTable, err)
		}
		policy := "-"
		if ch.Policy != nil {
			policy = map[nftables.ChainPolicy]string{nftables.ChainPolicyAccept: "accept", nftables.ChainPolicyDrop: "drop"}[*ch.Policy]
		}
		name := netview.Cut(ch.Name, capChain)
		t.AddChain(name, policy)
		rs, err := c.GetRules(tab, ch)
		if err != nil {
			return nil, fmt.Errorf("reading the rules of %s: %s", name, netview.FirstLine(err.Error()))
		}
		if rules += len(rs); rules > lim.Rules {
			return nil, fmt.Errorf("ip %s holds more than %d rules: podlab reads at most that many", kubeproxy.NFTTable, lim.Rules)
		}
		out := make([]kubeproxy.Rule, 0, len(rs))
		for _, r := range rs {
			kr, err := rule(r, elements)
			if err != nil {
				return nil, err
			}
			out = append(out, kr)
		}
		t.Chain(name).Rules = out
	}
	return t, nil
}

const capChain = 256

// rule turns a rule's expressions into the model: the verdict, the
// counter, a DNAT (to one address, or through a numgen map or vmap), and
// a text in nft's words for what podlab understands of it.
func rule(r *nftables.Rule, elements func(string) ([]nftables.SetElement, error)) (kubeproxy.Rule, error) {
	var (
		kr     kubeproxy.Rule
		m      kubeproxy.Matches
		words  []string
		imm    = map[uint32][]byte{}
		loads  []load // what the registers hold, for a comparison or a lookup
		numgen *expr.Numgen
		lookup *expr.Lookup
	)
	for _, e := range r.Exprs {
		switch e := e.(type) {
		case *expr.Counter:
			kr.Counted, kr.Packets, kr.Bytes = true, e.Packets, e.Bytes
			words = append(words, fmt.Sprintf("counter packets %d bytes %d", e.Packets, e.Bytes))
		case *expr.Meta:
			if e.SourceRegister {
				words = append(words, load{meta: e.Key, ok: true}.name()+" set …")
				break
			}
			loads = append(loads, load{meta: e.Key, ok: true})
		case *expr.Payload:
			if e.OperationType == expr.PayloadLoad {
				loads = append(loads, load{pay: e, ok: true})
			}
		case *expr.Fib:
			loads = append(loads, load{fib: true, ok: true})
		case *expr.Bitwise:
			if n := len(loads); n > 0 {
				loads[n-1].mask = e.Mask
			}
		case *expr.Cmp:
			var l load
			if n := len(loads); n > 0 {
				l, loads = loads[n-1], loads[:n-1]
			}
			words = append(words, cmpWords(&m, l, e)...)
		case *expr.Immediate:
			imm[e.Register] = e.Data
		case *expr.Numgen:
			numgen = e
		case *expr.Lookup:
			lookup = e
			keys := make([]string, len(loads))
			for i, l := range loads {
				keys[i] = l.name()
			}
			loads = loads[:0]
			key := strings.Join(keys, " . ")
			if key != "" {
				key += " "
			}
			switch {
			case strings.HasPrefix(e.SetName, "__"):
			case e.IsDestRegSet && e.DestRegister == 0:
				words = append(words, key+"vmap @"+netview.Cut(e.SetName, capChain))
			default:
				words = append(words, key+"@"+netview.Cut(e.SetName, capChain))
			}
			if numgen != nil && strings.HasPrefix(e.SetName, "__") {
				el, err := elements(e.SetName)
				if err != nil {
					return kr, err
				}
				m.Choices = choices(el)
				if e.DestRegister == 0 {
					words = append(words, fmt.Sprintf("numgen random mod %d vmap %s", numgen.Modulus, choicesText(m.Choices)))
				}
			}
		case *expr.NAT:
			if e.Type != expr.NATTypeDestNAT {
				words = append(words, "snat")
				break
			}
			kr.Target = "DNAT"
			switch {
			case lookup != nil && len(m.Choices) > 0:
				words = append(words, "dnat ip addr . port to numgen random mod "+strconv.Itoa(len(m.Choices))+" map "+choicesText(m.Choices))
			default:
				m.ToDest = addrPort(imm[e.RegAddrMin], imm[e.RegProtoMin])
				words = append(words, "dnat to "+m.ToDest)
			}
		case *expr.Masq:
			words = append(words, "masquerade")
		case *expr.Verdict:
			switch e.Kind {
			case expr.VerdictJump, expr.VerdictGoto:
				kr.Target, kr.Goto = netview.Cut(e.Chain, capChain), e.Kind == expr.VerdictGoto
				words = append(words, map[bool]string{true: "goto", false: "jump"}[kr.Goto]+" "+kr.Target)
			case expr.VerdictAccept:
				words = append(words, "accept")
			case expr.VerdictDrop:
				words = append(words, "drop")
			case expr.VerdictReturn:
				words = append(words, "return")
			}
		}
	}
	if len(r.UserData) > 0 {
		if c, ok := comment(r.UserData); ok {
			m.Comment = netview.Cut(c, 256)
			words = append(words, `comment "`+m.Comment+`"`)
		}
	}
	kr.Text = netview.Cut(strings.Join(words, " "), 16<<10)
	kr.Parsed = &m
	return kr, nil
}

// load is what an expression put in a register: a meta key, a payload
// field (with the mask a bitwise laid on it), or a fib lookup.
type load struct {
	meta expr.MetaKey
	pay  *expr.Payload
	fib  bool
	mask []byte
	ok   bool
}

// name is the load in nft's words, for the fields kube-proxy matches.
func (l load) name() string {
	switch {
	case l.fib:
		return "fib daddr type"
	case l.meta == expr.MetaKeyL4PROTO:
		return "meta l4proto"
	case l.meta == expr.MetaKeyMARK:
		return "meta mark"
	case l.pay != nil && l.pay.Base == expr.PayloadBaseNetworkHeader && l.pay.Offset == 12 && l.pay.Len == 4:
		return "ip saddr"
	case l.pay != nil && l.pay.Base == expr.PayloadBaseNetworkHeader && l.pay.Offset == 16 && l.pay.Len == 4:
		return "ip daddr"
	case l.pay != nil && l.pay.Base == expr.PayloadBaseTransportHeader && l.pay.Offset == 2 && l.pay.Len == 2:
		return "th dport"
	case l.ok:
		return "…"
	}
	return ""
}

// cmpWords reads the comparisons kube-proxy writes: the protocol, the
// addresses (a prefix when masked) and the destination port.
func cmpWords(kr *kubeproxy.Matches, l load, c *expr.Cmp) []string {
	not := c.Op == expr.CmpOpNeq
	op := ""
	if not {
		op = "!= "
	}
	name := l.name()
	switch name {
	case "meta l4proto":
		if len(c.Data) != 1 {
			break
		}
		kr.Protocol = kubeproxy.Match{Value: protoName(c.Data[0]), Not: not}
		return []string{name + " " + op + kr.Protocol.Value}
	case "ip saddr", "ip daddr":
		if len(c.Data) != 4 {
			break
		}
		a := netip.AddrFrom4([4]byte(c.Data)).String()
		if len(l.mask) == 4 {
			ones := 0
			for _, b := range l.mask {
				ones += bits.OnesCount8(b)
			}
			a = netip.PrefixFrom(netip.AddrFrom4([4]byte(c.Data)), ones).String()
		}
		m := kubeproxy.Match{Value: a, Not: not}
		if name == "ip saddr" {
			kr.Source = m
		} else {
			kr.Dest = m
		}
		return []string{name + " " + op + a}
	case "th dport":
		if len(c.Data) != 2 {
			break
		}
		p := strconv.Itoa(int(binary.BigEndian.Uint16(c.Data)))
		kr.DPort = kubeproxy.Match{Value: p, Not: not}
		return []string{name + " " + op + p}
	case "fib daddr type":
		if len(c.Data) == 4 && binary.NativeEndian.Uint32(c.Data) == unix.RTN_LOCAL {
			return []string{name + " " + op + "local"}
		}
	}
	if name == "" {
		return nil
	}
	return []string{name + " " + op + "…"}
}

// choices reads a numgen map's elements: key the number drawn, value an
// address and port (a DNAT map) or a verdict (a vmap to endpoint chains).
func choices(el []nftables.SetElement) []kubeproxy.Choice {
	out := make([]kubeproxy.Choice, 0, len(el))
	for _, e := range el {
		if len(e.Key) < 4 {
			continue
		}
		c := kubeproxy.Choice{Index: int(binary.NativeEndian.Uint32(e.Key))}
		if _, chain, ok := verdict(e); ok {
			c.Chain = netview.Cut(chain, capChain)
			out = append(out, c)
			continue
		}
		switch {
		case len(e.Val) >= 6:
			c.ToDest = addrPort(e.Val[:4], e.Val[4:6])
		default:
			continue
		}
		out = append(out, c)
	}
	// The kernel hands elements back in its own order; the walk reads
	// them by the number drawn.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Index < out[j-1].Index; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func choicesText(cs []kubeproxy.Choice) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		v := c.ToDest
		if c.Chain != "" {
			v = "goto " + c.Chain
		}
		parts[i] = strconv.Itoa(c.Index) + " : " + v
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

// addrPort is an IPv4 address and a big-endian port as "ip:port".
func addrPort(a, p []byte) string {
	if len(a) < 4 {
		return ""
	}
	ip := netip.AddrFrom4([4]byte(a[:4]))
	if len(p) < 2 {
		return ip.String()
	}
	return kubeproxy.Endpoint(ip.String(), int(binary.BigEndian.Uint16(p[:2])))
}

// mapKey reads a service-ips key (address . protocol . port, each in a
// 4-byte register) or a service-nodeports key (protocol . port).
func mapKey(k []byte) []string {
	switch len(k) {
	case 12:
		return []string{netip.AddrFrom4([4]byte(k[:4])).String(), protoName(k[4]), strconv.Itoa(int(binary.BigEndian.Uint16(k[8:10])))}
	case 8:
		return []string{protoName(k[0]), strconv.Itoa(int(binary.BigEndian.Uint16(k[4:6])))}
	}
	return []string{fmt.Sprintf("%x", k)}
}

func protoName(p byte) string {
	switch p {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 132:
		return "sctp"
	}
	return strconv.Itoa(int(p))
}

// verdict reads a verdict map element's verdict. The library hands it
// back as the raw netlink attributes in Val (NFTA_VERDICT_CODE, a
// big-endian int32; NFTA_VERDICT_CHAIN, the chain's name), not in
// VerdictData; both are read.
func verdict(e nftables.SetElement) (expr.VerdictKind, string, bool) {
	if e.VerdictData != nil {
		return e.VerdictData.Kind, e.VerdictData.Chain, true
	}
	var (
		kind         expr.VerdictKind
		chain        string
		code, hasKey bool
	)
	for b := e.Val; len(b) >= 4; {
		n := int(binary.NativeEndian.Uint16(b[0:2]))
		typ := binary.NativeEndian.Uint16(b[2:4]) &^ unix.NLA_F_NESTED
		if n < 4 || n > len(b) {
			return 0, "", false
		}
		data := b[4:n]
		switch typ {
		case unix.NFTA_VERDICT_CODE:
			if len(data) != 4 {
				return 0, "", false
			}
			kind, code = expr.VerdictKind(int32(binary.BigEndian.Uint32(data))), true
		case unix.NFTA_VERDICT_CHAIN:
			chain, hasKey = strings.TrimRight(string(data), "\x00"), true
		}
		b = b[min((n+3)&^3, len(b)):]
	}
	return kind, chain, code && (hasKey || (kind != expr.VerdictJump && kind != expr.VerdictGoto))
}

// comment reads nft's rule comment from the rule's user data (a TLV:
// type 0, length, text with its NUL).
func comment(ud []byte) (string, bool) {
	for len(ud) >= 2 {
		typ, n := ud[0], int(ud[1])
		if 2+n > len(ud) {
			return "", false
		}
		if typ == 0 {
			return strings.TrimRight(string(ud[2:2+n]), "\x00"), true
		}
		ud = ud[2+n:]
	}
	return "", false
}
