package lab

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"podlab/internal/netnstest"
	"podlab/netview"
)

// TestRenderMatchesIP holds podlab's rendering of collected snapshots
// against iproute2's own text for the same namespace, line by line: a
// student puts the two side by side, so they must read the same.
func TestRenderMatchesIP(t *testing.T) {
	c := buildCalico(t)
	netnstest.Ping(t, c.Pod, c.HostIP)
	views := []struct {
		view netview.View
		args []string
	}{
		{netview.ViewAddr, []string{"addr"}},
		{netview.ViewLink, []string{"link", "show", "up"}},
		{netview.ViewRoute, []string{"route"}},
		{netview.ViewNeigh, []string{"neigh"}},
	}
	for _, ns := range []string{c.Pod, c.Host} {
		for _, v := range views {
			t.Run(ns+"/"+string(v.view), func(t *testing.T) {
				ip := func() string {
					t.Helper()
					out, err := exec.Command("ip", append([]string{"-n", ns}, v.args...)...).Output()
					if err != nil {
						t.Fatalf("ip %v: %v", v.args, err)
					}
					return string(out)
				}
				// Neighbour states and IPv6 addresses can change under us:
				// compare only when ip printed the same before and after.
				for range 10 {
					before := ip()
					s, err := Collect(context.Background(), NSRef{Name: ns})
					if err != nil {
						t.Fatal(err)
					}
					if ip() != before {
						continue
					}
					got := netview.Plain(netview.Render(netview.SideHost, v.view, s, nil))
					if got != before {
						t.Errorf("podlab renders:\n%s\nip prints:\n%s", got, before)
						for i, l := range strings.Split(got, "\n") {
							if w := strings.Split(before, "\n"); i < len(w) && w[i] != l {
								t.Errorf("first difference, line %d:\n podlab %q\n     ip %q", i+1, l, w[i])
								break
							}
						}
					}
					return
				}
				t.Fatal("ip printed something different each of 10 times: cannot compare")
			})
		}
	}
}
