package netview

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files and testdata/lesson.json")

// The lesson's example, as the seed prints it.
var (
	lessonTime   = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	lessonPodNS  = "cni-f7159375-bf04-e8d8-85b8-0da49bfd53d0"
	lessonPodIP  = netip.MustParseAddr("198.19.22.132")
	lessonCalis  = []string{"cali1eaab2bfc77", "cali9c9ee09e807", "calid35188eb0ba", "calif0a98285df9", "caliea2aa288365"}
	lessonCNINS  = []string{"cni-8174e7bb-f2a6-0b61-1282-2c425f949ab5", "cni-e269d0db-f258-6f12-8f31-064bbb4cf87c", "cni-cebefddd-a569-08c2-29d7-7551967f7cf4", "cni-0a89d746-b16d-2299-9e6e-948dd7b2b512", lessonPodNS}
	lessonPodsN1 = []PodFact{
		{Namespace: "kube-system", Name: "coredns-5d78c9869d-7xkq2"},
		{Namespace: "kube-system", Name: "coredns-5d78c9869d-lfp4w"},
		{Namespace: "calico-system", Name: "calico-kube-controllers-7c5b6c8f4d-qj2mz"},
		{Namespace: "yaobank", Name: "summary-6c9b8f7d5b-k2x8w"},
		{Namespace: "yaobank", Name: "customer-574bd6cc75-2blnv"},
	}
)

