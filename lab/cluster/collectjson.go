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
