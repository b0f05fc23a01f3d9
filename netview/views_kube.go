package netview

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"podlab/kubeproxy"
)

// kubectl prints its tables through a tabwriter of minimum width 6 and
// padding 3, the last cell of a row not ended by a tab.
const (
	kubectlMinWidth = 6
	kubectlPadding  = 3
)

// kubectlNamespaces says whether the objects span several namespaces:
// kubectl then shows them as `-A` does, a NAMESPACE column first.
func kubectlNamespaces[T any](items []T, ns func(*T) string) bool {
	for i := range items {
		if ns(&items[i]) != ns(&items[0]) {
			return true
		}
	}
	return false
}

// renderServices lays out `kubectl get svc -o wide` without its AGE and
// SELECTOR columns, which the model does not carry.
func renderServices(e *Extra) []Line {
	r := e.Resources
	all := kubectlNamespaces(r.Services, func(s *Service) string { return s.Namespace })
	cols := []string{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)"}
	if all {
		cols = append([]string{"NAMESPACE"}, cols...)
	}
	rows := []row{header("services:header", cols...)}
	for i := range r.Services {
		s := &r.Services[i]
		var cells []cell
		if all {
			cells = append(cells, cell{s.Namespace, TagNone})
		}
		cells = append(cells, cell{s.Name, TagService}, cell{s.Type, TagNone}, cell{clusterIPText(s), TagService},
			cell{externalIPText(s), TagNone}, cell{portsText(s), TagService})
		rows = append(rows, row{key: "svc:" + s.Namespace + "/" + s.Name, label: "Service " + s.Namespace + "/" + s.Name,
			why: serviceWhy(s, r), cells: cells})
	}
	lines := tabulate(rows, kubectlMinWidth, kubectlPadding, false)
	// The node port is a span of its own within PORT(S).
	for i := range lines {
		lines[i] = splitTag(lines[i], TagService, nodePortsOf(r, lines[i].Key), TagNodePort)
	}
	return lines
}

func clusterIPText(s *Service) string {
	if s.Type == "ExternalName" {
		return "<none>"
	}
	if len(s.ClusterIPs) == 0 {
		return "None"
	}
	return s.ClusterIPs[0].String()
}

func externalIPText(s *Service) string {
	if len(s.ExternalIPs) == 0 {
		if s.Type == "LoadBalancer" {
			return "<pending>"
		}
		return "<none>"
	}
	ips := make([]string, len(s.ExternalIPs))
	for i, a := range s.ExternalIPs {
		ips[i] = a.String()
	}
	return strings.Join(ips, ",")
}

func portsText(s *Service) string {
	if len(s.Ports) == 0 {
		return "<none>"
	}
	ps := make([]string, len(s.Ports))
	for i, p := range s.Ports {
		if p.NodePort != 0 {
			ps[i] = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol)
		} else {
			ps[i] = fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		}
	}
	return strings.Join(ps, ",")
}

// nodePortsOf are the ":30180" pieces of a service line's PORT(S).
func nodePortsOf(r *Resources, key string) []string {
	var out []string
	for i := range r.Services {
		s := &r.Services[i]
		if "svc:"+s.Namespace+"/"+s.Name != key {
			continue
		}
		for _, p := range s.Ports {
			if p.NodePort != 0 {
				out = append(out, ":"+strconv.Itoa(int(p.NodePort)))
			}
		}
	}
	return out
}

// splitTag retags the first occurrence of each piece inside spans of tag.
func splitTag(l Line, tag Tag, pieces []string, as Tag) Line {
	for _, piece := range pieces {
		for i, s := range l.Spans {
			if s.Tag != tag {
				continue
			}
			before, after, ok := strings.Cut(s.Text, piece)
			if !ok {
				continue
			}
			var ns []Span
			if before != "" {
				ns = append(ns, Span{Text: before, Tag: tag})
			}
			ns = append(ns, Span{Text: piece, Tag: as})
			if after != "" {
				ns = append(ns, Span{Text: after, Tag: tag})
			}
			l.Spans = append(l.Spans[:i], append(ns, l.Spans[i+1:]...)...)
			break
		}
	}
	return l
}

// endpointsOf are the endpoints of a Service, from its slices.
func endpointsOf(r *Resources, ns, name string) []Endpoint {
	var out []Endpoint
	for i := range r.EndpointSlices {
		if es := &r.EndpointSlices[i]; es.Namespace == ns && es.Service == name {
			out = append(out, es.Endpoints...)
		}
	}
	return out
}

// endpointWords name endpoints for a sentence, the first few one by one.
func endpointWords(eps []Endpoint) string {
	var ws []string
	n := 0
	for _, ep := range eps {
		for _, a := range ep.Addresses {
			if n++; n > maxListed {
				continue
			}
			w := a.String()
			var about []string
			if ep.Pod != "" {
				about = append(about, "pod "+ep.Pod)
			}
			if ep.Node != "" {
				about = append(about, "on "+ep.Node)
			}
			if !ep.Ready {
				about = append(about, "not ready")
			}
			if len(about) > 0 {
				w += " (" + strings.Join(about, " ") + ")"
			}
			ws = append(ws, w)
		}
	}
	if n > maxListed {
		ws = append(ws, fmt.Sprintf("and %d more", n-maxListed))
	}
	return strings.Join(ws, ", ")
}

