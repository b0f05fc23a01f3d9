// Package kpgen writes kube-proxy's NAT rules for a set of services, as
// kube-proxy v1.37 writes them (pkg/proxy/iptables and pkg/proxy/nftables
// syncProxyRules): the input of iptables-restore or nft -f that the
// firewall reader's tests and scripts/bench-kubeproxy.sh load into a
// throw-away namespace.
package kpgen

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"podlab/kubeproxy"
)

// Service is one service port and its ready endpoints.
type Service struct {
	Port       kubeproxy.ServicePort
	ClusterIP  string
	ServePort  int // the service's port
	NodePort   int // 0 for none
	TargetPort int
	Endpoints  []string // addresses
}

// ClusterCIDR is the lesson's pod CIDR, kube-proxy's --cluster-cidr.
const ClusterCIDR = "198.19.16.0/20"

// largeCluster is kube-proxy's largeClusterEndpointsThreshold: past it,
// kube-proxy leaves the comments out of the KUBE-SVC and KUBE-SEP chains.
const largeCluster = 1000

// Summary is the lesson's summary service with n endpoints on node1's
// and node2's blocks.
func Summary(n int) Service {
	s := Service{
		Port:      kubeproxy.ServicePort{Namespace: "yaobank", Name: "summary", Port: "http", Protocol: "tcp"},
		ClusterIP: "10.49.117.163", ServePort: 80, TargetPort: 80,
	}
	for i := range n {
		if i%2 == 0 {
			s.Endpoints = append(s.Endpoints, fmt.Sprintf("198.19.22.%d", 129+i/2))
		} else {
			s.Endpoints = append(s.Endpoints, fmt.Sprintf("198.19.21.%d", 65+i/2))
		}
	}
	return s
}

// Yaobank is the lesson's three services: customer (node port 30180),
// summary with summaryEndpoints endpoints, database.
func Yaobank(summaryEndpoints int) []Service {
	return []Service{
		{Port: kubeproxy.ServicePort{Namespace: "yaobank", Name: "customer", Port: "http", Protocol: "tcp"},
			ClusterIP: "10.49.81.110", ServePort: 80, NodePort: 30180, TargetPort: 80, Endpoints: []string{"198.19.22.132"}},
		Summary(summaryEndpoints),
		{Port: kubeproxy.ServicePort{Namespace: "yaobank", Name: "database", Port: "http", Protocol: "tcp"},
			ClusterIP: "10.49.22.31", ServePort: 2379, TargetPort: 2379, Endpoints: []string{"198.19.21.68"}},
	}
}

// Scale is n services with m endpoints in all, spread evenly, every
// tenth with a node port: the 5,000 and 20,000.
func Scale(n, m int) []Service {
	out := make([]Service, n)
	e := 0
	for i := range out {
		s := Service{
			Port:      kubeproxy.ServicePort{Namespace: fmt.Sprintf("ns%d", i%50), Name: fmt.Sprintf("svc%d", i), Port: "http", Protocol: "tcp"},
			ClusterIP: fmt.Sprintf("10.%d.%d.%d", 96+i/65536, i/256%256, i%256), ServePort: 80, TargetPort: 8080,
		}
		if i%10 == 0 {
			s.NodePort = 30000 + i%2768
		}
		for k := m * i / n; k < m*(i+1)/n; k++ {
			s.Endpoints = append(s.Endpoints, fmt.Sprintf("10.%d.%d.%d", 128+k/65536, k/256%256, k%256))
			e++
		}
		out[i] = s
	}
	return out
}

// WriteIPTables writes the nat table kube-proxy's iptables mode makes of
// svcs, as iptables-restore input.
func WriteIPTables(w io.Writer, svcs []Service) error {
	b := bufio.NewWriterSize(w, 256<<10)
	eps := 0
	for _, s := range svcs {
		eps += len(s.Endpoints)
	}
	large := eps > largeCluster
	b.WriteString("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n")
	b.WriteString(":KUBE-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n:KUBE-POSTROUTING - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n")
	for _, s := range svcs {
		fmt.Fprintf(b, ":%s - [0:0]\n", kubeproxy.SVCChain(s.Port))
		if s.NodePort != 0 {
			fmt.Fprintf(b, ":%s - [0:0]\n", kubeproxy.EXTChain(s.Port))
		}
		for _, ip := range s.Endpoints {
			fmt.Fprintf(b, ":%s - [0:0]\n", kubeproxy.SEPChain(s.Port, kubeproxy.Endpoint(ip, s.TargetPort)))
		}
	}
	b.WriteString(`-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES` + "\n")
	b.WriteString(`-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES` + "\n")
	b.WriteString(`-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING` + "\n")
	b.WriteString("-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n")
	b.WriteString("-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000\n")
	b.WriteString(`-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully` + "\n")
	b.WriteString("-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n")
	for _, s := range svcs {
		name, proto, svc := s.Port.String(), strings.ToLower(s.Port.Protocol), kubeproxy.SVCChain(s.Port)
		comment := func(c string) string {
			if large {
				return ""
			}
			return " -m comment --comment " + quote(c)
		}
		fmt.Fprintf(b, "-A KUBE-SERVICES -m comment --comment %s -m %s -p %s -d %s --dport %d -j %s\n",
			quote(name+" cluster IP"), proto, proto, s.ClusterIP, s.ServePort, svc)
		if s.NodePort != 0 {
			ext := kubeproxy.EXTChain(s.Port)
			fmt.Fprintf(b, "-A KUBE-NODEPORTS -m comment --comment %s -m %s -p %s --dport %d -j %s\n", quote(name), proto, proto, s.NodePort, ext)
			fmt.Fprintf(b, "-A %s -m comment --comment %s -j KUBE-MARK-MASQ\n", ext, quote("masquerade traffic for "+name+" external destinations"))
			fmt.Fprintf(b, "-A %s -j %s\n", ext, svc)
		}
		fmt.Fprintf(b, "-A %s -m comment --comment %s -m %s -p %s -d %s --dport %d ! -s %s -j KUBE-MARK-MASQ\n",
			svc, quote(name+" cluster IP"), proto, proto, s.ClusterIP, s.ServePort, ClusterCIDR)
		n := len(s.Endpoints)
		for i, ip := range s.Endpoints {
			ep := kubeproxy.Endpoint(ip, s.TargetPort)
			fmt.Fprintf(b, "-A %s%s", svc, comment(name+" -> "+ep))
			if i < n-1 {
				fmt.Fprintf(b, " -m statistic --mode random --probability %0.10f", 1/float64(n-i))
			}
			fmt.Fprintf(b, " -j %s\n", kubeproxy.SEPChain(s.Port, ep))
		}
		for _, ip := range s.Endpoints {
			ep := kubeproxy.Endpoint(ip, s.TargetPort)
			sep := kubeproxy.SEPChain(s.Port, ep)
			fmt.Fprintf(b, "-A %s%s -s %s -j KUBE-MARK-MASQ\n", sep, comment(name), ip)
			fmt.Fprintf(b, "-A %s%s -m %s -p %s -j DNAT --to-destination %s\n", sep, comment(name), proto, proto, ep)
		}
	}
	b.WriteString(`-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS` + "\n")
	b.WriteString("COMMIT\n")
	return b.Flush()
}

