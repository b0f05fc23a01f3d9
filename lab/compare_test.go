package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"podlab/internal/netnstest"
	"podlab/netview"
)

// ipJSON runs `ip -n ns -j args...` and decodes it.
func ipJSON(t *testing.T, ns string, args ...string) []map[string]any {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"-n", ns, "-j"}, args...)...).Output()
	if err != nil {
		t.Fatalf("ip %v: %v", args, err)
	}
	var v []map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("ip %v: %v: %s", args, err, out)
	}
	return v
}

func str(m map[string]any, k string) string {
	switch v := m[k].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case []any:
		var s []string
		for _, x := range v {
			s = append(s, fmt.Sprint(x))
		}
		return strings.Join(s, ",")
	case nil:
		return ""
	}
	return fmt.Sprint(m[k])
}

// The lines below describe each object in the same words from both
// sources, so a difference shows as a line that is in one set only.

func ipLinks(t *testing.T, ns string) []string {
	var out []string
	for _, l := range ipJSON(t, ns, "link", "show") {
		out = append(out, fmt.Sprintf("%s %s @%s nsid=%s <%s> mtu %s qdisc %s state %s group %s qlen %s link/%s %s brd %s master %s",
			str(l, "ifindex"), str(l, "ifname"), str(l, "link_index"), str(l, "link_netnsid"), str(l, "flags"), str(l, "mtu"),
			str(l, "qdisc"), str(l, "operstate"), str(l, "group"), str(l, "txqlen"), str(l, "link_type"), str(l, "address"),
			str(l, "broadcast"), str(l, "master")))
	}
	return out
}

func ourLinks(s *netview.Snapshot) []string {
	var out []string
	for _, l := range s.Links {
		parent, nsid, master, qlen := "", "", "", ""
		if l.ParentIndex != 0 {
			parent = strconv.Itoa(l.ParentIndex)
		}
		if l.LinkNetNSID >= 0 {
			nsid = strconv.Itoa(l.LinkNetNSID)
		}
		if m := s.LinkByIndex(l.MasterIndex); m != nil {
			master = m.Name
		}
		qlen = strconv.Itoa(l.TxQLen)
		out = append(out, fmt.Sprintf("%d %s @%s nsid=%s <%s> mtu %d qdisc %s state %s group %s qlen %s link/%s %s brd %s master %s",
			l.Index, l.Name, parent, nsid, strings.Join(l.Flags, ","), l.MTU, l.Qdisc, l.OperState, l.Group, qlen,
			l.LinkType, l.MAC, l.Broadcast, master))
	}
	return out
}

func ipAddrs(t *testing.T, ns string) []string {
	var out []string
	for _, l := range ipJSON(t, ns, "addr", "show") {
		for _, x := range l["addr_info"].([]any) {
			a := x.(map[string]any)
			out = append(out, fmt.Sprintf("%s %s %s/%s scope %s label %s brd %s",
				str(l, "ifindex"), str(l, "ifname"), str(a, "local"), str(a, "prefixlen"), str(a, "scope"), str(a, "label"), str(a, "broadcast")))
		}
	}
	return out
}

func ourAddrs(s *netview.Snapshot) []string {
	var out []string
	for _, a := range s.Addrs {
		brd := ""
		if a.Broadcast.IsValid() {
			brd = a.Broadcast.String()
		}
		out = append(out, fmt.Sprintf("%d %s %s scope %s label %s brd %s", a.Index, a.Dev, a.Prefix, a.Scope, a.Label, brd))
	}
	return out
}

var ipTables = map[string]int{"": netview.TableMain, "main": netview.TableMain, "local": netview.TableLocal, "default": 253}
var ipProtos = map[string]int{"": netview.ProtoBoot, "redirect": 1, "kernel": 2, "boot": 3, "static": 4, "ra": 9, "dhcp": 16, "bird": 12}

