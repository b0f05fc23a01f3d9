package ui

// Stand-ins for netview.Analyze/Render/Lookup/ReadRecording/VethName and
// content.Lesson, which are being written in parallel; this file goes away
// when they land on main.

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"podlab/netview"
)

type lessonCommand struct{ Text, Where string }

type lessonStep struct {
	Section, Index int
	Title          string
	Commands       []lessonCommand
	Where          string
	PodViews       []string
	HostViews      []string
	Highlight      []string
	Body           string
	Extra          string
}

type lessonSection struct {
	Number int
	Title  string
	Steps  []lessonStep
}

type lessonVars struct {
	PodName, PodNamespace, PodIP, Node, PodIf                string
	PodIndex, PodPeerIndex, HostIndex, HostPeerIndex         int
	HostIf, HostLinkNetns, ExpectedHostIf, Gateway, OwnBlock string
}

func (s lessonStep) render(v lessonVars) string {
	r := strings.NewReplacer(
		"{{.PodName}}", v.PodName, "{{.PodIP}}", v.PodIP, "{{.Node}}", v.Node,
		"{{.PodIf}}", v.PodIf, "{{.HostIf}}", v.HostIf,
		"{{.PodPeerIndex}}", strconv.Itoa(v.PodPeerIndex), "{{.HostIndex}}", strconv.Itoa(v.HostIndex),
		"{{.PodIndex}}", strconv.Itoa(v.PodIndex), "{{.HostPeerIndex}}", strconv.Itoa(v.HostPeerIndex),
		"{{.Gateway}}", v.Gateway, "{{.OwnBlock}}", v.OwnBlock, "{{.ExpectedHostIf}}", v.ExpectedHostIf,
	)
	return r.Replace(s.Body)
}

func loadLesson() ([]lessonSection, error) {
	get := lessonCommand{Text: "kubectl get pods -n yaobank -l app=customer -o wide", Where: "host1"}
	secs := []lessonSection{
		{Number: 1, Title: "Lab Setup", Steps: []lessonStep{
			{Title: "Enter host1", Commands: []lessonCommand{{Text: "multipass shell host1", Where: "your machine"}}, Where: "host1",
				Body: "The lab runs the yaobank sample application. Open a shell on **host1**."},
		}},
		{Number: 2, Title: "How Pods See the Network", Steps: []lessonStep{
			{Title: "Find the pod", Commands: []lessonCommand{get}, Where: "host1",
				Body: "The customer pod is **{{.PodName}}** with IP `{{.PodIP}}` on **{{.Node}}**."},
			{Title: "Interfaces", Commands: []lessonCommand{{Text: "ip addr", Where: "pod"}}, Where: "pod", PodViews: []string{"addr"}, Highlight: []string{"pod-ip", "veth-pod"},
				Body: "`eth0` holds the pod's IP `{{.PodIP}}`."},
			{Title: "The pod's end of the veth", Commands: []lessonCommand{{Text: "ip -c link show up", Where: "pod"}}, Where: "pod", PodViews: []string{"link"}, Highlight: []string{"veth-pod", "netnsid"},
				Body: "`eth0@if{{.PodPeerIndex}}`: the other end is interface {{.PodPeerIndex}} in the host."},
			{Title: "Routes", Commands: []lessonCommand{{Text: "ip route", Where: "pod"}}, Where: "pod", PodViews: []string{"route"}, Highlight: []string{"gateway", "route-pod-default", "route-pod-gateway"},
				Body: "Everything goes via `{{.Gateway}}`."},
			{Title: "Who answers 169.254.1.1", Commands: []lessonCommand{{Text: "ip neigh", Where: "pod"}}, Where: "pod", PodViews: []string{"neigh"}, HostViews: []string{"link"}, Highlight: []string{"gateway", "mac"}, Extra: "arp",
				Body: "The host end answers ARP for the gateway."},
		}},
		{Number: 3, Title: "How Hosts See Connections to Pods", Steps: []lessonStep{
			{Title: "The host end", Commands: []lessonCommand{{Text: "ssh {{.Node}}", Where: "host1"}, {Text: "ip -c link show up", Where: "node"}}, Where: "node", PodViews: []string{"link"}, HostViews: []string{"link"}, Highlight: []string{"veth-pod", "veth-host"},
				Body: "Interface {{.HostIndex}} is `{{.HostIf}}@if{{.HostPeerIndex}}`."},
			{Title: "The name", Where: "node", HostViews: []string{"link"}, Highlight: []string{"veth-host"}, Extra: "hash",
				Body: "The name comes from a hash."},
		}},
		{Number: 4, Title: "How Hosts Route Pod Traffic", Steps: []lessonStep{
			{Title: "The node's routes", Commands: []lessonCommand{{Text: "ip route", Where: "node"}}, Where: "node", HostViews: []string{"route"},
				Highlight: []string{"route-local-pod", "route-local-block-blackhole", "route-remote-block", "route-remote-pod", "route-default", "route-connected"},
				Body:      "Local pods, the blackhole of `{{.OwnBlock}}`, remote blocks over BGP."},
			{Title: "Route lookup", Where: "node", HostViews: []string{"route"}, Highlight: []string{"route-local-block-blackhole"}, Extra: "lookup",
				Body: "Look up an address."},
		}},
	}
	for i := range secs {
		for j := range secs[i].Steps {
			secs[i].Steps[j].Section = secs[i].Number
			secs[i].Steps[j].Index = j + 1
		}
	}
	return secs, nil
}

