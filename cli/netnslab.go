package cli

import (
	"context"
	"errors"

	"podlab/lab"
	"podlab/lab/firewall"
	"podlab/netview"
)

// netnsLab is --lab netns reading what a pack wants beyond the two
// namespaces: the NAT rules of the one standing for the node. It has no
// BIRD, host1 or API server of its own, and says so in Extra.Unread.
type netnsLab struct {
	*lab.Netns
	host  lab.NSRef
	wants netview.Wants
}

// Want says what the lesson reads beyond the pair.
func (n *netnsLab) Want(w netview.Wants) { n.wants = w }

// Collect reads the pair, then what is wanted.
func (n *netnsLab) Collect(ctx context.Context) (*netview.Pair, error) {
	p, err := n.Netns.Collect(ctx)
	if err != nil || !n.wants.Any() {
		return p, err
	}
	e := &netview.Extra{}
	if n.wants.NAT {
		if t, err := firewall.ReadNAT(ctx, n.host); err != nil {
			e.Miss(netview.PartNAT, err)
		} else {
			e.NAT = t
		}
	}
	none := errors.New("--lab netns reads two namespaces only: use --lab sandbox or --lab cluster")
	if n.wants.Host1 {
		e.Miss(netview.PartHost1, none)
	}
	if n.wants.Bird {
		e.Miss(netview.PartBird, none)
	}
	if n.wants.Resources {
		e.Miss(netview.PartResources, none)
	}
	e.Sanitize()
	p.Extra = e
	return p, nil
}
