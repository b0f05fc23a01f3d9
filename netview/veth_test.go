package netview

import "testing"

func TestVethName(t *testing.T) {
	tests := []struct{ prefix, ns, pod, want string }{
		{"cali", "yaobank", "customer-574bd6cc75-2blnv", "caliea2aa288365"},
		{"tap", "yaobank", "customer-574bd6cc75-2blnv", "tapea2aa288365"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := VethName(tt.prefix, tt.ns, tt.pod); got != tt.want {
				t.Fatalf("VethName(%q, %q, %q) = %q, want %q", tt.prefix, tt.ns, tt.pod, got, tt.want)
			}
		})
	}
}
