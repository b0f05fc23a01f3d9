package firewall

import (
	"context"
	"strings"
	"testing"

	"podlab/internal/netnstest"
	"podlab/kubeproxy"
	"podlab/lab"
)

// TestReadNAT: a node whose kube-proxy runs in nftables mode has its
// table read; one in iptables mode (no such table) has iptables-save's
// nat table read.
func TestReadNAT(t *testing.T) {
	netnstest.RequireRoot(t)
	netnstest.RequireCommand(t, "nft", "apt-get install nftables")
	netnstest.RequireCommand(t, "iptables-save", "apt-get install iptables")
	tests := []struct {
		name  string
		setup []string
		mode  kubeproxy.Mode
		chain string
	}{
		{"nftables", []string{"nft add table ip kube-proxy", "nft add chain ip kube-proxy services"}, kubeproxy.ModeNFTables, "services"},
		{"iptables", []string{"iptables -w -t nat -N KUBE-SERVICES"}, kubeproxy.ModeIPTables, "KUBE-SERVICES"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := netnstest.New(t, "pnat")
			for _, c := range tt.setup {
				netnstest.Run(t, ns, strings.Fields(c)...)
			}
			got, err := ReadNAT(context.Background(), lab.NSRef{Name: ns})
			if err != nil {
				t.Fatal(err)
			}
			if got.Mode != tt.mode || got.Chain(tt.chain) == nil {
				t.Errorf("read mode %s, chains %+v; want %s with %s", got.Mode, got.Chains, tt.mode, tt.chain)
			}
		})
	}
}
