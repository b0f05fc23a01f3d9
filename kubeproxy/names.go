// Package kubeproxy is kube-proxy's NAT rules as podlab reads them: the
// chain names kube-proxy computes for a service port and its endpoints,
// a model of the nat table (iptables mode) or of the `ip kube-proxy`
// table (nftables mode) with its counters, a parser of `iptables-save -c
// -t nat`, and the walk from a service's entry rule down to the DNAT of
// each endpoint. No I/O: lab/firewall reads the rules.
package kubeproxy

import (
	"crypto/sha256"
	"encoding/base32"
	"net"
	"strconv"
	"strings"
)

// ServicePort names one port of a Service, as kube-proxy keys its rules.
type ServicePort struct {
	Namespace, Name string
	Port            string // the port's name; "" for an unnamed port
	Protocol        string // tcp, udp or sctp (any case)
}

// String is kube-proxy's ServicePortName form, "yaobank/summary:http",
// which its rules carry in their comments.
func (s ServicePort) String() string {
	n := s.Namespace + "/" + s.Name
	if s.Port != "" {
		n += ":" + s.Port
	}
	return n
}

func (s ServicePort) proto() string { return strings.ToLower(s.Protocol) }

// Endpoint is an endpoint as kube-proxy hashes it: "ip:port", with the
// IPv6 form in brackets (net.JoinHostPort).
func Endpoint(ip string, port int) string { return net.JoinHostPort(ip, strconv.Itoa(port)) }

// The iptables chain prefixes, kube-proxy's own (pkg/proxy/iptables).
const (
	PrefixSVC = "KUBE-SVC-" // the service port's cluster policy chain
	PrefixSVL = "KUBE-SVL-" // its local policy chain
	PrefixEXT = "KUBE-EXT-" // its external traffic chain (node ports, external IPs)
	PrefixFW  = "KUBE-FW-"  // its load balancer source ranges firewall
	PrefixSEP = "KUBE-SEP-" // one endpoint's chain: the DNAT
)

// The fixed chains a walk starts from.
const (
	ChainServices  = "KUBE-SERVICES"
	ChainNodePorts = "KUBE-NODEPORTS"
)

// portProtoHash is kube-proxy's: the first 16 characters of the base32
// of sha256(name + protocol [+ endpoint]). It is what makes a chain's
// name the same in every lab for the same service port: iptables chain
// names are at most 28 characters, so the name is hashed, not spelled.
func portProtoHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return base32.StdEncoding.EncodeToString(h[:])[:16]
}

// SVCChain is the service port's KUBE-SVC- chain.
func SVCChain(s ServicePort) string { return PrefixSVC + portProtoHash(s.String()+s.proto()) }

// SVLChain is the service port's KUBE-SVL- chain (Local traffic policy).
func SVLChain(s ServicePort) string { return PrefixSVL + portProtoHash(s.String()+s.proto()) }

// EXTChain is the service port's KUBE-EXT- chain.
func EXTChain(s ServicePort) string { return PrefixEXT + portProtoHash(s.String()+s.proto()) }

// FWChain is the service port's KUBE-FW- chain.
func FWChain(s ServicePort) string { return PrefixFW + portProtoHash(s.String()+s.proto()) }

// SEPChain is the KUBE-SEP- chain of one endpoint ("ip:port", see
// Endpoint) of the service port: the address is hashed in, so it differs
// from lab to lab.
func SEPChain(s ServicePort, endpoint string) string {
	return PrefixSEP + portProtoHash(s.String()+s.proto()+endpoint)
}

// The nftables-mode names (pkg/proxy/nftables): readable names behind
// an 8-character hash of themselves.
const (
	NFTTable           = "kube-proxy" // family ip (ip6 for IPv6)
	NFTServicesChain   = "services"
	NFTServiceIPsMap   = "service-ips"
	NFTNodePortsMap    = "service-nodeports"
	NFTPrefixService   = "service-"
	NFTPrefixLocal     = "local-"
	NFTPrefixExternal  = "external-"
	NFTPrefixEndpoint  = "endpoint-"
	NFTPrefixFirewall  = "firewall-"
	nftChainNameMax    = 256 - 16 // knftables.NameLengthMax less the longest prefix
	nftHashTruncateSfx = "..."
)

func nftHashAndTruncate(name string) string {
	h := sha256.Sum256([]byte(name))
	name = base32.StdEncoding.EncodeToString(h[:])[:8] + "-" + name
	if len(name) > nftChainNameMax {
		name = name[:nftChainNameMax-len(nftHashTruncateSfx)] + nftHashTruncateSfx
	}
	return name
}

func (s ServicePort) nftBase() string {
	return nftHashAndTruncate(s.Namespace + "/" + s.Name + "/" + s.proto() + "/" + s.Port)
}

// NFTServiceChain is the service port's service- chain in nftables mode.
func NFTServiceChain(s ServicePort) string { return NFTPrefixService + s.nftBase() }

// NFTExternalChain is the service port's external- chain in nftables mode.
func NFTExternalChain(s ServicePort) string { return NFTPrefixExternal + s.nftBase() }

// NFTEndpointChain is an endpoint's endpoint- chain in nftables mode
// (kube-proxy makes it only for a service with session affinity; without,
// the service chain DNATs through a numgen map itself).
func NFTEndpointChain(s ServicePort, endpoint string) string {
	ip, port, _ := net.SplitHostPort(endpoint)
	ip = strings.ReplaceAll(ip, ":", ".")
	return NFTPrefixEndpoint + nftHashAndTruncate(s.Namespace+"/"+s.Name+"/"+s.proto()+"/"+s.Port+"__"+ip+"/"+port)
}
