package netview

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var (
	allSides = []Side{SidePod, SideHost}
	allViews = []View{ViewAddr, ViewLink, ViewRoute, ViewNeigh}
)

func snap(p *Pair, side Side) *Snapshot {
	if side == SidePod {
		return &p.Pod
	}
	return &p.Host
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./netview -update)", err)
	}
	if string(want) != got {
		t.Fatalf("%s differs (run go test ./netview -update to accept):\n--- want\n%s--- got\n%s", path, want, got)
	}
}

// tagged shows each span with its tag, for the goldens of tags.
func tagged(lines []Line) string {
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%-20s|", l.Key)
		for _, s := range l.Spans {
			if s.Tag == TagNone {
				b.WriteString(s.Text)
			} else {
				fmt.Fprintf(&b, "[%s:%s]", s.Tag, s.Text)
			}
		}
		b.WriteString("|\n")
	}
	return b.String()
}

func TestRenderGolden(t *testing.T) {
	rec := loadLesson(t)
	a := Analyze(&rec.Pair)
	var tags strings.Builder
	for _, side := range allSides {
		for _, v := range allViews {
			t.Run(string(side)+"-"+string(v), func(t *testing.T) {
				lines := Render(side, v, snap(&rec.Pair, side), &a)
				golden(t, fmt.Sprintf("lesson-%s-%s.golden", side, v), Plain(lines))
				fmt.Fprintf(&tags, "== %s %s\n%s", side, v, tagged(lines))
			})
		}
	}
	golden(t, "lesson-tags.golden", tags.String())
}

// fields is text with its line wrapping and spacing undone.
func fields(s string) string { return strings.Join(strings.Fields(s), " ") }

