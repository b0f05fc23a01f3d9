package lab

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"podlab/internal/netnstest"
)

// What one snapshot reads from a namespace is bounded: a table over its
// bound is an error that names the bound, not a snapshot of any size.
func TestCollectTableBounds(t *testing.T) {
	netnstest.RequireRoot(t)
	ns := netnstest.New(t, "plbig")
	netnstest.Run(t, ns, "ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1")
	netnstest.Run(t, ns, "ip", "link", "set", "v0", "up")
	netnstest.Run(t, ns, "ip", "link", "set", "v1", "up")
	netnstest.Run(t, ns, "ip", "addr", "add", "10.7.0.1/24", "dev", "v0")
	for i := 2; i <= 6; i++ {
		netnstest.Run(t, ns, "ip", "addr", "add", fmt.Sprintf("10.7.0.%d/24", i), "dev", "v0")
		netnstest.Run(t, ns, "ip", "route", "add", fmt.Sprintf("10.8.%d.0/24", i), "via", "10.7.0.254", "dev", "v0")
		netnstest.Run(t, ns, "ip", "neigh", "add", fmt.Sprintf("10.7.0.%d", 100+i), "lladdr", "02:00:00:00:00:01", "dev", "v0")
	}
	saved := tableLimits
	t.Cleanup(func() { tableLimits = saved })
	tests := []struct {
		name string
		set  func()
		want string
	}{
		{"links", func() { tableLimits.links = 2 }, "listing links: more than 2 links, the most podlab reads from one namespace"},
		{"addresses", func() { tableLimits.addrs = 4 }, "listing addresses: more than 4 addresses"},
		{"routes", func() { tableLimits.routes = 4 }, "listing routes: more than 4 routes"},
		{"neighbours", func() { tableLimits.neighs = 4 }, "listing neighbours: more than 4 neighbour entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tableLimits = saved
			tt.set()
			err := collectBounded(t, NSRef{Name: ns})
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v, want one line with %q", err, tt.want)
			}
		})
	}
	tableLimits = saved
	s, err := Collect(context.Background(), NSRef{Name: ns})
	if err != nil {
		t.Fatalf("within the bounds: %v", err)
	}
	if len(s.Routes) < 5 || len(s.Neighs) < 5 || len(s.Addrs) < 6 {
		t.Errorf("within the bounds: %d routes, %d neighbours, %d addresses", len(s.Routes), len(s.Neighs), len(s.Addrs))
	}
}
