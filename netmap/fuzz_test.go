package netmap

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"podlab/internal/hostile"
	"podlab/netview"
)

// FuzzMap: whatever the names in a lab (any length, any bytes), the map
// is drawn, within the width, at every width, and nothing in it can act
// on a terminal once the pair is sanitised as every lab does. Unsanitised
// names (but clean: a map is drawn from clean text) are drawn within the
// width too, however long.
func FuzzMap(f *testing.F) {
	base, err := json.Marshal(lesson(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add("eth0", "caliea2aa288365", "customer-574bd6cc75-2blnv", "node1", "node2", uint16(80))
	f.Add("eth0", strings.Repeat("x", 4096), "p", "n", "r", uint16(24))
	f.Add("e\x1b]0;t\x07", "c\u009b2J", "p o d", "n\tn", "", uint16(1))
	f.Add("宽宽宽宽宽宽宽宽", "👩‍👩‍👧‍👦👩‍👩‍👧‍👦👩‍👩‍👧‍👦", strings.Repeat("a ", 300), "ü", "r", uint16(37))
	f.Fuzz(func(t *testing.T, podIf, hostIf, pod, node, remote string, width uint16) {
		doc := string(base)
		for _, r := range []struct{ from, to string }{
			{"eth0", podIf}, {"caliea2aa288365", hostIf},
			{"customer-574bd6cc75-2blnv", pod}, {"node1", node}, {"node2", remote},
		} {
			to, _ := json.Marshal(r.to)
			doc = strings.ReplaceAll(doc, `"`+r.from+`"`, string(to))
		}
		for _, sanitised := range []bool{true, false} {
			var p netview.Pair
			if err := json.Unmarshal([]byte(doc), &p); err != nil {
				t.Fatal(err)
			}
			if sanitised {
				p.Sanitize()
			} else {
				cleanNames(&p)
			}
			a := netview.Analyze(&p)
			m := Build(&p, &a)
			for _, w := range []int{int(width % 512), minBox, 80, 160} {
				for i, l := range m.Draw(w) {
					s := l.String()
					if n := ansi.StringWidth(s); n > max(w, minBox) {
						t.Fatalf("width %d: line %d is %d wide: %.200q", w, i, n, s)
					}
					if sanitised && (strings.Contains(s, "\n") || hostile.Check(s, false) != nil) {
						t.Fatalf("width %d: line %d carries control characters: %.200q", w, i, s)
					}
				}
			}
		}
	})
}

// cleanNames cleans the names the fuzzer set without cutting them.
func cleanNames(p *netview.Pair) {
	for _, s := range []*netview.Snapshot{&p.Pod, &p.Host} {
		for i := range s.Links {
			s.Links[i].Name = netview.Clean(s.Links[i].Name)
		}
		for i := range s.Addrs {
			s.Addrs[i].Dev = netview.Clean(s.Addrs[i].Dev)
		}
		for i := range s.Routes {
			s.Routes[i].Dev = netview.Clean(s.Routes[i].Dev)
		}
		for i := range s.Neighs {
			s.Neighs[i].Dev = netview.Clean(s.Neighs[i].Dev)
		}
	}
	f := &p.Facts
	f.Node, f.Pod.Name, f.Pod.Node = netview.Clean(f.Node), netview.Clean(f.Pod.Name), netview.Clean(f.Pod.Node)
	for i := range f.Pods {
		f.Pods[i].Name, f.Pods[i].Node = netview.Clean(f.Pods[i].Name), netview.Clean(f.Pods[i].Node)
	}
	for i := range f.Nodes {
		f.Nodes[i].Name = netview.Clean(f.Nodes[i].Name)
	}
	for i := range f.Blocks {
		f.Blocks[i].Node = netview.Clean(f.Blocks[i].Node)
	}
}