func readyCount(eps []Endpoint) int {
	n := 0
	for _, ep := range eps {
		if ep.Ready {
			n += len(ep.Addresses)
		}
	}
	return n
}

func serviceWhy(s *Service, r *Resources) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s, %s", s.Namespace, s.Name, s.Type)
	if len(s.ClusterIPs) > 0 {
		fmt.Fprintf(&b, ": cluster IP %s", s.ClusterIPs[0])
		if c := defaultBGPConfig(r); c != nil {
			if rng, ok := withinAny(netip.PrefixFrom(s.ClusterIPs[0], s.ClusterIPs[0].BitLen()), c.ServiceClusterIPs); ok {
				fmt.Fprintf(&b, " (in the advertised range %s: a BGP peer routes it over the nodes)", rng)
			}
		}
	}
	if len(s.ExternalIPs) > 0 {
		fmt.Fprintf(&b, "; external IPs %s", externalIPText(s))
		if c := defaultBGPConfig(r); c != nil {
			a := s.ExternalIPs[0]
			if rng, ok := withinAny(netip.PrefixFrom(a, a.BitLen()), c.ServiceExternalIPs); ok {
				fmt.Fprintf(&b, " (in the advertised range %s: a BGP peer routes them over the nodes)", rng)
			}
		}
	}
	for _, p := range s.Ports {
		sp := kubeproxy.ServicePort{Namespace: s.Namespace, Name: s.Name, Port: p.Name, Protocol: p.Protocol}
		fmt.Fprintf(&b, "; port %d/%s", p.Port, p.Protocol)
		if p.Name != "" {
			b.WriteString(" (" + p.Name + ")")
		}
		if p.TargetPort != "" {
			b.WriteString(" to the pods' port " + p.TargetPort)
		}
		if p.NodePort != 0 {
			fmt.Fprintf(&b, ", node port %d on every node's addresses", p.NodePort)
		}
		fmt.Fprintf(&b, ", kube-proxy's chain %s", kubeproxy.SVCChain(sp))
	}
	if eps := endpointsOf(r, s.Namespace, s.Name); len(eps) > 0 {
		fmt.Fprintf(&b, "; endpoints: %s", endpointWords(eps))
	} else {
		b.WriteString("; no endpoints: no pod is ready behind it")
	}
	if s.ExternalTrafficPolicy == "Local" {
		b.WriteString("; externalTrafficPolicy Local: only the nodes with an endpoint take its external traffic, and only they advertise its external IPs")
	}
	return b.String()
}

// renderEndpointSlices lays out `kubectl get endpointslices` without its
// AGE column; the ports are the Service's numeric target ports, what the
// controller writes.
func renderEndpointSlices(e *Extra) []Line {
	r := e.Resources
	all := kubectlNamespaces(r.EndpointSlices, func(s *EndpointSlice) string { return s.Namespace })
	cols := []string{"NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS"}
	if all {
		cols = append([]string{"NAMESPACE"}, cols...)
	}
	rows := []row{header("endpoints:header", cols...)}
	for i := range r.EndpointSlices {
		es := &r.EndpointSlices[i]
		var cells []cell
		if all {
			cells = append(cells, cell{es.Namespace, TagNone})
		}
		cells = append(cells, cell{es.Name, TagNone}, cell{es.AddressType, TagNone},
			cell{slicePorts(r, es), TagNone}, cell{sliceEndpoints(es), TagEndpoint})
		svc := es.Namespace + "/" + es.Service
		why := fmt.Sprintf("a slice of the endpoints of Service %s, written by the EndpointSlice controller from the pods it selects", svc)
		if len(es.Endpoints) > 0 {
			why += fmt.Sprintf(": %s; kube-proxy makes one KUBE-SEP chain per ready endpoint, %d here", endpointWords(es.Endpoints), readyCount(es.Endpoints))
		} else {
			why += ": none, so kube-proxy has nowhere to send the Service's connections"
		}
		rows = append(rows, row{key: "eps:" + es.Namespace + "/" + es.Name, label: "endpoints of " + svc, why: why, cells: cells})
	}
	return tabulate(rows, kubectlMinWidth, kubectlPadding, false)
}

func slicePorts(r *Resources, es *EndpointSlice) string {
	var ps []string
	for i := range r.Services {
		s := &r.Services[i]
		if s.Namespace != es.Namespace || s.Name != es.Service {
			continue
		}
		for _, p := range s.Ports {
			t := p.TargetPort
			if t == "" {
				t = strconv.Itoa(int(p.Port))
			}
			if _, err := strconv.Atoi(t); err != nil {
				t = "<unset>"
			}
			ps = append(ps, t)
		}
	}
	if len(ps) == 0 {
		return "<unset>"
	}
	if len(ps) > 3 {
		return strings.Join(ps[:3], ",") + fmt.Sprintf(" + %d more...", len(ps)-3)
	}
	return strings.Join(ps, ",")
}

// sliceEndpoints is kubectl's ENDPOINTS: the first three addresses and a
// count of the rest.
func sliceEndpoints(es *EndpointSlice) string {
	var list []string
	count := 0
	for _, ep := range es.Endpoints {
		for _, a := range ep.Addresses {
			if len(list) < 3 {
				list = append(list, a.String())
			}
			count++
		}
	}
	if count == 0 {
		return "<unset>"
	}
	if count > 3 {
		return strings.Join(list, ",") + fmt.Sprintf(" + %d more...", count-3)
	}
	return strings.Join(list, ",")
}
