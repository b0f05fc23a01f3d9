package netview

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"podlab/internal/kpgen"
	"podlab/kubeproxy"
)

// The view reads as birdc: testdata/bird-show-protocols.txt is BIRD
// 2.0.12's own `birdc show protocols` (its greeting left out) for the
// protocols below, as lab/bird reads them: a session refused, one
// closed, one disabled.
func TestRenderBirdAsBirdc(t *testing.T) {
	since := "11:01:21.082"
	ps := BirdProtocols{
		{Name: "device1", Proto: "Device", Table: "---", State: "up", Since: since},
		{Name: "kernel1", Proto: "Kernel", Table: "master4", State: "up", Since: since},
		{Name: "node2", Proto: "BGP", Table: "---", State: "start", Since: since, Info: "Active Socket: Connection refused"},
		{Name: "Global_198_19_15_254", Proto: "BGP", Table: "---", State: "start", Since: since, Info: "Active Socket: Connection closed"},
		{Name: "stopped", Proto: "BGP", Table: "---", State: "down", Since: since},
	}
	lines := RenderExtra(PlaceHost, ViewBird, &Extra{Bird: ps}, nil)
	if got, want := Plain(lines), readFile(t, "testdata/bird-show-protocols.txt"); got != want {
		t.Errorf("--- birdc\n%s--- view\n%s", want, got)
	}
	for _, l := range lines[3:] {
		if !l.HasTag(TagSessionDown) || l.HasTag(TagSessionUp) {
			t.Errorf("%s: %s", l.Key, tagged([]Line{l}))
		}
	}
	if why := lines[4].Why; !strings.Contains(why, "host1") && !strings.Contains(why, "198.19.15.254") {
		t.Errorf("Global_198_19_15_254 names no peer: %q", why)
	}
}

// calico-node runs BIRD 1, whose rows are "%-8s %-8s %-8s %-5s %-10s %s"
// under a header of its own (BIRD 1.6's proto_cmd_show).
func TestRenderBird1(t *testing.T) {
	ps := BirdProtocols{
		{Name: "static1", Proto: "Static", Table: "master", State: "up", Since: "2026-12-05"},
		{Name: "Mesh_198_19_0_3", Proto: "BGP", Table: "master", State: "up", Since: "2026-12-05", Info: "Established",
			Channels: []BirdChannel{{Routes: BirdRoutes{Imported: 2, Exported: 3}}}, Routes: BirdRoutes{Imported: 2, Exported: 3}},
	}
	want := "name     proto    table    state  since       info\n" +
		"static1  Static   master   up    2026-12-05 \n" +
		"Mesh_198_19_0_3 BGP      master   up    2026-12-05 Established   \n"
	lines := RenderExtra(PlaceHost, ViewBird, &Extra{Bird: ps}, nil)
	if got := Plain(lines); got != want {
		t.Errorf("--- want\n%s--- got\n%s", want, got)
	}
	if !lines[2].HasTag(TagSessionUp) || !strings.Contains(lines[2].Why, "198.19.0.3") {
		t.Errorf("%s: %q", tagged(lines[2:]), lines[2].Why)
	}
}

