package netview

import (
	"crypto/sha1"
	"encoding/hex"
)

// VethName is the host-side name Calico gives a pod's veth: the prefix
// (cali unless FELIX_INTERFACEPREFIX says otherwise) and the first 11 hex
// characters of SHA-1("<namespace>.<pod>"), which keeps it within
// IFNAMSIZ.
func VethName(prefix, namespace, pod string) string {
	sum := sha1.Sum([]byte(namespace + "." + pod))
	return prefix + hex.EncodeToString(sum[:])[:11]
}