func mp(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func ma(s string) netip.Addr   { return netip.MustParseAddr(s) }

func forever(a Addr) Addr {
	a.ValidLft, a.PreferredLft = LifetimeForever, LifetimeForever
	return a
}

// lessonRecording builds testdata/lesson.json: the seed's customer pod on
// node1, turned into snapshots.
func lessonRecording() *Recording {
	up := []string{"BROADCAST", "MULTICAST", "UP", "LOWER_UP"}
	lo := Link{Index: 1, Name: "lo", Flags: []string{"LOOPBACK", "UP", "LOWER_UP"}, MTU: 65536, Qdisc: "noqueue",
		OperState: "UNKNOWN", Group: "default", TxQLen: 1000, LinkType: "loopback",
		MAC: "00:00:00:00:00:00", Broadcast: "00:00:00:00:00:00", LinkNetNSID: -1}
	loAddrs := []Addr{
		forever(Addr{Index: 1, Dev: "lo", Prefix: mp("127.0.0.1/8"), Scope: "host", Label: "lo", Flags: []string{"permanent"}}),
		forever(Addr{Index: 1, Dev: "lo", Prefix: mp("::1/128"), Scope: "host", Flags: []string{"permanent"}}),
	}

	pod := Snapshot{
		NS:      Namespace{Name: lessonPodNS, Path: "/run/netns/" + lessonPodNS},
		TakenAt: lessonTime,
		Links: []Link{lo, {Index: 3, Name: "eth0", Kind: "veth", Flags: up, MTU: 1410, Qdisc: "noqueue",
			OperState: "UP", Group: "default", LinkType: "ether", MAC: "3a:0c:14:d0:92:89",
			Broadcast: "ff:ff:ff:ff:ff:ff", ParentIndex: 9, LinkNetNSID: 0}},
		Addrs: append(append([]Addr(nil), loAddrs...),
			forever(Addr{Index: 3, Dev: "eth0", Prefix: mp("198.19.22.132/32"), Broadcast: ma("198.19.22.132"), Scope: "global", Label: "eth0", Flags: []string{"permanent"}}),
			forever(Addr{Index: 3, Dev: "eth0", Prefix: mp("fe80::380c:14ff:fed0:9289/64"), Scope: "link", Flags: []string{"permanent"}}),
		),
		Routes: []Route{
			{Family: 4, Table: TableMain, Type: "unicast", Dst: mp("0.0.0.0/0"), Gw: ma("169.254.1.1"), Dev: "eth0", DevIndex: 3, Scope: "universe", Protocol: ProtoBoot},
			{Family: 4, Table: TableMain, Type: "unicast", Dst: mp("169.254.1.1/32"), Dev: "eth0", DevIndex: 3, Scope: "link", Protocol: ProtoBoot},
		},
		Neighs: []Neigh{{Index: 3, Dev: "eth0", IP: ma("169.254.1.1"), MAC: "ee:ee:ee:ee:ee:ee", State: []string{"REACHABLE"}}},
	}

	host := Snapshot{
		NS:      Namespace{Name: "host", Pid: 1, NSIDs: map[int]string{}},
		TakenAt: lessonTime,
		Links: []Link{lo, {Index: 2, Name: "eth0", Flags: up, MTU: 1500, Qdisc: "mq", OperState: "UP",
			Group: "default", TxQLen: 1000, LinkType: "ether", MAC: "00:15:5d:60:a5:a3",
			Broadcast: "ff:ff:ff:ff:ff:ff", LinkNetNSID: -1}},
		Addrs: append(append([]Addr(nil), loAddrs...),
			forever(Addr{Index: 2, Dev: "eth0", Prefix: mp("198.19.0.2/20"), Broadcast: ma("198.19.15.255"), Scope: "global", Label: "eth0", Flags: []string{"permanent"}}),
			forever(Addr{Index: 2, Dev: "eth0", Prefix: mp("192.168.44.75/28"), Broadcast: ma("192.168.44.79"), Scope: "global", Label: "eth0", Flags: []string{"permanent"}}),
			forever(Addr{Index: 2, Dev: "eth0", Prefix: mp("fe80::215:5dff:fe60:a5a3/64"), Scope: "link", Flags: []string{"permanent"}}),
		),
		Sysctls: map[string]int{SysctlIPForward: 1},
	}
	r := func(dst string) Route {
		return Route{Family: 4, Table: TableMain, Type: "unicast", Dst: mp(dst), Dev: "eth0", DevIndex: 2, Scope: "universe"}
	}
	def := r("0.0.0.0/0")
	def.Gw, def.Protocol, def.Src, def.Metric = ma("192.168.44.65"), ProtoDHCP, ma("192.168.44.75"), 100
	sub44 := r("192.168.44.64/28")
	sub44.Scope, sub44.Protocol, sub44.Src = "link", ProtoKernel, ma("192.168.44.75")
	gw44 := r("192.168.44.65/32")
	gw44.Scope, gw44.Protocol, gw44.Src, gw44.Metric = "link", ProtoDHCP, ma("192.168.44.75"), 100
	sub19 := r("198.19.0.0/20")
	sub19.Scope, sub19.Protocol, sub19.Src = "link", ProtoKernel, ma("198.19.0.2")
	ctl := r("198.19.21.0/26")
	ctl.Gw, ctl.Protocol = ma("198.19.0.1"), ProtoBird
	n2 := r("198.19.21.64/26")
	n2.Gw, n2.Protocol = ma("198.19.0.3"), ProtoBird
	host.Routes = []Route{def, sub44, gw44, sub19, ctl, n2}

	var pods []PodFact
	for i, name := range lessonCalis {
		idx := 5 + i
		host.NS.NSIDs[i] = lessonCNINS[i]
		host.Links = append(host.Links, Link{Index: idx, Name: name, Kind: "veth", Flags: up, MTU: 1410,
			Qdisc: "noqueue", OperState: "UP", Group: "default", LinkType: "ether",
			MAC: "ee:ee:ee:ee:ee:ee", Broadcast: "ff:ff:ff:ff:ff:ff", ParentIndex: 3, LinkNetNSID: i,
			Sysctls: map[string]int{SysctlProxyARP: 1, SysctlProxyDelay: 0, SysctlForwarding: 1,
				SysctlRouteLocalnet: 1, SysctlAcceptRA: 0}})
		host.Addrs = append(host.Addrs, forever(Addr{Index: idx, Dev: name, Prefix: mp("fe80::ecee:eeff:feee:eeee/64"), Scope: "link", Flags: []string{"permanent"}}))
		ip := netip.AddrFrom4([4]byte{198, 19, 22, byte(128 + i)})
		pr := Route{Family: 4, Table: TableMain, Type: "unicast", Dst: netip.PrefixFrom(ip, 32), Dev: name, DevIndex: idx, Scope: "link", Protocol: ProtoBoot}
		host.Routes = append(host.Routes, pr)
		if i == 0 {
			// The kernel lists a /32 before the /26 that starts at the same address.
			host.Routes = append(host.Routes, Route{Family: 4, Table: TableMain, Type: "blackhole", Dst: mp("198.19.22.128/26"), Scope: "universe", Protocol: ProtoBird})
		}
		p := lessonPodsN1[i]
		p.IP, p.Node, p.Phase = ip, "node1", "Running"
		pods = append(pods, p)
	}
	pods = append(pods,
		PodFact{Namespace: "yaobank", Name: "summary-6c9b8f7d5b-9vzrt", IP: ma("198.19.21.66"), Node: "node2", Phase: "Running"},
		PodFact{Namespace: "yaobank", Name: "database-6c5db58d95-8jw4h", IP: ma("198.19.21.67"), Node: "node2", Phase: "Running"},
	)

	return &Recording{
		Schema:     Schema,
		Lab:        "lesson",
		RecordedAt: lessonTime,
		Note:       "the example of the lesson Pod Connectivity Fundamentals: the customer pod on node1",
		Pair: Pair{
			Pod:  pod,
			Host: host,
			Facts: Facts{
				Pod:             PodFact{Namespace: "yaobank", Name: "customer-574bd6cc75-2blnv", IP: lessonPodIP, Node: "node1", Phase: "Running"},
				Node:            "node1",
				Mode:            "bgp",
				InterfacePrefix: "cali",
				Pods:            pods,
				Nodes: []NodeFact{
					{Name: "control", InternalIP: ma("198.19.0.1")},
					{Name: "node1", InternalIP: ma("198.19.0.2")},
					{Name: "node2", InternalIP: ma("198.19.0.3")},
				},
				Blocks: []Block{
					{CIDR: mp("198.19.21.0/26"), Node: "control"},
					{CIDR: mp("198.19.22.128/26"), Node: "node1"},
					{CIDR: mp("198.19.21.64/26"), Node: "node2"},
				},
				BlockSize:   26,
				ClusterCIDR: mp("198.19.16.0/20"),
			},
		},
	}
}

const lessonFile = "testdata/lesson.json"

// loadLesson reads testdata/lesson.json as every consumer does.
func loadLesson(t testing.TB) *Recording {
	t.Helper()
	f, err := os.Open(lessonFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec, err := ReadRecording(f)
	if err != nil {
		t.Fatalf("reading %s: %v", lessonFile, err)
	}
	return rec
}

// TestLessonFile keeps testdata/lesson.json equal to lessonRecording.
func TestLessonFile(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteRecording(&buf, lessonRecording()); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(lessonFile, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(filepath.FromSlash(lessonFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, buf.Bytes()) {
		t.Fatalf("%s is stale: run go test ./netview -update", lessonFile)
	}
	rec := loadLesson(t)
	if rec.Lab != "lesson" || rec.Schema != Schema {
		t.Fatalf("lab %q schema %q", rec.Lab, rec.Schema)
	}
}
