package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"

	"podlab/lab"
	"podlab/netview"
)

// collectOutput is what `podlab collect` prints: the node's host view and
// the pod's, as one JSON document.
type collectOutput struct {
	Schema string           `json:"schema"`
	Host   netview.Snapshot `json:"host"`
	Pod    netview.Snapshot `json:"pod"`
}

// collectTimeout bounds one `podlab collect` on a node: within the ssh
// round of a lab with the default request timeout, which waits for it.
const collectTimeout = 3 * defaultTimeout

// CollectJSON is the work of `podlab collect`, its flags already read:
// it writes this node's host namespace (host; podlab's own when empty)
// and the namespace of the pod with podIP to w as one podlab/v1 JSON
// document. Errors are one line.
func CollectJSON(ctx context.Context, host lab.NSRef, podIP netip.Addr, w io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, collectTimeout)
	defer cancel()
	h, p, _, err := collectHere(ctx, host, podIP.Unmap(), lab.NSRef{})
	if err != nil {
		return err
	}
	if err := json.NewEncoder(w).Encode(collectOutput{Schema: netview.Schema, Host: *h, Pod: *p}); err != nil {
		return fmt.Errorf("writing the result: %w", err)
	}
	return nil
}
