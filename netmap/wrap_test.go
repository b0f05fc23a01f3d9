package netmap

import (
	"fmt"
	"strings"
	"testing"

	"podlab/netview"
)

// countWork counts the bytes wrap measures, for the test's length.
func countWork(t *testing.T) *int {
	t.Helper()
	n := 0
	sw, fc := stringWidth, firstCluster
	stringWidth = func(s string) int { n += len(s); return sw(s) }
	firstCluster = func(s string) (string, int) {
		c, w := fc(s)
		n += len(c)
		return c, w
	}
	t.Cleanup(func() { stringWidth, firstCluster = sw, fc })
	return &n
}

// wrap measures each byte of a long word a bounded number of times,
// whatever its length: measuring the rest of the word on every row made
// a 1 MB name take ten minutes.
func TestWrapIsLinear(t *testing.T) {
	for _, n := range []int{1 << 10, 1 << 14, 1 << 20} {
		for _, w := range []int{8, 40, 200} {
			t.Run(fmt.Sprintf("%d bytes at %d", n, w), func(t *testing.T) {
				word := strings.Repeat("é", n/2)
				sp := []netview.Span{span("eth0 ", netview.TagNone), span(word, netview.TagVethPod), span(" mtu 1410", netview.TagNone)}
				work := countWork(t)
				rows := wrap(sp, w)
				if *work > 4*n+64 {
					t.Errorf("wrap measured %d bytes for %d", *work, n)
				}
				var got strings.Builder
				for i, r := range rows {
					if width(r) > w {
						t.Fatalf("row %d is %d cells, wider than %d", i, width(r), w)
					}
					for _, s := range r {
						got.WriteString(s.Text)
					}
				}
				if g := strings.ReplaceAll(got.String(), " ", ""); g != "eth0"+word+"mtu1410" {
					t.Errorf("the rows do not hold the text: %d bytes of %d", len(g), len(word)+11)
				}
			})
		}
	}
}

func BenchmarkWrapLongWord(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 14, 1 << 18} {
		sp := []netview.Span{span(strings.Repeat("x", n), netview.TagNone)}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				wrap(sp, 40)
			}
		})
	}
}