// quote is how kube-proxy writes a comment: in double quotes when it
// has a space (its own comments have no quote or backslash).
func quote(s string) string {
	if strings.ContainsAny(s, " ") {
		return `"` + s + `"`
	}
	return s
}

// WriteNFT writes the part of kube-proxy's nftables-mode table a walk
// reads (the services chain, its two maps, each service's chain with its
// numgen DNAT, the node ports' external- chains), as nft -f input.
func WriteNFT(w io.Writer, svcs []Service) error {
	b := bufio.NewWriterSize(w, 256<<10)
	t := "ip " + kubeproxy.NFTTable
	fmt.Fprintf(b, "add table %s\n", t)
	fmt.Fprintf(b, "add chain %s mark-for-masquerade\n", t)
	fmt.Fprintf(b, "add rule %s mark-for-masquerade mark set mark or 0x4000\n", t)
	fmt.Fprintf(b, "add chain %s services\n", t)
	fmt.Fprintf(b, "add map %s service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment \"ClusterIP, ExternalIP and LoadBalancer IP traffic\" ; }\n", t)
	fmt.Fprintf(b, "add map %s service-nodeports { type inet_proto . inet_service : verdict ; comment \"NodePort traffic\" ; }\n", t)
	fmt.Fprintf(b, "add chain %s nat-prerouting { type nat hook prerouting priority -100 ; }\n", t)
	fmt.Fprintf(b, "add rule %s nat-prerouting jump services\n", t)
	fmt.Fprintf(b, "add chain %s nat-output { type nat hook output priority -100 ; }\n", t)
	fmt.Fprintf(b, "add rule %s nat-output jump services\n", t)
	fmt.Fprintf(b, "add rule %s services ip daddr . meta l4proto . th dport vmap @service-ips\n", t)
	fmt.Fprintf(b, "add rule %s services fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports\n", t)
	for _, s := range svcs {
		proto := strings.ToLower(s.Port.Protocol)
		svc := kubeproxy.NFTServiceChain(s.Port)
		fmt.Fprintf(b, "add chain %s %s\n", t, svc)
		fmt.Fprintf(b, "add rule %s %s ip daddr %s tcp dport %d ip saddr != %s jump mark-for-masquerade\n", t, svc, s.ClusterIP, s.ServePort, ClusterCIDR)
		switch n := len(s.Endpoints); n {
		case 0:
		case 1:
			fmt.Fprintf(b, "add rule %s %s meta l4proto %s dnat to %s\n", t, svc, proto, kubeproxy.Endpoint(s.Endpoints[0], s.TargetPort))
		default:
			var el []string
			for i, ip := range s.Endpoints {
				el = append(el, strconv.Itoa(i)+" : "+ip+" . "+strconv.Itoa(s.TargetPort))
			}
			fmt.Fprintf(b, "add rule %s %s meta l4proto %s dnat ip addr . port to numgen random mod %d map { %s }\n", t, svc, proto, n, strings.Join(el, ", "))
		}
		fmt.Fprintf(b, "add element %s service-ips { %s . %s . %d : goto %s }\n", t, s.ClusterIP, proto, s.ServePort, svc)
		if s.NodePort != 0 {
			ext := kubeproxy.NFTExternalChain(s.Port)
			fmt.Fprintf(b, "add chain %s %s\n", t, ext)
			fmt.Fprintf(b, "add rule %s %s jump mark-for-masquerade\n", t, ext)
			fmt.Fprintf(b, "add rule %s %s goto %s\n", t, ext, svc)
			fmt.Fprintf(b, "add element %s service-nodeports { %s . %d : goto %s }\n", t, proto, s.NodePort, ext)
		}
	}
	return b.Flush()
}
