package netview

import (
	"podlab/kubeproxy"
)

// Wants says what a lesson reads beyond the pod's and its node's
// namespaces: the places and readers its pack declares. A lab reads only
// what is wanted, so the first lesson costs what it always did.
type Wants struct {
	// Host1 is host1's routing table (and its BIRD's sessions, with Bird).
	Host1 bool
	// Bird is the node's BIRD: its protocols, as birdc show protocols all.
	Bird bool
	// NAT is the node's NAT rules kube-proxy writes, with their counters.
	NAT bool
	// Resources are the cluster's objects: Calico's pools, peers and BGP
	// configuration, Services and EndpointSlices.
	Resources bool
}

// Any says whether anything beyond the pair is wanted.
func (w Wants) Any() bool { return w.Host1 || w.Bird || w.NAT || w.Resources }

// Extra is what a lab read beyond the pair because a lesson wanted it.
// A part that could not be read is nil with its reason in Unread, so a
// lesson says why in one line instead of failing the whole refresh.
type Extra struct {
	// Host1 is host1's namespace (the student's machine on a real lab),
	// Host1Facts what its analysis reads.
	Host1      *Snapshot   `json:"host1,omitempty"`
	Host1Facts *Host1Facts `json:"host1_facts,omitempty"`
	// Host1Bird are host1's BIRD's protocols: its sessions with the nodes.
	Host1Bird BirdProtocols `json:"host1_bird,omitempty"`
	// Bird are the node's BIRD's protocols.
	Bird BirdProtocols `json:"bird,omitempty"`
	// NAT is the node's NAT table as kube-proxy wrote it.
	NAT       *kubeproxy.Table `json:"nat,omitempty"`
	Resources *Resources       `json:"resources,omitempty"`
	// Unread says, by part (host1, host1-bird, bird, nat, resources),
	// why it could not be read, in one line.
	Unread map[string]string `json:"unread,omitempty"`
}

// The parts of an Extra, as Unread names them.
const (
	PartHost1     = "host1"
	PartHost1Bird = "host1-bird"
	PartBird      = "bird"
	PartNAT       = "nat"
	PartResources = "resources"
)

// Miss notes why part could not be read.
func (e *Extra) Miss(part string, err error) {
	if e.Unread == nil {
		e.Unread = map[string]string{}
	}
	e.Unread[part] = Clean(FirstLine(err.Error()))
}

// Sanitize cleans and cuts every string of the extra.
func (e *Extra) Sanitize() { e.each(sanitize) }

func (e *Extra) each(f visit) {
	if e == nil {
		return
	}
	if e.Host1 != nil {
		e.Host1.each(f)
	}
	if h := e.Host1Facts; h != nil {
		h.Facts.each(f)
		h.Resources.each(f)
		all(f, h.Imports, kindWord)
	}
	for i := range e.Host1Bird {
		e.Host1Bird[i].each(f)
	}
	for i := range e.Bird {
		e.Bird[i].each(f)
	}
	if e.NAT != nil {
		natEach(e.NAT, f)
	}
	if e.Resources != nil {
		e.Resources.each(f)
	}
	keys(f, e.Unread)
	for k, v := range e.Unread {
		if n, ok := f(v, kindText); ok {
			e.Unread[k] = n
		}
	}
}

// natEach visits a NAT table's strings: a recording's table comes from a
// file, not from the reader that cleans as it parses.
func natEach(t *kubeproxy.Table, f visit) {
	m := string(t.Mode)
	f.at(&m, kindWord)
	t.Mode = kubeproxy.Mode(m)
	f.at(&t.Name, kindWord)
	for i := range t.Chains {
		c := &t.Chains[i]
		f.at(&c.Name, kindText)
		f.at(&c.Policy, kindWord)
		for j := range c.Rules {
			r := &c.Rules[j]
			f.at(&r.Target, kindText)
			f.at(&r.Text, kindText)
			if m := r.Parsed; m != nil {
				for _, s := range []*string{&m.Comment, &m.Protocol.Value, &m.Source.Value, &m.Dest.Value,
					&m.DPort.Value, &m.Probability, &m.ToDest} {
					f.at(s, kindText)
				}
				for k := range m.Choices {
					f.at(&m.Choices[k].ToDest, kindText)
					f.at(&m.Choices[k].Chain, kindText)
				}
			}
		}
	}
	for i := range t.Maps {
		mp := &t.Maps[i]
		f.at(&mp.Name, kindText)
		for j := range mp.Elems {
			all(f, mp.Elems[j].Key, kindText)
			f.at(&mp.Elems[j].Target, kindText)
		}
	}
}
