package cluster

import "podlab/netview"

// CollectOutput is what `podlab collect` prints: the node's host view and
// the pod's, as one JSON document.
type CollectOutput struct {
	Schema string           `json:"schema"`
	Host   netview.Snapshot `json:"host"`
	Pod    netview.Snapshot `json:"pod"`
}