// viewKind is netview.View once it lands.
type viewKind string

const (
	viewAddr  viewKind = "addr"
	viewLink  viewKind = "link"
	viewRoute viewKind = "route"
	viewNeigh viewKind = "neigh"
)

func readRecording(r io.Reader) (*netview.Recording, error) {
	var rec netview.Recording
	if err := json.NewDecoder(r).Decode(&rec); err != nil {
		return nil, fmt.Errorf("read recording: %w", err)
	}
	return &rec, nil
}

func vethName(prefix, ns, pod string) string {
	h := sha1.Sum([]byte(ns + "." + pod))
	return prefix + hex.EncodeToString(h[:])[:11]
}

func lookupRoute(s *netview.Snapshot, dst netip.Addr) (netview.Route, bool) {
	best, bits := netview.Route{}, -1
	for _, r := range s.Routes {
		if r.Table != netview.TableMain && r.Table != 0 {
			continue
		}
		if r.Dst.Contains(dst) && r.Dst.Bits() > bits {
			best, bits = r, r.Dst.Bits()
		}
	}
	return best, bits >= 0
}

func analyze(p *netview.Pair) netview.Analysis {
	var a netview.Analysis
	if eth := p.Pod.LinkByName("eth0"); eth != nil {
		a.Veth.PodIf, a.Veth.PodIndex, a.Veth.PodPeerIndex, a.Veth.PodNetNSID = eth.Name, eth.Index, eth.ParentIndex, eth.LinkNetNSID
		if h := p.Host.LinkByIndex(eth.ParentIndex); h != nil {
			a.Veth.HostIf, a.Veth.HostIndex, a.Veth.HostPeerIndex, a.Veth.HostNetNSID = h.Name, h.Index, h.ParentIndex, h.LinkNetNSID
			a.Veth.HostLinkNetns = p.Host.NS.NSIDs[h.LinkNetNSID]
			a.Veth.Agree = h.ParentIndex == eth.Index
			a.Veth.Reason = fmt.Sprintf("pod %s@if%d and host %d: %s@if%d point at each other", eth.Name, eth.ParentIndex, h.Index, h.Name, h.ParentIndex)
			a.Gateway.HostMAC = h.MAC
			v, _ := h.Sysctl(netview.SysctlProxyARP)
			a.Gateway.HostProxyARP = v == 1
		}
	}
	a.Gateway.Address = netip.MustParseAddr("169.254.1.1")
	for _, n := range p.Pod.Neighs {
		if n.IP == a.Gateway.Address {
			a.Gateway.NeighMAC, a.Gateway.NeighState = n.MAC, strings.Join(n.State, ",")
		}
	}
	a.Gateway.Confirmed = []string{"the pod's default route goes via 169.254.1.1"}
	if p.Facts.Pod.Name != "" {
		a.ExpectedHostIf = vethName(p.Facts.Prefix(), p.Facts.Pod.Namespace, p.Facts.Pod.Name)
	}
	for _, r := range p.Pod.Routes {
		c := netview.ClassOther
		if r.Dst.Bits() == 0 {
			c = netview.ClassPodDefault
		} else if r.Dst.Addr() == a.Gateway.Address {
			c = netview.ClassPodGateway
		}
		a.Routes = append(a.Routes, netview.RouteClass{Side: netview.SidePod, Dst: dstString(r.Dst), Class: c, Route: r, Reason: "stand-in: " + string(c)})
	}
	for _, r := range p.Host.Routes {
		c := netview.ClassOther
		switch {
		case r.Type == "blackhole":
			c = netview.ClassLocalBlockBlackhole
		case r.Dst.Bits() == 0:
			c = netview.ClassDefault
		case r.Protocol == netview.ProtoKernel:
			c = netview.ClassConnected
		case strings.HasPrefix(r.Dev, p.Facts.Prefix()) && r.Dst.IsSingleIP():
			c = netview.ClassLocalPod
		case r.Protocol == netview.ProtoBird && r.Dst.IsSingleIP():
			c = netview.ClassRemotePod
		case r.Protocol == netview.ProtoBird:
			c = netview.ClassRemoteBlock
		}
		a.Routes = append(a.Routes, netview.RouteClass{Side: netview.SideHost, Dst: dstString(r.Dst), Class: c, Route: r, Reason: "stand-in: " + string(c)})
	}
	return a
}

