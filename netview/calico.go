package netview

import (
	"crypto/sha1"
	"encoding/hex"
	"net/netip"
	"strings"
)

// The facts of Calico's dataplane the lesson teaches. Every other package
// reads them from here, so a lab, a check and a sentence cannot disagree.

// CalicoGateway is the next hop Calico gives every pod. Nothing holds
// the address: the host end answers the pod's ARP for it (proxy_arp).
var CalicoGateway = netip.MustParseAddr("169.254.1.1")

// CalicoMAC is the MAC Calico gives every host end of a pod's veth.
const CalicoMAC = "ee:ee:ee:ee:ee:ee"

// CalicoLinkLocal is the host end's IPv6 link-local address, which the
// kernel makes from CalicoMAC (EUI-64: the universal/local bit flipped,
// ff:fe in the middle). Calico's CNI plugin makes it the next hop of the
// pod's IPv6 routes: no stand-in as for IPv4, the host end holds it.
var CalicoLinkLocal = netip.MustParseAddr("fe80::ecee:eeff:feee:eeee")

// DefaultInterfacePrefix is Felix's host-side veth prefix, unless
// FELIX_INTERFACEPREFIX says otherwise.
const DefaultInterfacePrefix = "cali"

// VethName is the host-side name Calico gives a pod's veth: the prefix
// and the first 11 hex characters of SHA-1("<namespace>.<pod>"), which
// keeps it within IFNAMSIZ. With an empty prefix it is the hash alone.
func VethName(prefix, namespace, pod string) string {
	return prefix + VethHash(namespace, pod)[:11]
}

// VethHash is the whole SHA-1, in hex, VethName cuts its name from.
func VethHash(namespace, pod string) string {
	sum := sha1.Sum([]byte(VethHashInput(namespace, pod)))
	return hex.EncodeToString(sum[:])
}

// VethHashInput is what Calico hashes: "<namespace>.<pod>".
func VethHashInput(namespace, pod string) string { return namespace + "." + pod }

// The pod the lesson follows, and the defaults that find it in a cluster.
const (
	DefaultNamespace = "yaobank"
	DefaultSelector  = "app=customer"
)

// IsCustomerPod says whether a pod is the lesson's customer pod (or one of
// its replacements).
func IsCustomerPod(namespace, name string) bool {
	return namespace == DefaultNamespace && (name == "customer" || strings.HasPrefix(name, "customer-"))
}
