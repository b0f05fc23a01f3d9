package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"time"

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

// collectTimeout bounds one `podlab collect`.
const collectTimeout = 30 * time.Second

// CollectCommand is `podlab collect`, the node-side collector that podlab
// runs over ssh from elsewhere: it prints the host namespace and the
// namespace of the pod with --pod-ip as JSON. Exit status 0 on success, 1
// when collecting fails, 2 for bad usage; errors are one line on stderr.
func CollectCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("podlab collect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	podIP := fs.String("pod-ip", "", "the pod's IP address (required)")
	hostNetns := fs.String("host-netns", "", "the node's host namespace: a name under /run/netns, a path, or pid:N (default: podlab's own)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: podlab collect --pod-ip IP [--host-netns NAME|PATH]")
		fmt.Fprintln(stderr, "Prints this node's host namespace and the pod's as podlab/v1 JSON (needs root).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "podlab collect: unexpected argument %q: see podlab collect --help\n", fs.Arg(0))
		return 2
	}
	if *podIP == "" {
		fmt.Fprintln(stderr, "podlab collect: --pod-ip is required (kubectl get pods -o wide shows it)")
		return 2
	}
	ip, err := netip.ParseAddr(*podIP)
	if err != nil {
		fmt.Fprintf(stderr, "podlab collect: --pod-ip %q is not an IP address\n", *podIP)
		return 2
	}
	hostRef, err := lab.ParseNSRef(*hostNetns)
	if err != nil {
		fmt.Fprintf(stderr, "podlab collect: --host-netns: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
	defer cancel()
	host, pod, _, err := collectHere(ctx, hostRef, ip.Unmap(), lab.NSRef{})
	if err != nil {
		fmt.Fprintf(stderr, "podlab collect: %v\n", err)
		return 1
	}
	out := collectOutput{Schema: netview.Schema, Host: *host, Pod: *pod}
	if err := json.NewEncoder(stdout).Encode(out); err != nil {
		fmt.Fprintf(stderr, "podlab collect: writing the result: %v\n", err)
		return 1
	}
	return 0
}