// externalTrafficPolicy Local: the node port's KUBE-EXT chain sends
// external traffic to KUBE-SVL, which picks among this node's endpoints
// only; the view shows that chain too.
func TestRenderNATLocalPolicy(t *testing.T) {
	customer := kubeproxy.ServicePort{Namespace: "yaobank", Name: "customer", Port: "http", Protocol: "TCP"}
	svc, ext, svl := kubeproxy.SVCChain(customer), kubeproxy.EXTChain(customer), kubeproxy.SVLChain(customer)
	sep := kubeproxy.SEPChain(customer, "198.19.22.132:80")
	in := "*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n:" + svc + " - [0:0]\n:" + ext + " - [0:0]\n:" + svl + " - [0:0]\n:" + sep + " - [0:0]\n" +
		`[1:60] -A KUBE-SERVICES -d 198.19.33.112/32 -p tcp -m comment --comment "yaobank/customer:http cluster IP" -m tcp --dport 80 -j ` + svc + "\n" +
		`[2:120] -A KUBE-NODEPORTS -p tcp -m comment --comment "yaobank/customer:http" -m tcp --dport 30180 -j ` + ext + "\n" +
		`[0:0] -A ` + ext + ` -s 198.19.16.0/20 -m comment --comment "pod traffic for yaobank/customer:http external destinations" -j ` + svc + "\n" +
		`[0:0] -A ` + ext + ` -m comment --comment "masquerade LOCAL traffic for yaobank/customer:http external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ` + "\n" +
		`[0:0] -A ` + ext + ` -m comment --comment "route LOCAL traffic for yaobank/customer:http external destinations" -m addrtype --src-type LOCAL -j ` + svc + "\n" +
		`[2:120] -A ` + ext + ` -j ` + svl + "\n" +
		`[1:60] -A ` + svc + ` -m comment --comment "yaobank/customer:http -> 198.19.22.132:80" -j ` + sep + "\n" +
		`[2:120] -A ` + svl + ` -m comment --comment "yaobank/customer:http -> 198.19.22.132:80" -j ` + sep + "\n" +
		`[3:180] -A ` + sep + ` -p tcp -m comment --comment "yaobank/customer:http" -m tcp -j DNAT --to-destination 198.19.22.132:80` + "\n" + "COMMIT\n"
	tb, err := kubeproxy.ParseSave(strings.NewReader(in), kubeproxy.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	e := viewsLab(t, 2)
	e.Resources.Services = e.Resources.Services[:1]
	e.Resources.Services[0].ExternalTrafficPolicy = "Local"
	e.NAT = tb
	lines := keyed(RenderExtra(PlaceHost, ViewNAT, e, nil))
	for key, want := range map[string]string{
		"nat:chain:" + svl:                         "externalTrafficPolicy Local",
		"nat:" + svl + ":" + sep:                   "only to the endpoints on the node it reached",
		"nat:" + ext + ":" + svl:                   "the Local policy chain",
		"nat:" + ext + ":" + svc:                   "from pods or from the node itself",
		"nat:" + ext + ":KUBE-MARK-MASQ":           "marked for masquerade",
		"nat:" + ext + ":" + svc + "#2":            "from pods or from the node itself",
		"nat:KUBE-NODEPORTS:" + ext + ":node port": "30180",
	} {
		l := lines[key]
		if l == nil {
			t.Errorf("no line %s", key)
			continue
		}
		if !strings.Contains(l.Why, want) {
			t.Errorf("%s: %q, want %q in it", key, l.Why, want)
		}
	}
	if l := lines["nat:chain:"+svl]; l == nil || !strings.HasPrefix(l.String(), "Chain "+svl+" (1 references)") {
		t.Errorf("SVL header %v", l)
	}
}

// Without the cluster's Services the view follows the service ports the
// table lists, the first fifty, and says how many it left out.
func TestRenderNATWithoutResources(t *testing.T) {
	for _, tt := range []struct {
		services, shown, more int
	}{{3, 3, 0}, {60, 50, 10}} {
		t.Run(fmt.Sprint(tt.services), func(t *testing.T) {
			var in strings.Builder
			svcs := kpgen.Scale(tt.services, tt.services)
			if tt.services == 3 {
				svcs = kpgen.Yaobank(2)
			}
			if err := kpgen.WriteIPTables(&in, svcs); err != nil {
				t.Fatal(err)
			}
			tb, err := kubeproxy.ParseSave(strings.NewReader(in.String()), kubeproxy.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			shown, more := 0, ""
			for _, l := range RenderExtra(PlaceHost, ViewNAT, &Extra{NAT: tb}, nil) {
				if strings.HasPrefix(l.Key, "nat:svc:") {
					shown++
					if !strings.HasSuffix(l.String(), ": found, 1 endpoint") && !strings.HasSuffix(l.String(), ": found, 2 endpoints") {
						t.Errorf("%q", l.String())
					}
				}
				if l.Key == "nat:more" {
					more = l.String()
				}
			}
			want := ""
			if tt.more > 0 {
				want = fmt.Sprintf("# and %d more service ports, not shown", tt.more)
			}
			if shown != tt.shown || more != want {
				t.Errorf("%d service ports shown, note %q; want %d, %q", shown, more, tt.shown, want)
			}
		})
	}
}

// Every tag the views use is documented, and every documented tag is
// used: the lead's docs and legends are made from TagDoc.
func TestExtraTagDocs(t *testing.T) {
	used := map[Tag]bool{}
	note := func(lines []Line) {
		for _, l := range lines {
			for _, s := range l.Spans {
				used[s.Tag] = true
			}
		}
	}
	for _, p := range []Place{PlaceHost, PlaceHost1, PlaceCluster} {
		for _, v := range ExtraViews() {
			note(RenderExtra(p, v, viewsLab(t, 3), nil))
			note(RenderExtra(p, v, nftLab(t), nil))
		}
	}
	cur := viewsLab(t, 2)
	bump(cur.NAT, kubeproxy.ChainServices, kubeproxy.SVCChain(summaryPort), 1)
	note(RenderExtra(PlaceHost, ViewNAT, cur, viewsLab(t, 2)))
	for tag := range used {
		if tag != TagNone && tag != TagMuted && TagDoc(tag) == "" {
			t.Errorf("tag %q used but not documented", tag)
		}
	}
	for _, tag := range ExtraTags() {
		if TagDoc(tag) == "" || !used[tag] {
			t.Errorf("tag %q: doc %q, used %v", tag, TagDoc(tag), used[tag])
		}
	}
	if slices.Contains(ExtraTags(), TagMuted) {
		t.Error("ExtraTags lists an older tag")
	}
}

// A view with nothing to follow says so in a line, not by being empty.
func TestRenderNATNothingToFollow(t *testing.T) {
	tb, err := kubeproxy.ParseSave(strings.NewReader("*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n"), kubeproxy.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []*Extra{{NAT: tb}, {NAT: tb, Resources: &Resources{}}} {
		lines := RenderExtra(PlaceHost, ViewNAT, e, nil)
		if len(lines) != 1 || lines[0].String() != "# no service port to follow" || lines[0].Why == "" {
			t.Errorf("%q", Plain(lines))
		}
	}
}

// Without the cluster's objects, the pools and the BGP configuration
// come from host1's facts, which carry them.
func TestRenderExtraResourcesFromHost1Facts(t *testing.T) {
	e := viewsLab(t, 2)
	want := Plain(RenderExtra(PlaceHost1, ViewPools, e, nil))
	e.Resources = nil
	if got := Plain(RenderExtra(PlaceHost1, ViewPools, e, nil)); got != want {
		t.Errorf("--- with Resources\n%s--- from Host1Facts\n%s", want, got)
	}
	if e.Resources != nil {
		t.Error("RenderExtra changed the Extra")
	}
}

// The Services and EndpointSlices read as kubectl prints them:
// testdata/kubectl-get.txt is kubectl 1.32's `get svc -n yaobank -o wide`
// and `get endpointslices -n yaobank` of these objects on a real API
// server. The view has no AGE (nor SELECTOR) column: each of its lines
// is kubectl's up to AGE.
func TestRenderKubectlAsKubectl(t *testing.T) {
	svc := func(name, ip string, port, np int32, typ string) Service {
		return Service{Namespace: "yaobank", Name: name, Type: typ, ClusterIPs: []netip.Addr{addr(ip)},
			Ports: []ServicePort{{Name: "http", Protocol: "TCP", Port: port, TargetPort: fmt.Sprint(port), NodePort: np}}}
	}
	slice := func(name string, ips ...string) EndpointSlice {
		es := EndpointSlice{Namespace: "yaobank", Name: name + "-abcde", Service: name, AddressType: "IPv4"}
		for _, ip := range ips {
			es.Endpoints = append(es.Endpoints, Endpoint{Addresses: []netip.Addr{addr(ip)}, Ready: true})
		}
		return es
	}
	r := &Resources{
		Services: []Service{svc("customer", "10.96.33.112", 80, 30180, "NodePort"), svc("database", "10.96.33.14", 2379, 0, "ClusterIP"),
			svc("summary", "10.96.34.135", 80, 0, "ClusterIP")},
		EndpointSlices: []EndpointSlice{slice("customer", "198.19.22.132"), slice("database", "198.19.21.68"),
			slice("summary", "198.19.21.65", "198.19.22.129", "198.19.22.130", "198.19.22.131")},
	}
	var got []Line
	for _, v := range []View{ViewServices, ViewEndpoints} {
		got = append(got, RenderExtra(PlaceCluster, v, &Extra{Resources: r}, nil)...)
	}
	var want []string
	cut := 0
	for _, l := range strings.Split(strings.TrimSuffix(readFile(t, "testdata/kubectl-get.txt"), "\n"), "\n") {
		if strings.HasPrefix(l, "NAME ") {
			cut = strings.Index(l, "AGE")
		}
		want = append(want, strings.TrimRight(l[:cut], " "))
	}
	if len(got) != len(want) {
		t.Fatalf("%d lines, kubectl %d:\n%s", len(got), len(want), Plain(got))
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("line %d:\n kubectl %q\n view    %q", i, want[i], got[i].String())
		}
	}
}
