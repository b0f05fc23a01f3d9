package sandbox

import (
	"context"
	"fmt"
	"slices"

	"podlab/lab/bird"
	"podlab/netview"
)

// BirdProtocols reads what node's BIRD says of its protocols, as `birdc
// show protocols all` shows them, from its control socket. The session
// is restricted to reading.
func (l *Lab) BirdProtocols(ctx context.Context, node string) (netview.BirdProtocols, error) {
	return l.State().birdProtocols(ctx, node)
}

// BirdProtocols is Lab.BirdProtocols for the sandbox of opts, healthy or
// not (a stopped BIRD is one thing this reads to tell).
func BirdProtocols(ctx context.Context, opts Options, node string) (netview.BirdProtocols, error) {
	st, err := Status(opts)
	if err != nil {
		return nil, err
	}
	return st.birdProtocols(ctx, node)
}

func (s *State) birdProtocols(ctx context.Context, node string) (netview.BirdProtocols, error) {
	i := slices.IndexFunc(s.Processes, func(p Process) bool { return p.Node == node })
	if i < 0 {
		if _, ok := s.Node(node); !ok {
			return nil, fmt.Errorf("sandbox %q has no node %q (sudo podlab sandbox status lists them)", s.Prefix, netview.Cut(node, 253))
		}
		return nil, fmt.Errorf("sandbox %q runs no bird on %s (it was built with --static-routes)", s.Prefix, node)
	}
	// The socket's path was checked when the state was read: the one
	// the sandbox gave that node's BIRD, in its own directory.
	ps, err := bird.Protocols(ctx, s.Processes[i].Socket)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", node, err)
	}
	return ps, nil
}
