package cli

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"testing"

	"podlab/lab"
	"podlab/netview"
)

// TestEncodeShowJSONMatchesEncoder: the streaming encoder writes what
// json.Encoder with a two-space indent writes, for the lesson, a node at
// scale, no analysis, and empty route lists.
func TestEncodeShowJSONMatchesEncoder(t *testing.T) {
	src, err := lab.Builtin()
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
	tests := []struct {
		name    string
		pair    *netview.Pair
		analyse bool
	}{
		{"lesson", lesson, true},
		{"scale", &big, true},
		{"no analysis", lesson, false},
		{"empty routes", &empty, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := showJSON{Schema: netview.Schema, Lab: "recording", Describe: `a "quoted" <lab>`,
				Pod: tt.pair.Pod, Host: tt.pair.Host, Facts: tt.pair.Facts}
			if tt.analyse {
				a := netview.Analyze(tt.pair)
				v.Analysis = &a
			}
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
