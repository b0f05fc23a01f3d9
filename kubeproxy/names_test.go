package kubeproxy

import "testing"

// The names are kube-proxy's own: the lesson's published summary chain,
// and the ones kube-proxy v1.37.2's own tests expect (pkg/proxy/iptables
// and pkg/proxy/nftables proxier_test.go, service ns1/svc1 port p80 with
// endpoint 10.180.0.1:80).
func TestChainNames(t *testing.T) {
	summary := ServicePort{Namespace: "yaobank", Name: "summary", Port: "http", Protocol: "TCP"}
	svc1 := ServicePort{Namespace: "ns1", Name: "svc1", Port: "p80", Protocol: "tcp"}
	for _, tt := range []struct {
		name, got, want string
	}{
		{"lesson summary KUBE-SVC", SVCChain(summary), "KUBE-SVC-OIQIZJVJK6E34BR4"},
		{"svc1 KUBE-SVC", SVCChain(svc1), "KUBE-SVC-XPGD46QRK7WJZT7O"},
		{"svc1 KUBE-EXT", EXTChain(svc1), "KUBE-EXT-XPGD46QRK7WJZT7O"},
		{"svc1 KUBE-FW", FWChain(svc1), "KUBE-FW-XPGD46QRK7WJZT7O"},
		{"svc1 KUBE-SVL", SVLChain(svc1), "KUBE-SVL-XPGD46QRK7WJZT7O"},
		{"svc1 KUBE-SEP", SEPChain(svc1, Endpoint("10.180.0.1", 80)), "KUBE-SEP-SXIVWICOYRO3J4NJ"},
		{"svc1 nft service", NFTServiceChain(svc1), "service-ULMVA6XW-ns1/svc1/tcp/p80"},
		{"svc1 nft external", NFTExternalChain(svc1), "external-ULMVA6XW-ns1/svc1/tcp/p80"},
		{"svc1 nft endpoint", NFTEndpointChain(svc1, Endpoint("10.180.0.1", 80)), "endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80"},
		{"port name form", summary.String(), "yaobank/summary:http"},
		{"unnamed port", ServicePort{Namespace: "a", Name: "b"}.String(), "a/b"},
		{"IPv6 endpoint", Endpoint("fd00::1", 80), "[fd00::1]:80"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
