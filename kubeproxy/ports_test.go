package kubeproxy

import (
	"fmt"
	"testing"
)

func TestServicePorts(t *testing.T) {
	customer := ServicePort{Namespace: "yaobank", Name: "customer", Port: "http", Protocol: "tcp"}
	database := ServicePort{Namespace: "yaobank", Name: "database", Port: "http", Protocol: "tcp"}
	nft := &Table{Mode: ModeNFTables, Maps: []Map{{Name: NFTServiceIPsMap, Elems: []MapElem{
		{Key: []string{"198.19.33.112", "tcp", "80"}, Target: NFTServiceChain(customer)},
		{Key: []string{"203.0.113.7", "tcp", "80"}, Target: NFTExternalChain(customer)},
		{Key: []string{"198.19.33.14", "tcp", "2379"}, Target: NFTServiceChain(database)},
		{Key: []string{"198.19.33.99", "udp", "53"}, Target: "service-XXXXXXXX-not-a-name"},
	}}}}
	for _, tt := range []struct {
		name string
		t    *Table
		want []ServicePort
	}{
		{"iptables", readSave(t, "yaobank2.save"), []ServicePort{customer, summary, database}},
		{"nftables", nft, []ServicePort{customer, database}},
		{"empty", &Table{Mode: ModeIPTables}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := ServicePorts(tt.t); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("%v, want %v", got, tt.want)
			}
		})
	}
}

func TestFields(t *testing.T) {
	for _, tt := range []struct {
		text string
		want []string
	}{
		{`-m comment --comment "yaobank/summary:http -> 198.19.22.129:80" -j KUBE-SEP-X`,
			[]string{"-m", "comment", "--comment", "yaobank/summary:http -> 198.19.22.129:80", "-j", "KUBE-SEP-X"}},
		{`--comment "a \"quoted\" word"`, []string{"--comment", `a "quoted" word`}},
		{`--comment "open`, nil},
	} {
		if got := Fields(tt.text); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
			t.Errorf("Fields(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}
