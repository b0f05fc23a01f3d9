package cluster

import (
	"context"
	"fmt"

	"podlab/netview"
)

// collectNode and collectNodeNoRoot read the namespaces here, through the
// netlink collector.
func (l *Lab) collectNode(ctx context.Context) (*netview.Pair, string, error) {
	return nil, "", fmt.Errorf("collecting on the node is not built yet")
}

func (l *Lab) collectNodeNoRoot(ctx context.Context) (*netview.Pair, string, error) {
	return nil, "", fmt.Errorf("collecting on the node is not built yet")
}