func render(side netview.Side, v viewKind, s *netview.Snapshot, a *netview.Analysis) []netview.Line {
	var out []netview.Line
	sp := func(t string, tag netview.Tag) netview.Span { return netview.Span{Text: t, Tag: tag} }
	switch v {
	case viewLink, viewAddr:
		for _, l := range s.Links {
			tag := netview.TagIfName
			if side == netview.SidePod && l.Index == a.Veth.PodIndex {
				tag = netview.TagVethPod
			}
			if side == netview.SideHost && l.Index == a.Veth.HostIndex {
				tag = netview.TagVethHost
			}
			name := l.Name
			if l.ParentIndex != 0 {
				name += "@if" + strconv.Itoa(l.ParentIndex)
			}
			out = append(out, netview.Line{Key: "link:" + strconv.Itoa(l.Index), Spans: []netview.Span{
				sp(strconv.Itoa(l.Index)+": ", netview.TagNone), sp(name, tag),
				sp(": <"+strings.Join(l.Flags, ",")+"> mtu "+strconv.Itoa(l.MTU), netview.TagNone)}})
			if l.MAC != "" {
				ln := netview.Line{Key: "link:" + strconv.Itoa(l.Index), Spans: []netview.Span{sp("    link/ether ", netview.TagNone), sp(l.MAC, netview.TagMAC)}}
				if l.LinkNetNSID >= 0 && l.Kind == "veth" {
					ln.Spans = append(ln.Spans, sp(" link-netnsid "+strconv.Itoa(l.LinkNetNSID), netview.TagNetnsID))
				}
				out = append(out, ln)
			}
			if v == viewAddr {
				for _, ad := range s.AddrsOf(l.Index) {
					out = append(out, netview.Line{Key: "addr:" + ad.Prefix.String(), Spans: []netview.Span{sp("    inet ", netview.TagNone), sp(ad.Prefix.String(), netview.TagPodIP)}})
				}
			}
		}
	case viewRoute:
		for _, rc := range a.Routes {
			if rc.Side != side {
				continue
			}
			r := rc.Route
			txt := rc.Dst
			if r.Type == "blackhole" {
				txt = "blackhole " + txt
			}
			l := netview.Line{Key: "route:" + rc.Dst, Spans: []netview.Span{sp(txt, netview.RouteTag(rc.Class))}}
			if r.Gw.IsValid() {
				tag := netview.TagNone
				if r.Gw == a.Gateway.Address {
					tag = netview.TagGateway
				}
				l.Spans = append(l.Spans, sp(" via ", netview.TagNone), sp(r.Gw.String(), tag))
			}
			if r.Dev != "" {
				l.Spans = append(l.Spans, sp(" dev "+r.Dev, netview.TagNone))
			}
			out = append(out, l)
		}
	case viewNeigh:
		for _, n := range s.Neighs {
			out = append(out, netview.Line{Key: "neigh:" + n.IP.String(), Spans: []netview.Span{sp(n.IP.String(), netview.TagGateway), sp(" dev "+n.Dev+" lladdr ", netview.TagNone), sp(n.MAC, netview.TagMAC)}})
		}
	}
	return out
}

func renderText(s string, v lessonVars) string {
	return lessonStep{Body: s}.render(v)
}