// The lesson's own example output, as the seed prints it (its lines run
// together); podlab's rendering must read the same.
func TestRenderMatchesLesson(t *testing.T) {
	rec := loadLesson(t)
	a := Analyze(&rec.Pair)
	tests := []struct {
		name string
		side Side
		view View
		keep func(Line) bool
		want string
	}{
		{"node ip route", SideHost, ViewRoute, nil, `default via 192.168.44.65 dev eth0 proto dhcp src 192.168.44.75 metric 100 192.168.44.64/28 dev eth0 proto kernel scope link src 192.168.44.75 192.168.44.65 dev eth0 proto dhcp scope link src 192.168.44.75 metric 100 198.19.0.0/20 dev eth0 proto kernel scope link src 198.19.0.2 198.19.21.0/26 via 198.19.0.1 dev eth0 proto bird 198.19.21.64/26 via 198.19.0.3 dev eth0 proto bird 198.19.22.128 dev cali1eaab2bfc77 scope link blackhole 198.19.22.128/26 proto bird 198.19.22.129 dev cali9c9ee09e807 scope link 198.19.22.130 dev calid35188eb0ba scope link 198.19.22.131 dev calif0a98285df9 scope link 198.19.22.132 dev caliea2aa288365 scope link`},
		{"pod ip route", SidePod, ViewRoute, nil, `default via 169.254.1.1 dev eth0 169.254.1.1 dev eth0 scope link`},
		{"pod ip addr eth0", SidePod, ViewAddr, func(l Line) bool { return strings.HasSuffix(l.Key, ":3") }, `3: eth0@if9: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1410 qdisc noqueue state
UP group default
    link/ether 3a:0c:14:d0:92:89 brd ff:ff:ff:ff:ff:ff link-netnsid 0
    inet 198.19.22.132/32 brd 198.19.22.132 scope global eth0
       valid_lft forever preferred_lft forever
    inet6 fe80::380c:14ff:fed0:9289/64 scope link
       valid_lft forever preferred_lft forever`},
		{"node ip link caliea2aa288365", SideHost, ViewLink, func(l Line) bool { return l.Key == "link:9" }, `9: caliea2aa288365@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1410 qdisc
noqueue state UP mode DEFAULT group default
    link/ether ee:ee:ee:ee:ee:ee brd ff:ff:ff:ff:ff:ff link-netns
cni-f7159375-bf04-e8d8-85b8-0da49bfd53d0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := Render(tt.side, tt.view, snap(&rec.Pair, tt.side), &a)
			if tt.keep != nil {
				lines = slices.DeleteFunc(lines, func(l Line) bool { return !tt.keep(l) })
			}
			if got := fields(Plain(lines)); got != fields(tt.want) {
				t.Fatalf("rendered\n%s\nwant\n%s", got, fields(tt.want))
			}
		})
	}
}

// spansTagged returns the texts of the spans with tag t.
func spansTagged(lines []Line, t Tag) []string {
	var out []string
	for _, l := range lines {
		for _, s := range l.Spans {
			if s.Tag == t {
				out = append(out, s.Text)
			}
		}
	}
	return out
}

func lineByKey(t *testing.T, lines []Line, key string) Line {
	t.Helper()
	for _, l := range lines {
		if l.Key == key {
			return l
		}
	}
	t.Fatalf("no line %q", key)
	return Line{}
}

func TestRenderTags(t *testing.T) {
	rec := loadLesson(t)
	p := &rec.Pair
	a := Analyze(p)
	r := func(side Side, v View) []Line { return Render(side, v, snap(p, side), &a) }

	tests := []struct {
		name  string
		lines []Line
		tag   Tag
		want  []string
	}{
		{"pod addr veth", r(SidePod, ViewAddr), TagVethPod, []string{"eth0@if9", "eth0"}},
		{"pod addr pod ip", r(SidePod, ViewAddr), TagPodIP, []string{"198.19.22.132/32"}},
		{"pod addr netnsid", r(SidePod, ViewAddr), TagNetnsID, []string{"link-netnsid 0"}},
		{"pod link veth", r(SidePod, ViewLink), TagVethPod, []string{"eth0@if9"}},
		{"pod link mac", r(SidePod, ViewLink), TagMAC, []string{"3a:0c:14:d0:92:89"}},
		{"pod route gateway", r(SidePod, ViewRoute), TagGateway, []string{"169.254.1.1", "169.254.1.1"}},
		{"pod route veth", r(SidePod, ViewRoute), TagVethPod, []string{"eth0", "eth0"}},
		{"pod neigh gateway", r(SidePod, ViewNeigh), TagGateway, []string{"169.254.1.1", "ee:ee:ee:ee:ee:ee"}},
		{"host link veth", r(SideHost, ViewLink), TagVethHost, []string{"caliea2aa288365@if3"}},
		{"host link netns", r(SideHost, ViewLink), TagNetnsID, []string{
			"link-netns cni-8174e7bb-f2a6-0b61-1282-2c425f949ab5", "link-netns cni-e269d0db-f258-6f12-8f31-064bbb4cf87c",
			"link-netns cni-cebefddd-a569-08c2-29d7-7551967f7cf4", "link-netns cni-0a89d746-b16d-2299-9e6e-948dd7b2b512",
			"link-netns " + lessonPodNS}},
		{"host link other calis", r(SideHost, ViewLink), TagIfName, []string{"lo", "eth0",
			"cali1eaab2bfc77@if3", "cali9c9ee09e807@if3", "calid35188eb0ba@if3", "calif0a98285df9@if3"}},
		{"host route veth", r(SideHost, ViewRoute), TagVethHost, []string{"caliea2aa288365"}},
		{"host route remote blocks", r(SideHost, ViewRoute), RouteTag(ClassRemoteBlock), []string{
			"198.19.21.0/26 via 198.19.0.1 dev eth0 proto bird ", "198.19.21.64/26 via 198.19.0.3 dev eth0 proto bird "}},
		{"host route blackhole", r(SideHost, ViewRoute), RouteTag(ClassLocalBlockBlackhole), []string{"blackhole 198.19.22.128/26 proto bird "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := spansTagged(tt.lines, tt.tag); !slices.Equal(got, tt.want) {
				t.Fatalf("%s spans %q, want %q", tt.tag, got, tt.want)
			}
		})
	}

	t.Run("every route line carries its class", func(t *testing.T) {
		for _, side := range allSides {
			lines := r(side, ViewRoute)
			for _, rc := range a.Routes {
				if rc.Side != side {
					continue
				}
				l := lineByKey(t, lines, "route:"+rc.Dst)
				if !l.HasTag(RouteTag(rc.Class)) || l.Spans[0].Tag == TagNone {
					t.Errorf("%s %s: %q not tagged %s", side, rc.Dst, l.Spans, RouteTag(rc.Class))
				}
				for _, s := range l.Spans {
					if s.Tag == TagNone {
						t.Errorf("%s %s: untagged span %q", side, rc.Dst, s.Text)
					}
				}
			}
		}
	})
	t.Run("keys", func(t *testing.T) {
		for key, lines := range map[string][]Line{
			"link:9":                 r(SideHost, ViewLink),
			"addr:3":                 r(SidePod, ViewAddr),
			"route:default":          r(SidePod, ViewRoute),
			"neigh:169.254.1.1":      r(SidePod, ViewNeigh),
			"route:198.19.22.128/26": r(SideHost, ViewRoute),
		} {
			lineByKey(t, lines, key)
		}
	})
}

func TestRenderWithoutAnalysis(t *testing.T) {
	rec := loadLesson(t)
	structural := map[Tag]bool{TagNone: true, TagIfName: true, TagFlags: true, TagState: true, TagMuted: true, TagNetnsID: true}
	a := Analyze(&rec.Pair)
	for _, side := range allSides {
		for _, v := range allViews {
			t.Run(string(side)+"-"+string(v), func(t *testing.T) {
				bare := Render(side, v, snap(&rec.Pair, side), nil)
				full := Render(side, v, snap(&rec.Pair, side), &a)
				if Plain(bare) != Plain(full) {
					t.Fatalf("text differs without analysis:\n%s\n%s", Plain(bare), Plain(full))
				}
				for _, l := range bare {
					for _, s := range l.Spans {
						if !structural[s.Tag] {
							t.Errorf("%s: semantic tag %s on %q", l.Key, s.Tag, s.Text)
						}
					}
				}
			})
		}
	}
	if Render(SidePod, ViewAddr, nil, nil) != nil {
		t.Error("nil snapshot rendered")
	}
	if Render(SidePod, "bogus", &rec.Pod, nil) != nil {
		t.Error("unknown view rendered")
	}
}

// TestRenderForms covers iproute2's wording beyond the lesson's example.
func TestRenderForms(t *testing.T) {
	up := []string{"BROADCAST", "MULTICAST", "UP", "LOWER_UP"}
	s := &Snapshot{
		NS: Namespace{NSIDs: map[int]string{1: "peer-ns"}},
		Links: []Link{
			{Index: 2, Name: "br0", Kind: "bridge", Flags: up, MTU: 1500, Qdisc: "noqueue", OperState: "UP", LinkType: "ether", MAC: "aa:bb:cc:00:00:01", Broadcast: "ff:ff:ff:ff:ff:ff", LinkNetNSID: -1},
			{Index: 3, Name: "veth-a", Kind: "veth", Flags: []string{"NO-CARRIER", "BROADCAST", "MULTICAST", "UP", "M-DOWN"}, MTU: 1500, Qdisc: "noqueue", OperState: "LOWERLAYERDOWN", Group: "default", LinkType: "ether", MAC: "aa:bb:cc:00:00:02", Broadcast: "ff:ff:ff:ff:ff:ff", ParentIndex: 4, LinkNetNSID: -1, MasterIndex: 2},
			{Index: 4, Name: "veth-b", Kind: "veth", Flags: []string{"BROADCAST", "MULTICAST"}, MTU: 1500, Qdisc: "noop", OperState: "DOWN", Group: "default", TxQLen: 1000, LinkType: "ether", MAC: "aa:bb:cc:00:00:03", Broadcast: "ff:ff:ff:ff:ff:ff", ParentIndex: 3, LinkNetNSID: -1},
			{Index: 5, Name: "vx", Kind: "veth", Flags: up, MTU: 1500, Qdisc: "noqueue", OperState: "UP", Group: "default", LinkType: "ether", MAC: "aa:bb:cc:00:00:04", Broadcast: "ff:ff:ff:ff:ff:ff", ParentIndex: 7, LinkNetNSID: 1},
			{Index: 6, Name: "tunl0", Kind: "ipip", Flags: []string{"NOARP", "UP", "LOWER_UP"}, MTU: 1480, Qdisc: "noqueue", OperState: "UNKNOWN", Group: "default", TxQLen: 1000, LinkType: "ipip", MAC: "0.0.0.0", Broadcast: "0.0.0.0", LinkNetNSID: -1},
		},
		Addrs: []Addr{
			{Index: 2, Dev: "br0", Prefix: mp("10.0.0.5/24"), Broadcast: ma("10.0.0.255"), Scope: "global", Label: "br0", Flags: []string{"secondary"}, ValidLft: 86000, PreferredLft: 43000},
			{Index: 2, Dev: "br0", Prefix: mp("2001:db8::5/64"), Scope: "global", Flags: []string{"tentative", "permanent", "noprefixroute"}, ValidLft: LifetimeForever, PreferredLft: LifetimeForever},
			{Index: 6, Dev: "tunl0", Prefix: mp("10.9.0.1/32"), Peer: mp("10.9.0.2/32"), Scope: "global", Label: "tunl0", Flags: []string{"permanent"}, ValidLft: LifetimeForever, PreferredLft: LifetimeForever},
		},
		Routes: []Route{
			{Family: 4, Table: TableMain, Type: "unicast", Dst: mp("198.19.30.0/26"), Gw: ma("198.19.99.3"), Dev: "br0", Scope: "universe", Protocol: ProtoFelix, Flags: []string{"onlink"}},
			{Family: 4, Table: TableMain, Type: "unreachable", Dst: mp("10.9.4.0/24"), Scope: "universe", Protocol: ProtoBoot},
			{Family: 4, Table: TableMain, Type: "unicast", Dst: mp("10.0.0.0/24"), Dev: "br0", Scope: "link", Protocol: ProtoKernel, Src: ma("10.0.0.5"), Flags: []string{"linkdown"}},
			{Family: 4, Table: 100, Type: "unicast", Dst: mp("10.8.0.0/16"), Dev: "br0", Scope: "link", Protocol: ProtoBoot},
			{Family: 6, Table: TableMain, Type: "unicast", Dst: mp("2001:db8::/64"), Dev: "br0", Protocol: ProtoKernel, Metric: 256},
			{Family: 4, Table: TableMain, Type: "unicast", Dst: mp("10.9.1.0/24"), DevIndex: 2, Scope: "link", Protocol: 0},
			{Family: 4, Table: TableMain, Type: "unicast", Dst: mp("10.9.3.0/24"), Dev: "br0", Scope: "link", Protocol: 200, Metric: 5},
			{Family: 4, Table: TableMain, Type: "blackhole", Dst: mp("0.0.0.0/0"), Scope: "universe", Protocol: ProtoStatic, Metric: 4000},
			{Family: 4, Table: TableMain, Type: "unicast", Dst: mp("0.0.0.0/0"), Gw: ma("10.0.0.1"), Dev: "br0", Scope: "universe", Protocol: ProtoDHCP, Metric: 100},
		},
		Neighs: []Neigh{
			{Index: 2, Dev: "br0", IP: ma("fe80::1"), MAC: "aa:bb:cc:00:00:09", State: []string{"STALE"}, Flags: []string{"router"}},
			{Index: 2, Dev: "br0", IP: ma("10.0.0.1"), State: []string{"FAILED"}},
			{Index: 2, Dev: "br0", IP: ma("10.0.0.7"), MAC: "aa:bb:cc:00:00:07", State: []string{"PERMANENT"}},
		},
	}
	tests := []struct {
		view View
		want string
	}{
		{ViewAddr, `2: br0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default 
    link/ether aa:bb:cc:00:00:01 brd ff:ff:ff:ff:ff:ff
    inet 10.0.0.5/24 brd 10.0.0.255 scope global secondary dynamic br0
       valid_lft 86000sec preferred_lft 43000sec
    inet6 2001:db8::5/64 scope global tentative noprefixroute 
       valid_lft forever preferred_lft forever
3: veth-a@veth-b: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue master br0 state LOWERLAYERDOWN group default 
    link/ether aa:bb:cc:00:00:02 brd ff:ff:ff:ff:ff:ff
4: veth-b@veth-a: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default qlen 1000
    link/ether aa:bb:cc:00:00:03 brd ff:ff:ff:ff:ff:ff
5: vx@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default 
    link/ether aa:bb:cc:00:00:04 brd ff:ff:ff:ff:ff:ff link-netns peer-ns
6: tunl0: <NOARP,UP,LOWER_UP> mtu 1480 qdisc noqueue state UNKNOWN group default qlen 1000
    link/ipip 0.0.0.0 brd 0.0.0.0
    inet 10.9.0.1 peer 10.9.0.2/32 scope global tunl0
       valid_lft forever preferred_lft forever
`},
		{ViewLink, `2: br0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default 
    link/ether aa:bb:cc:00:00:01 brd ff:ff:ff:ff:ff:ff
3: veth-a@veth-b: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue master br0 state LOWERLAYERDOWN mode DEFAULT group default 
    link/ether aa:bb:cc:00:00:02 brd ff:ff:ff:ff:ff:ff
5: vx@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default 
    link/ether aa:bb:cc:00:00:04 brd ff:ff:ff:ff:ff:ff link-netns peer-ns
6: tunl0: <NOARP,UP,LOWER_UP> mtu 1480 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
    link/ipip 0.0.0.0 brd 0.0.0.0
`},
		{ViewRoute, `default via 10.0.0.1 dev br0 proto dhcp metric 100 
blackhole default proto static metric 4000 
10.0.0.0/24 dev br0 proto kernel scope link src 10.0.0.5 linkdown 
10.9.1.0/24 dev br0 proto unspec scope link 
10.9.3.0/24 dev br0 proto 200 scope link metric 5 
unreachable 10.9.4.0/24 
198.19.30.0/26 via 198.19.99.3 dev br0 proto 80 onlink 
`},
		{ViewNeigh, `10.0.0.1 dev br0 FAILED 
10.0.0.7 dev br0 lladdr aa:bb:cc:00:00:07 PERMANENT 
fe80::1 dev br0 lladdr aa:bb:cc:00:00:09 router STALE 
`},
	}
	for _, tt := range tests {
		t.Run(string(tt.view), func(t *testing.T) {
			if got := Plain(Render(SideHost, tt.view, s, nil)); got != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", strings.ReplaceAll(got, " \n", "·\n"), strings.ReplaceAll(tt.want, " \n", "·\n"))
			}
		})
	}
}

func BenchmarkAnalyze(b *testing.B) {
	rec := loadLesson(b)
	b.ReportAllocs()
	for b.Loop() {
		Analyze(&rec.Pair)
	}
}

func BenchmarkRender(b *testing.B) {
	rec := loadLesson(b)
	a := Analyze(&rec.Pair)
	b.ReportAllocs()
	for b.Loop() {
		for _, side := range allSides {
			for _, v := range allViews {
				Render(side, v, snap(&rec.Pair, side), &a)
			}
		}
	}
}

func BenchmarkRenderHostRoute(b *testing.B) {
	rec := loadLesson(b)
	a := Analyze(&rec.Pair)
	b.ReportAllocs()
	for b.Loop() {
		Render(SideHost, ViewRoute, &rec.Host, &a)
	}
}

// Route lines take their classes from the analysis whichever order it
// lists them in: the same analysis reversed tags the lines as the
// analysis of the snapshot does; one with a route missing leaves only
// that route's line without its class.
func TestRouteClassesAnyOrder(t *testing.T) {
	p := scalePair(t, 300)
	a := Analyze(p)
	want := Render(SideHost, ViewRoute, &p.Host, &a)
	reversed := a
	reversed.Routes = slices.Clone(a.Routes)
	slices.Reverse(reversed.Routes)
	short := a
	short.Routes = slices.Clone(a.Routes[:len(a.Routes)-1])
	missing := "route:" + a.Routes[len(a.Routes)-1].Dst
	for _, c := range []struct {
		name    string
		a       *Analysis
		missing string // the key of the line that loses its class
	}{{"reversed", &reversed, ""}, {"one short", &short, missing}} {
		t.Run(c.name, func(t *testing.T) {
			got := Render(SideHost, ViewRoute, &p.Host, c.a)
			if len(got) != len(want) {
				t.Fatalf("%d lines, want %d", len(got), len(want))
			}
			lost := 0
			for i := range got {
				w := want[i]
				if w.Key == c.missing {
					lost++
					w = Line{Key: w.Key}
					for _, s := range want[i].Spans {
						if strings.HasPrefix(string(s.Tag), "route-") {
							s.Tag = TagNone
						}
						w.Spans = append(w.Spans, s)
					}
				}
				if !reflect.DeepEqual(got[i], w) {
					t.Fatalf("line %d:\n got  %#v\n want %#v", i, got[i], w)
				}
			}
			if c.missing != "" && lost != 1 {
				t.Fatalf("%d lines have the key %s, want 1", lost, c.missing)
			}
		})
	}
}
