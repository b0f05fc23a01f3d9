package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"podlab/kubeproxy"
	"podlab/lab"
	"podlab/lab/bird"
	"podlab/lab/firewall"
	"podlab/netview"
)

// BirdSocket is calico-node's BIRD control socket on a node. collect
// reads this one path and no other: under sudo nobody may point it at
// another socket.
const BirdSocket = "/var/run/calico/bird.ctl"

// Host1BirdSocket is where Debian's bird2 puts its control socket: the
// course's host1 runs that BIRD. A student reads it if in group bird.
const Host1BirdSocket = "/run/bird/bird.ctl"

// Reads are what `podlab collect` reads beyond the two namespaces, each
// asked by its own flag.
type Reads struct {
	Bird bool // calico-node's BIRD's protocols, at BirdSocket
	NAT  bool // the nat table kube-proxy writes
}

func (r Reads) any() bool { return r.Bird || r.NAT }

// args are collect's flags for r, in the order the sudoers rule has them.
func (r Reads) args() string {
	s := ""
	if r.Bird {
		s += " --bird"
	}
	if r.NAT {
		s += " --nat"
	}
	return s
}

// Want says what the lesson reads beyond the pod and its node; Collect
// then reads it too, each part on its own: one that cannot be read is
// said in the pair's Extra.Unread, not as the refresh's error.
func (l *Lab) Want(w netview.Wants) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.wants = w
}

func (l *Lab) wanted() netview.Wants {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.wants
}

// nodeReads are the node's parts wanted.
func nodeReads(w netview.Wants) Reads { return Reads{Bird: w.Bird, NAT: w.NAT} }

// readNode reads the node's parts in the host namespace host, as root
// on the node: BIRD's protocols and the nat table. A part that cannot be
// read is in unread, by part.
func readNode(ctx context.Context, host lab.NSRef, r Reads) (ps netview.BirdProtocols, nat *kubeproxy.Table, unread map[string]string) {
	miss := func(part string, err error) {
		if unread == nil {
			unread = map[string]string{}
		}
		unread[part] = netview.Clean(netview.FirstLine(err.Error()))
	}
	if r.Bird {
		var err error
		if ps, err = bird.Protocols(ctx, BirdSocket); err != nil {
			miss(netview.PartBird, birdAdvice(err))
		}
	}
	if r.NAT {
		var err error
		if nat, err = firewall.ReadNAT(ctx, host); err != nil {
			miss(netview.PartNAT, err)
		}
	}
	return ps, nat, unread
}

// birdAdvice says what a missing socket means on a Calico node.
func birdAdvice(err error) error {
	return fmt.Errorf("%w (calico-node runs BIRD only in BGP mode; a VXLAN cluster has none)", err)
}

// checkRemote holds what a node's collect sent beyond the snapshots to
// the reader's own bounds: a node's podlab is not trusted to have kept
// them. What passes one is dropped, and said.
func checkRemote(co *collectOutput) {
	keep := map[string]string{}
	for _, part := range []string{netview.PartBird, netview.PartNAT} {
		if why, ok := co.Unread[part]; ok {
			keep[part] = why
		}
	}
	co.Unread = keep
	lim := bird.DefaultLimits
	if len(co.Bird) > lim.Protocols {
		co.Bird, co.Unread[netview.PartBird] = nil, fmt.Sprintf("the node sent more than %d BIRD protocols: podlab reads no more", lim.Protocols)
	}
	for _, p := range co.Bird {
		if len(p.Channels) > lim.Channels {
			co.Bird, co.Unread[netview.PartBird] = nil, fmt.Sprintf("the node sent a BIRD protocol with more than %d channels: podlab reads no more", lim.Channels)
			break
		}
	}
	if t := co.NAT; t != nil {
		n := 0
		for _, c := range t.Chains {
			n += len(c.Rules)
		}
		for _, m := range t.Maps {
			n += len(m.Elems)
		}
		if n > kubeproxy.DefaultLimits.Rules {
			co.NAT, co.Unread[netview.PartNAT] = nil, fmt.Sprintf("the node sent more than %d NAT rules and map elements: podlab reads no more", kubeproxy.DefaultLimits.Rules)
		}
	}
	if len(co.Unread) == 0 {
		co.Unread = nil
	}
}

// localParts reads the node's parts wanted here, on the node: as root
// both are read; without root each says so in Unread.
func (l *Lab) localParts(ctx context.Context, host lab.NSRef) *netview.Extra {
	r := nodeReads(l.wanted())
	if !r.any() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	ps, nat, unread := readNode(ctx, host, r)
	return &netview.Extra{Bird: ps, NAT: nat, Unread: unread}
}

// remoteParts are the node's parts wanted as the node's collect sent
// them; a part it did not send is said, with why (note: its refusal of
// the flags, or why it did not run at all).
func (l *Lab) remoteParts(ps netview.BirdProtocols, nat *kubeproxy.Table, unread map[string]string, note string) *netview.Extra {
	r := nodeReads(l.wanted())
	if !r.any() {
		return nil
	}
	e := &netview.Extra{Bird: ps, NAT: nat}
	for part, why := range unread {
		e.Miss(part, errors.New(l.facts.Node+": "+why))
	}
	missing := func(want bool, part string, got bool) {
		if want && !got && e.Unread[part] == "" {
			e.Miss(part, errors.New(l.collectRefused(note)))
		}
	}
	missing(r.Bird, netview.PartBird, ps != nil)
	missing(r.NAT, netview.PartNAT, nat != nil)
	return e
}

