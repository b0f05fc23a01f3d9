package cli

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"runtime/debug"
	"testing"

	"podlab/internal/fill"
	"podlab/internal/hostile"
	"podlab/lab/replay"
	"podlab/netview"
)

// TestEncodeShowJSONMatchesEncoder: the hand-written encoder writes what
// json.Encoder with a two-space indent writes, for the lesson, a node at
// scale, no analysis, empty route lists, a tainted lab, and a document
// with every field set (a field added to showJSON and not to
// encodeShowJSON fails here; netview's tests hold the rest).
func TestEncodeShowJSONMatchesEncoder(t *testing.T) {
	src, err := replay.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	lesson, err := src.Collect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	big := *lesson
	big.Host.Routes = append([]netview.Route(nil), lesson.Host.Routes...)
	for b := range 3000 {
		big.Host.Routes = append(big.Host.Routes, netview.Route{Family: 4, Table: netview.TableMain, Type: "unicast",
			Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(64 + b/1024), byte(b / 4), byte(b % 4 * 64)}), 26),
			Gw:  netip.MustParseAddr("198.51.100.1"), Dev: "eth0", Scope: "universe", Protocol: netview.ProtoBird,
			Flags: []string{"onlink"}})
	}
	empty := *lesson
	empty.Pod.Routes, empty.Host.Routes = []netview.Route{}, nil
	src, err = replay.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	tainted, err := src.Collect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	hostile.Taint(tainted)
	doc := func(p *netview.Pair, analyse bool) showJSON {
		v := showJSON{Schema: netview.Schema, Lab: "recording", Describe: `a "quoted" <lab>`,
			Pod: p.Pod, Host: p.Host, Facts: p.Facts}
		if analyse {
			a := netview.Analyze(p)
			v.Analysis = &a
		}
		return v
	}
	var every showJSON
	fill.Every(&every, "\u2028<&>\x1b\"\\\xff")
	taintedDoc := doc(tainted, true)
	taintedDoc.Describe += hostile.Text
	tests := []struct {
		name string
		v    showJSON
	}{
		{"lesson", doc(lesson, true)},
		{"scale", doc(&big, true)},
		{"no analysis", doc(lesson, false)},
		{"empty routes", doc(&empty, true)},
		{"tainted", taintedDoc},
		{"every field", every},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.v
			var want, got bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetIndent("", "  ")
			if err := enc.Encode(v); err != nil {
				t.Fatal(err)
			}
			if err := encodeShowJSON(&got, v); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				i := 0
				for i < min(got.Len(), want.Len()) && got.Bytes()[i] == want.Bytes()[i] {
					i++
				}
				t.Fatalf("differs at byte %d of %d/%d:\n got …%s\nwant …%s", i, got.Len(), want.Len(),
					got.Bytes()[max(0, i-80):min(got.Len(), i+80)], want.Bytes()[max(0, i-80):min(want.Len(), i+80)])
			}
		})
	}
}

// TestShowJSONRestoresGC: show --json tunes the collector for itself
// alone; the process (a test binary, here) gets its setting back.
func TestShowJSONRestoresGC(t *testing.T) {
	t.Setenv("GOGC", "")
	before := debug.SetGCPercent(123)
	t.Cleanup(func() { debug.SetGCPercent(before) })
	if code, _, stderr := podlab(t, "show", "--lab", "recording", "--json"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := debug.SetGCPercent(123); got != 123 {
		t.Fatalf("GOGC after show --json is %d, want 123", got)
	}
}
