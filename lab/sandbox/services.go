package sandbox

import (
	"net/netip"
	"slices"
	"strconv"

	"podlab/netview"
)

// The yaobank Services the sandbox stands for, as the course's cluster
// has them: their cluster IPs are in the service range 198.19.32.0/20,
// fixed here so that every sandbox (and every student's) shows the same.
// A Service selects the pods whose app label is its name.
type serviceSpec struct {
	name      string
	clusterIP netip.Addr
	port      netview.ServicePort
}

var yaobankServices = []serviceSpec{
	{"customer", netip.MustParseAddr("198.19.33.112"),
		netview.ServicePort{Name: "http", Protocol: "TCP", Port: 80, TargetPort: "80", NodePort: 30180}},
	{"database", netip.MustParseAddr("198.19.33.14"),
		netview.ServicePort{Name: "http", Protocol: "TCP", Port: 2379, TargetPort: "2379"}},
	{"summary", netip.MustParseAddr("198.19.34.135"),
		netview.ServicePort{Name: "http", Protocol: "TCP", Port: 80, TargetPort: "80"}},
}

// Services are the sandbox's yaobank Services, sorted by name.
func (s *State) Services() []netview.Service {
	out := make([]netview.Service, 0, len(yaobankServices))
	for _, sp := range yaobankServices {
		typ := "ClusterIP"
		if sp.port.NodePort != 0 {
			typ = "NodePort"
		}
		svc := netview.Service{
			Namespace: CustomerNamespace, Name: sp.name, Type: typ,
			ClusterIPs:            []netip.Addr{sp.clusterIP},
			ExternalTrafficPolicy: "Cluster",
			Ports:                 []netview.ServicePort{sp.port},
		}
		if sp.name == customerService {
			// The lesson's kubectl patches of customer.
			if s.Applied(ActAdvertiseExternalIPs) {
				svc.ExternalIPs = []netip.Addr{customerExternalIP}
			}
			if s.Applied(ActLocalPolicy) {
				svc.ExternalTrafficPolicy = "Local"
			}
		}
		out = append(out, svc)
	}
	return out
}

// EndpointSlices are the Services' endpoints as the EndpointSlice
// controller would write them: one slice per Service, an endpoint per
// running pod the Service selects, in the order of the pods' addresses.
func (s *State) EndpointSlices() []netview.EndpointSlice {
	var out []netview.EndpointSlice
	for _, sp := range yaobankServices {
		es := netview.EndpointSlice{Namespace: CustomerNamespace, Name: sp.name + "-" + sliceSuffix(sp.name),
			Service: sp.name, AddressType: "IPv4"}
		for _, p := range s.Pods {
			if p.Namespace == CustomerNamespace && podLabels(p.Namespace, p.Name)["app"] == sp.name {
				es.Endpoints = append(es.Endpoints, netview.Endpoint{Addresses: []netip.Addr{p.IP}, Node: p.Node, Pod: p.Name, Ready: true})
			}
		}
		slices.SortFunc(es.Endpoints, func(a, b netview.Endpoint) int { return a.Addresses[0].Compare(b.Addresses[0]) })
		out = append(out, es)
	}
	return out
}

// sliceSuffix is the five characters the controller's generated name
// would end in, made from the name so that it does not change.
func sliceSuffix(name string) string {
	h := uint32(2166136261)
	for i := range len(name) {
		h = (h ^ uint32(name[i])) * 16777619
	}
	s := strconv.FormatUint(uint64(h), 36)
	for len(s) < 5 {
		s = "0" + s
	}
	return s[:5]
}
