package kubeproxy

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Walk is one service port followed through the table, as the lesson
// reads it: the rules that send its traffic in (KUBE-SERVICES for the
// cluster IP, KUBE-NODEPORTS for the node port), its KUBE-SVC chain, and
// one hop per endpoint down to the DNAT.
type Walk struct {
	Service ServicePort
	Mode    Mode
	// SVC and EXT are the chain names computed for the service port;
	// Found says whether the table has the chain the hops are in:
	// Chain, the SVC chain, or the KUBE-SVL chain of a service whose
	// traffic policy is Local and that has no SVC chain.
	SVC, EXT string
	Chain    string
	Found    bool
	Entries  []Entry
	Hops     []Hop
}

// Entry is a rule (or, in nftables mode, a map element) that sends the
// service's traffic to its chains.
type Entry struct {
	Chain  string // KUBE-SERVICES, KUBE-NODEPORTS; the map in nftables mode
	Index  int    // the rule's (element's) place in it, from 0
	Kind   string // cluster IP, node port, external IP, load balancer IP
	Target string
	Rule   Rule // nftables mode: the map's element as a rule, no counters
}

// Hop is one endpoint: the rule of the service chain that picks it, why
// it gets the share it gets, and the DNAT it ends in.
type Hop struct {
	Index       int    // the picking rule's place in the service chain, from 0
	Chain       string // KUBE-SEP-…; "" when the service chain DNATs itself (nftables)
	Probability string // as the rule prints it; "" for the last rule
	P           float64
	Reach       float64 // the share of new connections that reach the rule
	Share       float64 // Reach × P: the share that ends at this endpoint
	Why         string
	ToDest      string // the DNAT's ip:port
	// Want is the endpoint chain's name computed from the service port
	// and ToDest; Named says whether Chain is it.
	Want  string
	Named bool
	Rule  Rule // the picking rule (its counters)
	DNAT  Rule // the DNAT rule in the endpoint chain
}

// kinds are the words after the service port's name in kube-proxy's
// comments in KUBE-SERVICES.
var kinds = []string{"cluster IP", "external IP", "loadbalancer IP"}

// WalkService follows s through t.
func WalkService(t *Table, s ServicePort) Walk {
	if t.Mode == ModeNFTables {
		return walkNFT(t, s)
	}
	w := Walk{Service: s, Mode: t.Mode, SVC: SVCChain(s), EXT: EXTChain(s)}
	targets := map[string]bool{w.SVC: true, w.EXT: true, SVLChain(s): true, FWChain(s): true}
	for _, name := range []string{ChainServices, ChainNodePorts} {
		c := t.Chain(name)
		if c == nil {
			continue
		}
		for i, r := range c.Rules {
			if !targets[r.Target] {
				continue
			}
			kind := "node port"
			if name == ChainServices {
				kind = "service IP"
				comment := r.Match().Comment
				for _, k := range kinds {
					if strings.HasSuffix(comment, " "+k) {
						kind = k
					}
				}
			}
			w.Entries = append(w.Entries, Entry{Chain: name, Index: i, Kind: kind, Target: r.Target, Rule: r})
		}
	}
	w.Chain = w.SVC
	svc := t.Chain(w.SVC)
	if svc == nil {
		w.Chain = SVLChain(s)
		if svc = t.Chain(w.Chain); svc == nil {
			w.Chain = ""
			return w
		}
	}
	w.Found = true
	var picks []int
	var probs []string
	for i := range svc.Rules {
		r := &svc.Rules[i]
		if !strings.HasPrefix(r.Target, PrefixSEP) {
			continue
		}
		if m := r.Match(); !m.Affinity {
			picks, probs = append(picks, i), append(probs, m.Probability)
		}
	}
	reach := 1.0
	for n, i := range picks {
		r := svc.Rules[i]
		h := Hop{Index: i, Chain: r.Target, Probability: probs[n], P: 1, Reach: reach, Rule: r}
		if h.Probability != "" {
			p, err := strconv.ParseFloat(h.Probability, 64)
			if err != nil || p < 0 || p > 1 || math.IsNaN(p) {
				p = 0
			}
			h.P = p
		}
		h.Share = reach * h.P
		h.Why = why(n, len(picks), h)
		reach -= h.Share
		if sep := t.Chain(h.Chain); sep != nil {
			for _, d := range sep.Rules {
				if d.Target != "DNAT" {
					continue
				}
				if to := d.Match().ToDest; to != "" {
					h.ToDest, h.DNAT = to, d
					break
				}
			}
		}
		if h.ToDest != "" {
			h.Want = SEPChain(s, h.ToDest)
			h.Named = h.Want == h.Chain
		}
		w.Hops = append(w.Hops, h)
	}
	return w
}

// why explains an iptables hop's share: the rules are tried in order,
// each taking its probability of what the rules above it left, so the
// i-th of n carries 1/(n-i) and every endpoint gets 1/n.
func why(i, n int, h Hop) string {
	left := ""
	if i > 0 {
		left = fmt.Sprintf(" of the %s the rules above leave", Fraction(h.Reach))
	}
	switch {
	case h.Probability == "" && n == 1:
		return "the only endpoint: no statistic match, it takes every new connection"
	case h.Probability == "":
		return fmt.Sprintf("rule %d of %d, the last: no statistic match, it takes all%s: %s of new connections", i+1, n, left, Fraction(h.Share))
	default:
		return fmt.Sprintf("rule %d of %d: probability %s (%s)%s: %s of new connections", i+1, n, trimProb(h.Probability), Fraction(h.P), left, Fraction(h.Share))
	}
}

// trimProb shortens kube-proxy's ten-decimal probability for reading:
// 0.3333333333 → 0.333…, 0.5000000000 → 0.5.
func trimProb(p string) string {
	if !strings.Contains(p, ".") {
		return p
	}
	q := strings.TrimRight(p, "0")
	q = strings.TrimSuffix(q, ".")
	if len(q) > 5 {
		return q[:5] + "…"
	}
	return q
}

// Fraction writes x as k/d when a small d fits it, else as a decimal.
func Fraction(x float64) string {
	switch {
	case math.Abs(x-1) < 1e-6:
		return "all"
	case math.Abs(x) < 1e-9:
		return "none"
	}
	for d := 2; d <= 64; d++ {
		k := math.Round(x * float64(d))
		if k >= 1 && math.Abs(x*float64(d)-k) < 1e-6*float64(d) {
			return fmt.Sprintf("%d/%d", int(k), d)
		}
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

// ServiceEntry is a service port as KUBE-SERVICES names it in a comment.
type ServiceEntry struct {
	Name  string // "yaobank/summary:http"
	Kind  string // cluster IP, external IP, loadbalancer IP
	Chain string // the chain it jumps to
}

// Services lists the service ports KUBE-SERVICES sends somewhere, in
// its order (iptables mode).
func Services(t *Table) []ServiceEntry {
	c := t.Chain(ChainServices)
	if c == nil {
		return nil
	}
	var out []ServiceEntry
	for i := range c.Rules {
		r := &c.Rules[i]
		if !strings.HasPrefix(r.Target, "KUBE-SVC-") && !strings.HasPrefix(r.Target, "KUBE-SVL-") &&
			!strings.HasPrefix(r.Target, "KUBE-EXT-") && !strings.HasPrefix(r.Target, "KUBE-FW-") {
			continue
		}
		comment := r.Match().Comment
		for _, k := range kinds {
			if name, ok := strings.CutSuffix(comment, " "+k); ok {
				out = append(out, ServiceEntry{Name: name, Kind: k, Chain: r.Target})
			}
		}
	}
	return out
}
