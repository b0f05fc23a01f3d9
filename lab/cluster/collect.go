package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"

	"podlab/kubeproxy"
	"podlab/lab"
	"podlab/netview"
)

// collectOutput is what `podlab collect` prints: the node's host view and
// the pod's, as one JSON document, and the node's parts its flags asked
// for (a part it could not read has its reason in Unread, by part).
type collectOutput struct {
	Schema string                `json:"schema"`
	Host   netview.Snapshot      `json:"host"`
	Pod    netview.Snapshot      `json:"pod"`
	Bird   netview.BirdProtocols `json:"bird,omitempty"`
	NAT    *kubeproxy.Table      `json:"nat,omitempty"`
	Unread map[string]string     `json:"unread,omitempty"`
}

// collectTimeout bounds one `podlab collect` on a node: within the ssh
// round of a lab with the default request timeout, which waits for it.
const collectTimeout = 3 * defaultTimeout

// maxNATJSON is the most of a nat table collect sends: with the
// snapshots and BIRD's answer it stays within what the reading side
// takes (maxOutputExtra). A node with thousands of services passes it,
// and says so in Unread.
const maxNATJSON = 48 << 20

// CollectJSON is the work of `podlab collect`, its flags already read:
// it writes this node's host namespace (host; podlab's own when empty)
// and the namespace of the pod with podIP to w as one podlab/v1 JSON
// document, with the parts reads asks for. Errors are one line; a part
// that cannot be read is said in the document, not as an error.
func CollectJSON(ctx context.Context, host lab.NSRef, podIP netip.Addr, reads Reads, w io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, collectTimeout)
	defer cancel()
	h, p, _, err := collectHere(ctx, host, podIP.Unmap(), lab.NSRef{})
	if err != nil {
		return err
	}
	out := collectOutput{Schema: netview.Schema, Host: *h, Pod: *p}
	if reads.any() {
		out.Bird, out.NAT, out.Unread = readNode(ctx, host, reads)
	}
	if out.NAT != nil {
		if b, err := json.Marshal(out.NAT); err != nil || len(b) > maxNATJSON {
			if out.Unread == nil {
				out.Unread = map[string]string{}
			}
			out.NAT, out.Unread[netview.PartNAT] = nil, fmt.Sprintf("the nat table is more than %s as JSON, more than podlab collect sends: read it on the node with sudo iptables-save -c -t nat", sizeName(maxNATJSON))
		}
	}
	if err := json.NewEncoder(w).Encode(out); err != nil {
		return fmt.Errorf("writing the result: %w", err)
	}
	return nil
}
