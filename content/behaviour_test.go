package content

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"podlab/netview"
)

// dualStackVars is a live lab with both families, for the IPv6 sentences.
func dualStackVars() Vars {
	v := live()
	v.PodIP6 = netip.MustParseAddr("fd00:10:244:1::5")
	v.Gateway6 = netip.MustParseAddr("fe80::ecee:eeff:feee:eeee")
	v.HostOwnsGateway6 = true
	v.OwnBlock6 = netip.MustParsePrefix("fd00:10:244:1::/122")
	v.GatewayMAC = "ee:ee:ee:ee:ee:ee"
	v.DeletePod = "yaobank/summary-1"
	v.DeleteIP = netip.MustParseAddr("198.19.22.71")
	v.RemoteBlocks = "198.19.21.0/26 via 198.19.0.1 (control)"
	v.Recorded = true
	return v
}

// answersTried are typed at every question: right, wrong and malformed
// answers of every form the questions forgive or explain.
var answersTried = []string{
	"", "198.19.22.132", "198.19.22.132/32", "inet 198.19.22.70/32", "169.254.1.1", "127.0.0.1",
	"198.19.22.131", "eth0", "9", "@if9", "eth0@if12:", "3", "4", "12", "nine", "caliea2aa288365",
	"CALI1234567890A@if4", "9: caliea2aa288365@if3:", "calif0a98285df9", "tunl0", "default via 169.254.1.1",
	"198.19.22.70", "10.0.0.1", "node1", " Node2 ", "node2.example.com", "host1", "198.19.0.2", "198.19.0.1",
	"198.19.0.3", "control", "198.19.22.128/26", "blackhole 198.19.22.64/26", "198.19.22.130/26", "198.19.22.128",
	"198.19.22.64", "198.19.22.99", "198.19.21.64/26", "198.19.21.0/26", "198.19.22.128/24", "10.0.0.0/8", "block",
	"/26", "26", "64", "/24",
}

// TestBehaviour pins what the lesson shows and says, step by step, for
// the lesson's values, a live lab, a dual-stack lab and no lab: bodies,
// the body while asking, commands, questions, answers, the verdict on
// every tried answer, and `podlab check` on a set of broken labs.
func TestBehaviour(t *testing.T) {
	var b bytes.Buffer
	labs := []struct {
		name string
		v    Vars
	}{{"lesson", LessonVars()}, {"live", live()}, {"dual", dualStackVars()}, {"empty", Vars{}}}
	for _, st := range allSteps(t) {
		for _, l := range labs {
			fmt.Fprintf(&b, "=== %s %s\n--- body\n%s--- asking\n%s", st.ID(), l.name, st.Render(l.v), st.RenderAsking(l.v))
			for _, c := range st.RenderCommands(l.v) {
				fmt.Fprintf(&b, "--- run@%s %s\n", c.Where, c.Text)
			}
			q := st.Question(l.v)
			if q == "" {
				continue
			}
			a, ok := st.Answer(l.v)
			fmt.Fprintf(&b, "--- question %s\n--- answer %q %v\n", q, a, ok)
			for _, in := range answersTried {
				r := st.Check(l.v, in)
				fmt.Fprintf(&b, "check %q: ok=%v unknown=%v hint=%q\n", in, r.OK, r.Unknown, r.Hint)
			}
		}
	}
	secs, err := Lesson()
	if err != nil {
		t.Fatal(err)
	}
	for _, br := range brokenLabs {
		p := lessonPair(t)
		br.breakIt(p)
		fmt.Fprintf(&b, "=== check: %s\n", br.name)
		if err := WriteVerdicts(&b, CheckLab(secs, p), false); err != nil {
			t.Fatal(err)
		}
	}
	golden := "testdata/behaviour.golden"
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		got, wl := strings.Split(b.String(), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(got), len(wl)) {
			if got[i] != wl[i] {
				t.Fatalf("line %d differs:\n got: %s\nwant: %s", i+1, got[i], wl[i])
			}
		}
		t.Fatalf("%d lines, want %d", len(got), len(wl))
	}
}

// brokenLabs are the lesson's recording with one piece of the lesson's
// lab taken away, each failing some step's lab checks.
var brokenLabs = []struct {
	name    string
	breakIt func(p *netview.Pair)
}{
	{"whole", func(p *netview.Pair) {}},
	{"no remote block", func(p *netview.Pair) { dropRoute(p, "198.19.21.64/26") }},
	{"no blackhole", func(p *netview.Pair) { dropRoute(p, "198.19.22.128/26") }},
	{"no local pod route", func(p *netview.Pair) { dropRoute(p, "198.19.22.132/32") }},
	{"no default", func(p *netview.Pair) { dropRoute(p, "0.0.0.0/0") }},
	{"no connected", func(p *netview.Pair) {
		p.Host.Routes = slices.DeleteFunc(p.Host.Routes, func(r netview.Route) bool { return r.Protocol == netview.ProtoKernel })
	}},
	{"pod pending", func(p *netview.Pair) { p.Facts.Pod.Phase = "Pending" }},
	{"pod routes gone", func(p *netview.Pair) { p.Pod.Routes = nil }},
	{"proxy arp off", func(p *netview.Pair) {
		for i := range p.Host.Links {
			if strings.HasPrefix(p.Host.Links[i].Name, "cali") {
				p.Host.Links[i].Sysctls[netview.SysctlProxyARP] = 0
			}
		}
	}},
	{"pod address gone", func(p *netview.Pair) { p.Pod.Addrs = nil }},
	{"pod veth gone", func(p *netview.Pair) {
		p.Pod.Links = slices.DeleteFunc(p.Pod.Links, func(l netview.Link) bool { return l.Name != "lo" })
	}},
	{"host end gone", func(p *netview.Pair) {
		p.Host.Links = slices.DeleteFunc(p.Host.Links, func(l netview.Link) bool { return strings.HasPrefix(l.Name, "cali") })
	}},
	{"no facts", func(p *netview.Pair) { p.Facts.Blocks = nil; p.Facts.Pods = nil }},
	{"vxlan mode", func(p *netview.Pair) { p.Facts.Mode = netview.ModeVXLAN }},
	{"blocks proto static", func(p *netview.Pair) {
		for i := range p.Host.Routes {
			if p.Host.Routes[i].Protocol == netview.ProtoBird {
				p.Host.Routes[i].Protocol = 4
			}
		}
	}},
}

func dropRoute(p *netview.Pair, dst string) {
	p.Host.Routes = slices.DeleteFunc(p.Host.Routes, func(r netview.Route) bool { return r.Dst.String() == dst })
}
