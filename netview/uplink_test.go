package netview

import (
	"strings"
	"testing"
)

func TestHostUplink(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*Pair)
		ok, veth bool
		want     string // in Why
	}{
		{"a real node's NIC", func(*Pair) {}, true, false, "its NIC"},
		{"a sandbox node's veth", func(p *Pair) {
			l := p.Host.LinkByName("eth0")
			l.Kind, l.ParentIndex, l.LinkNetNSID = "veth", 4, 0
		}, true, true, "in podlab's sandbox each node's uplink is a veth into the fabric namespace. On a real node it is the NIC"},
		{"by the node's address", func(p *Pair) {
			var keep []Route
			for _, r := range p.Host.Routes {
				if r.Dst.Bits() != 0 {
					keep = append(keep, r)
				}
			}
			p.Host.Routes = keep
		}, true, false, "eth0 is the node's own uplink"},
		{"none", func(p *Pair) { p.Host.Routes, p.Facts.Nodes = nil, nil }, false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := lessonRecording()
			tt.edit(&rec.Pair)
			u, ok := HostUplink(&rec.Pair)
			if ok != tt.ok || u.Veth != tt.veth {
				t.Fatalf("HostUplink = %+v, %v; want ok %v, veth %v", u, ok, tt.ok, tt.veth)
			}
			if !strings.Contains(u.Why(), tt.want) {
				t.Errorf("Why = %q, want %q in it", u.Why(), tt.want)
			}
			if tt.veth && u.Name() != "eth0@if4" {
				t.Errorf("Name = %q", u.Name())
			}
		})
	}
}