func ipRoutes(t *testing.T, ns string) []string {
	var out []string
	for fam, args := range map[int][]string{4: {"-4", "route", "show", "table", "all"}, 6: {"-6", "route", "show", "table", "all"}} {
		for _, r := range ipJSON(t, ns, args...) {
			dst := str(r, "dst")
			switch {
			case dst == "default" && fam == 4:
				dst = "0.0.0.0/0"
			case dst == "default":
				dst = "::/0"
			case !strings.Contains(dst, "/"):
				dst = netip.PrefixFrom(netip.MustParseAddr(dst), map[int]int{4: 32, 6: 128}[fam]).String()
			}
			typ := str(r, "type")
			if typ == "" {
				typ = "unicast"
			}
			table, ok := ipTables[str(r, "table")]
			if !ok {
				table, _ = strconv.Atoi(str(r, "table"))
			}
			proto, ok := ipProtos[str(r, "protocol")]
			if !ok {
				proto, _ = strconv.Atoi(str(r, "protocol"))
			}
			scope := str(r, "scope")
			if scope == "" || scope == "global" {
				scope = "universe"
			}
			metric := str(r, "metric")
			if metric == "" {
				metric = "0"
			}
			out = append(out, fmt.Sprintf("%d table %d %s %s via %s dev %s proto %d scope %s src %s metric %s flags %s",
				fam, table, typ, dst, str(r, "gateway"), str(r, "dev"), proto, scope, str(r, "prefsrc"), metric, str(r, "flags")))
		}
	}
	return out
}

func ourRoutes(s *netview.Snapshot) []string {
	var out []string
	for _, r := range s.Routes {
		gw, src := "", ""
		if r.Gw.IsValid() {
			gw = r.Gw.String()
		}
		if r.Src.IsValid() {
			src = r.Src.String()
		}
		// ip hides proto unspec in JSON too; only boot is implied.
		out = append(out, fmt.Sprintf("%d table %d %s %s via %s dev %s proto %d scope %s src %s metric %d flags %s",
			r.Family, r.Table, r.Type, r.Dst, gw, r.Dev, r.Protocol, r.Scope, src, r.Metric, strings.Join(r.Flags, ",")))
	}
	return out
}

func ipNeighs(t *testing.T, ns string) []string {
	var out []string
	for _, n := range ipJSON(t, ns, "neigh", "show") {
		out = append(out, fmt.Sprintf("%s dev %s lladdr %s", str(n, "dst"), str(n, "dev"), str(n, "lladdr")))
	}
	return out
}

func ourNeighs(s *netview.Snapshot) []string {
	var out []string
	for _, n := range s.Neighs {
		out = append(out, fmt.Sprintf("%s dev %s lladdr %s", n.IP, n.Dev, n.MAC))
	}
	return out
}

func sameSet(a, b []string) (onlyA, onlyB []string) {
	for _, x := range a {
		if !slices.Contains(b, x) {
			onlyA = append(onlyA, x)
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			onlyB = append(onlyB, x)
		}
	}
	return
}

// TestCollectMatchesIP holds each snapshot against what `ip -j` prints
// for the same namespace at the same moment.
func TestCollectMatchesIP(t *testing.T) {
	c := buildCalico(t)
	netnstest.Ping(t, c.Pod, c.HostIP)
	for _, ns := range []string{c.Pod, c.Host, c.Fabric} {
		t.Run(ns, func(t *testing.T) {
			views := []struct {
				name string
				ip   func(*testing.T, string) []string
				ours func(*netview.Snapshot) []string
			}{
				{"link", ipLinks, ourLinks},
				{"addr", ipAddrs, ourAddrs},
				{"route", ipRoutes, ourRoutes},
				{"neigh", ipNeighs, ourNeighs},
			}
			for _, v := range views {
				t.Run(v.name, func(t *testing.T) {
					// IPv6 autoconfiguration may change things under us:
					// compare only when ip saw the same before and after.
					var onlyIP, onlyUs []string
					compared := false
					for range 10 {
						before := v.ip(t, ns)
						s, err := Collect(context.Background(), NSRef{Name: ns})
						if err != nil {
							t.Fatal(err)
						}
						after := v.ip(t, ns)
						if a, b := sameSet(before, after); len(a)+len(b) > 0 {
							continue
						}
						if len(before) == 0 && v.name != "neigh" {
							t.Fatalf("ip shows no %s at all", v.name)
						}
						t.Logf("%d lines", len(before))
						onlyIP, onlyUs = sameSet(before, v.ours(s))
						compared = true
						break
					}
					if !compared {
						t.Fatalf("ip never showed the same %s before and after a collection in 10 tries: nothing was compared", v.name)
					}
					for _, x := range onlyIP {
						t.Errorf("only ip shows:   %s", x)
					}
					for _, x := range onlyUs {
						t.Errorf("only we show:    %s", x)
					}
				})
			}
		})
	}
}
