package netview

import (
	"fmt"
	"strings"
)

// Mode is a Calico dataplane mode: how a node reaches the other nodes'
// blocks.
type Mode string

// The modes podlab knows.
const (
	ModeBGP   Mode = "bgp"   // routes learned over BGP, straight to the node
	ModeVXLAN Mode = "vxlan" // vxlan.calico, routes written by Felix
	ModeIPIP  Mode = "ipip"  // tunl0, routes learned over BGP
)

// Modes lists every mode, in the order podlab names them.
var Modes = []Mode{ModeBGP, ModeVXLAN, ModeIPIP}

// ModeNames are the modes as words, for flags and their completion.
func ModeNames() []string {
	out := make([]string, len(Modes))
	for i, m := range Modes {
		out[i] = string(m)
	}
	return out
}

// ModeChoices lists the modes as a sentence does: "bgp, vxlan or ipip".
func ModeChoices() string {
	n := ModeNames()
	return strings.Join(n[:len(n)-1], ", ") + " or " + n[len(n)-1]
}

// Valid says whether m is one of Modes.
func (m Mode) Valid() bool {
	for _, x := range Modes {
		if m == x {
			return true
		}
	}
	return false
}

// ParseMode reads a mode as a student types it (any case).
func ParseMode(s string) (Mode, error) {
	m := Mode(strings.ToLower(strings.TrimSpace(s)))
	if !m.Valid() {
		return "", fmt.Errorf("unknown --mode %q: use %s", s, ModeChoices())
	}
	return m, nil
}

// InferMode tells the dataplane mode from a node's links and routes:
// vxlan.calico exists in VXLAN mode, routes go through tunl0 in IPIP mode,
// and BIRD's routes without either are plain BGP. "" when nothing says.
func InferMode(host *Snapshot) Mode {
	if host.LinkByName("vxlan.calico") != nil {
		return ModeVXLAN
	}
	bird := false
	for _, r := range host.Routes {
		if r.Table != TableMain {
			continue
		}
		if r.Dev == "tunl0" {
			return ModeIPIP
		}
		bird = bird || r.Protocol == ProtoBird
	}
	if bird {
		return ModeBGP
	}
	return ""
}
