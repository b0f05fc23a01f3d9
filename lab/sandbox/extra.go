package sandbox

import (
	"context"
	"fmt"

	"podlab/lab"
	"podlab/netview"
)

// Want says what the lesson reads beyond the pod and its node; Collect
// then reads it too, each part on its own: one that cannot be read is
// said in the pair's Extra.Unread, not as the refresh's error.
func (l *Lab) Want(w netview.Wants) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.wants = w
}

func (l *Lab) wanted() netview.Wants {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.wants
}

// extra reads what the lesson wants beyond the pair, on the pod's node.
func (l *Lab) extra(ctx context.Context, st *State, node string) *netview.Extra {
	w := l.wanted()
	if !w.Any() {
		return nil
	}
	e := &netview.Extra{}
	if w.Host1 {
		if ns := st.Host1NS(); ns == "" {
			e.Miss(netview.PartHost1, fmt.Errorf("sandbox %q has no host1: sudo podlab sandbox apply %s makes one", st.Prefix, ActPeerHost1))
		} else if s, err := lab.Collect(ctx, lab.NSRef{Name: ns}); err != nil {
			e.Miss(netview.PartHost1, fmt.Errorf("host1: %w", err))
		} else {
			forgetNames(s, st.FabricNS())
			f := st.Host1Facts()
			e.Host1, e.Host1Facts = s, &f
		}
		switch {
		case !w.Bird:
		case st.Host1NS() == "":
			e.Miss(netview.PartHost1Bird, fmt.Errorf("sandbox %q has no host1, so no BIRD there: sudo podlab sandbox apply %s makes one", st.Prefix, ActPeerHost1))
		default:
			if ps, err := st.birdProtocols(ctx, host1Name); err != nil {
				e.Miss(netview.PartHost1Bird, err)
			} else {
				e.Host1Bird = ps
			}
		}
	}
	if w.Bird {
		if ps, err := st.birdProtocols(ctx, node); err != nil {
			e.Miss(netview.PartBird, err)
		} else {
			e.Bird = ps
		}
	}
	if w.NAT {
		if st.Kube == nil {
			// The nat table is there, but with nobody writing Services
			// into it: say what builds the lesson's.
			e.Miss(netview.PartNAT, fmt.Errorf("sandbox %q runs no kube-proxy: sudo podlab sandbox down, then sudo podlab sandbox up --pack kube-proxy", st.Prefix))
		} else if t, err := readNAT(ctx, st, node); err != nil {
			e.Miss(netview.PartNAT, fmt.Errorf("%s: %w", node, err))
		} else {
			e.NAT = t
		}
	}
	if w.Resources {
		r := st.Resources()
		e.Resources = &r
	}
	e.Sanitize()
	return e
}