// collectRefused says why podlab collect on the node did not read the
// node's parts: sudo's rule or the node's podlab predates the flags.
func (l *Lab) collectRefused(note string) string {
	node, flags := l.facts.Node, nodeReads(l.wanted()).args()
	switch {
	case strings.Contains(note, "unknown flag"):
		return fmt.Sprintf("podlab on %s does not know collect%s (%s): install this podlab there", node, flags, note)
	case strings.HasPrefix(note, "sudo:") || strings.Contains(note, "is not allowed to execute"):
		return fmt.Sprintf("sudo on %s does not let podlab collect%s run (%s): make its sudoers line end in %s (see podlab's README)", node, flags, note, SudoersCollectArgs)
	case note == "":
		return fmt.Sprintf("podlab collect on %s sent no answer for it: install this podlab there", node)
	}
	return fmt.Sprintf("podlab collect on %s did not run: %s", node, note)
}

// extra completes e (the node's parts, when they were read with the
// pair) with the parts read from here: the cluster's objects and host1.
func (l *Lab) extra(ctx context.Context, e *netview.Extra) *netview.Extra {
	w := l.wanted()
	if !w.Any() {
		return nil
	}
	if e == nil {
		e = &netview.Extra{}
	}
	var res *netview.Resources
	if w.Resources || w.Host1 {
		res = l.readResources(ctx, e)
	}
	if w.Resources {
		e.Resources = res
	}
	if w.Host1 {
		l.readHost1(ctx, e, res, w.Bird)
	}
	e.Sanitize()
	return e
}

// readResources reads the cluster's objects of the pod's namespace;
// a kind that cannot be read is in the result's Unreadable and, with the
// ClusterRole rule that would let podlab read it, in e's Unread.
func (l *Lab) readResources(ctx context.Context, e *netview.Extra) *netview.Resources {
	r, err := l.resourcesReader()
	if err != nil {
		e.Miss(netview.PartResources, err)
		return nil
	}
	// One request's worth for all five kinds: each list alone is bounded
	// by the client's timeout, which five in a row could pass.
	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	got := r.Read(ctx, l.facts.Pod.Namespace)
	var why []string
	for _, g := range got.Unreadable {
		w := g.Reason
		if strings.HasPrefix(w, "forbidden:") {
			w += "; add to podlab's ClusterRole: " + clusterRoleRule(g.Resource)
		}
		why = append(why, w)
	}
	if len(why) > 0 {
		e.Miss(netview.PartResources, errors.New(strings.Join(why, "; ")))
	}
	return &got
}

// clusterRoleRule is the rule, as a ClusterRole's YAML writes it on one
// line, that grants reading resource ("ippools.crd.projectcalico.org").
func clusterRoleRule(resource string) string {
	name, group, _ := strings.Cut(resource, ".")
	return fmt.Sprintf(`{apiGroups: [%q], resources: [%q], verbs: ["get", "list"]}`, group, name)
}

// resourcesReader is the lab's dynamic client, made once.
func (l *Lab) resourcesReader() (*Resources, error) {
	l.resOnce.Do(func() { l.res, l.resErr = l.Resources() })
	return l.res, l.resErr
}

// readHost1 reads host1, which is where podlab runs (the student is on
// host1 in the course) unless that is the pod's node: its own
// namespace, which needs no root, and the facts that explain its
// routes. host1's BIRD import filter is no object of the cluster's:
// Imports are what Options.Host1Imports give, none when not given.
func (l *Lab) readHost1(ctx context.Context, e *netview.Extra, res *netview.Resources, withBird bool) {
	if l.where != Remote && l.opts.HostNetns == "" {
		e.Miss(netview.PartHost1, fmt.Errorf("podlab runs on %s, the pod's node, not on host1: run it on host1 to see host1's routes", l.facts.Node))
		return
	}
	s, err := lab.Collect(ctx, lab.NSRef{})
	if err != nil {
		e.Miss(netview.PartHost1, fmt.Errorf("host1 (this machine): %w", err))
	} else {
		s.NS.Path = ""
		if s.NS.Name == "" {
			s.NS.Name = "host1"
		}
		e.Host1 = s
		f := netview.Host1Facts{Facts: l.facts, Imports: append([]string(nil), l.opts.Host1Imports...)}
		if res != nil {
			f.Resources = netview.Resources{Pools: res.Pools, BGPConfigs: res.BGPConfigs}
		}
		e.Host1Facts = &f
	}
	if withBird {
		if ps, err := bird.Protocols(ctx, Host1BirdSocket); err != nil {
			e.Miss(netview.PartHost1Bird, fmt.Errorf("host1 (this machine): %w", err))
		} else {
			e.Host1Bird = ps
		}
	}
}
