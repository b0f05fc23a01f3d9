package kubeproxy

// Mode is which of kube-proxy's modes wrote a table.
type Mode string

const (
	ModeIPTables Mode = "iptables" // the nat table, legacy or nft backend
	ModeNFTables Mode = "nftables" // the `ip kube-proxy` table
)

// Table is one table of NAT rules: the nat table of iptables (every
// chain, kube-proxy's and others'), or kube-proxy's own nftables table
// with its verdict maps. Every string in it is clean (termtext.Clean) and
// cut to its cap where it entered.
type Table struct {
	Mode    Mode
	Name    string // nat; kube-proxy in nftables mode
	Chains  []Chain
	Maps    []Map // nftables mode: service-ips, service-nodeports
	Skipped int   // lines (rules) podlab could not read, left out
	byName  map[string]int
}

// Chain is a chain with its rules in order.
type Chain struct {
	Name   string
	Policy string // ACCEPT/DROP for a built-in chain; "-" for a user chain
	// Packets and Bytes are the policy's counters (built-in chains).
	Packets, Bytes uint64
	Rules          []Rule
}

// Rule is one rule: its counters, where it jumps, and its text. What it
// matches is read from the text when asked (Match): a node's table has
// tens of thousands of rules and a lesson looks at a few, so the parse
// keeps only what every view needs.
type Rule struct {
	Packets, Bytes uint64
	Counted        bool   // the rule has counters (nftables rules may not)
	Goto           bool   // -g / goto: no return to this chain
	Target         string // the chain it jumps or goes to, or a verdict (DNAT, MARK, RETURN)
	Text           string // the rule as printed, after `-A CHAIN`
	// Parsed holds the rule's matches when its reader read them already
	// (nftables, or a line that had to be cleaned); when nil, Match reads
	// them from Text.
	Parsed *Matches
}

// Matches are the parts of a rule a student reads: the matches
// kube-proxy writes and the DNAT.
type Matches struct {
	Comment  string
	Protocol Match
	Source   Match
	Dest     Match
	DPort    Match
	// Probability is the statistic match's --probability as printed
	// ("0.50000000000"); "" when the rule has none.
	Probability string
	Affinity    bool   // a session-affinity (-m recent --rcheck) jump
	ToDest      string // DNAT --to-destination (ip:port)
	// Choices are an nftables numgen map's elements: the rule picks one
	// at random, each with probability 1/len(Choices).
	Choices []Choice
}

// Match is one match value and whether it is negated (`! -s …`).
type Match struct {
	Value string
	Not   bool
}

// Choice is one element of a numgen map: a DNAT address or a chain.
type Choice struct {
	Index  int
	ToDest string
	Chain  string
}

// Map is an nftables verdict map: its elements in order.
type Map struct {
	Name  string
	Elems []MapElem
}

// MapElem is one element: its key's parts (address, protocol, port) and
// the chain its verdict jumps or goes to.
type MapElem struct {
	Key    []string
	Target string
	Goto   bool
}

// Chain returns the chain of that name, or nil. It only reads, so
// readers may share a table: one built by hand or decoded, without the
// index the parse and AddChain keep, is searched in order.
func (t *Table) Chain(name string) *Chain {
	if t.byName == nil {
		for i := range t.Chains {
			if t.Chains[i].Name == name {
				return &t.Chains[i]
			}
		}
		return nil
	}
	if i, ok := t.byName[name]; ok {
		return &t.Chains[i]
	}
	return nil
}

// Map returns the map of that name, or nil.
func (t *Table) Map(name string) *Map {
	for i := range t.Maps {
		if t.Maps[i].Name == name {
			return &t.Maps[i]
		}
	}
	return nil
}

// AddChain adds a chain (or returns the one of that name) and returns it;
// the pointer is good until the next AddChain.
func (t *Table) AddChain(name, policy string) *Chain {
	return &t.Chains[t.addChain(name, policy)]
}

// addChain is AddChain's index of the chain.
func (t *Table) addChain(name, policy string) int {
	if t.byName == nil {
		t.index()
	}
	if i, ok := t.byName[name]; ok {
		return i
	}
	t.Chains = append(t.Chains, Chain{Name: name, Policy: policy})
	t.byName[name] = len(t.Chains) - 1
	return len(t.Chains) - 1
}

// Rules counts the rules of every chain.
func (t *Table) Rules() int {
	n := 0
	for i := range t.Chains {
		n += len(t.Chains[i].Rules)
	}
	return n
}

func (t *Table) index() {
	t.byName = make(map[string]int, len(t.Chains))
	for i, c := range t.Chains {
		if _, dup := t.byName[c.Name]; !dup {
			t.byName[c.Name] = i
		}
	}
}
