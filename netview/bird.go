package netview

import (
	"net/netip"
	"strings"
)

// BIRD's sessions, as `birdc show protocols all` shows them (and
// `calicoctl node status` summarises): what a node's routing daemon says
// of each of its protocols. A lab reads them from BIRD's control socket.

// BirdProtocol is one of a BIRD daemon's protocols: its row of `show
// protocols` and what `all` adds below it.
type BirdProtocol struct {
	Name string `json:"name"`
	// Proto is the protocol's kind as BIRD names it: BGP, Kernel,
	// Static, Device, Direct.
	Proto string `json:"proto"`
	// Table is "---" for a protocol of several channels (BGP in BIRD 2).
	Table string `json:"table"`
	// State is BIRD's own: up, start, down, flush.
	State string `json:"state"`
	Since string `json:"since"`
	// Info is the last column: for BGP the session's state and, when it
	// is not Established, the last error ("Active Socket: Connection
	// refused"); runs of spaces are one.
	Info        string `json:"info,omitempty"`
	Description string `json:"description,omitempty"`
	// BGP is set for a BGP protocol whose details were shown.
	BGP *BirdBGP `json:"bgp,omitempty"`
	// Routes sums the channels' counts.
	Routes   BirdRoutes    `json:"routes"`
	Channels []BirdChannel `json:"channels,omitempty"`
}

// BirdBGP is what BIRD says of a BGP session.
type BirdBGP struct {
	// State is the session's: Idle, Connect, Active, OpenSent,
	// OpenConfirm, Established (or Down when the protocol is).
	State        string     `json:"state"`
	NeighborAddr netip.Addr `json:"neighbor_address,omitzero"`
	NeighborAS   uint32     `json:"neighbor_as,omitempty"`
	LocalAS      uint32     `json:"local_as,omitempty"`
	NeighborID   netip.Addr `json:"neighbor_id,omitzero"`
	SourceAddr   netip.Addr `json:"source_address,omitzero"`
	LastError    string     `json:"last_error,omitempty"`
}

// BirdChannel is one address family of a protocol (BIRD 2's channels:
// ipv4, ipv6). BIRD 1 has none: its protocol-level counts and filters
// read as one channel with no name.
type BirdChannel struct {
	Name         string     `json:"name"`
	State        string     `json:"state,omitempty"`
	Table        string     `json:"table,omitempty"`
	ImportFilter string     `json:"import_filter,omitempty"`
	ExportFilter string     `json:"export_filter,omitempty"`
	Routes       BirdRoutes `json:"routes"`
}

// BirdRoutes are a channel's route counts ("Routes: 1 imported, 0
// filtered, 2 exported, 1 preferred").
type BirdRoutes struct {
	Imported  int `json:"imported"`
	Filtered  int `json:"filtered,omitempty"`
	Exported  int `json:"exported"`
	Preferred int `json:"preferred"`
}

// BirdEstablished is the BGP state of a session that is up.
const BirdEstablished = "Established"

// IsBGP says whether p is a BGP session.
func (p *BirdProtocol) IsBGP() bool { return strings.EqualFold(p.Proto, "BGP") }

// Established says whether p is a BGP session BIRD calls Established.
// Without the details, the Info column says it.
func (p *BirdProtocol) Established() bool {
	if !p.IsBGP() {
		return false
	}
	if p.BGP != nil && p.BGP.State != "" {
		return p.BGP.State == BirdEstablished
	}
	first, _, _ := strings.Cut(p.Info, " ")
	return first == BirdEstablished
}

// BirdProtocols are a daemon's protocols, in BIRD's order.
type BirdProtocols []BirdProtocol

// Sanitize cleans and cuts every string of the protocols.
func (ps BirdProtocols) Sanitize() {
	for i := range ps {
		ps[i].each(sanitize)
	}
}

// Sessions are the BGP protocols, in BIRD's order.
func (ps BirdProtocols) Sessions() BirdProtocols {
	var out BirdProtocols
	for _, p := range ps {
		if p.IsBGP() {
			out = append(out, p)
		}
	}
	return out
}

// Find is the protocol called name, or nil.
func (ps BirdProtocols) Find(name string) *BirdProtocol {
	for i := range ps {
		if ps[i].Name == name {
			return &ps[i]
		}
	}
	return nil
}

func (p *BirdProtocol) each(f visit) {
	// BIRD's symbols (names of protocols, tables, filters) are at most
	// 64 bytes; a kind, state or time is shorter still.
	f.at(&p.Name, kindWord)
	f.at(&p.Proto, kindWord)
	f.at(&p.Table, kindWord)
	f.at(&p.State, kindWord)
	f.at(&p.Since, kindWord)
	f.at(&p.Info, kindText)
	f.at(&p.Description, kindText)
	if b := p.BGP; b != nil {
		f.at(&b.State, kindWord)
		zone(f, &b.NeighborAddr)
		zone(f, &b.NeighborID)
		zone(f, &b.SourceAddr)
		f.at(&b.LastError, kindText)
	}
	for i := range p.Channels {
		c := &p.Channels[i]
		f.at(&c.Name, kindWord)
		f.at(&c.State, kindWord)
		f.at(&c.Table, kindWord)
		f.at(&c.ImportFilter, kindWord)
		f.at(&c.ExportFilter, kindWord)
	}
}
