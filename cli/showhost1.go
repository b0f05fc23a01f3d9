package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"podlab/lab/sandbox"
	"podlab/netview"
)

// The places show prints: the pod and its node (the lesson's), or host1.
const (
	placePod   = "pod"
	placeHost1 = "host1"
)

var placeNames = []string{placePod, placeHost1}

// host1Lab is a lab that has host1 as a place.
type host1Lab interface {
	Host1(ctx context.Context) (*netview.Snapshot, netview.Host1Facts, error)
	Host1Describe() string
	Close() error
}

// openHost1 opens the lab whose host1 show prints: a running sandbox,
// never one built for the occasion (it would have no host1), and its
// problems said on note.
func (f *showFlags) openHost1(ctx context.Context, note io.Writer) (host1Lab, error) {
	switch f.lab.lab {
	case "sandbox", "auto":
	default:
		return nil, usageErr("--place host1 reads the sandbox's host1: use --lab sandbox (sudo podlab sandbox up --host1 builds it)")
	}
	if f.map_ {
		return nil, usageErr("--place host1 and --map do not go together")
	}
	// Read as it is, healthy or not: a stopped BIRD is what host1's
	// table then shows.
	f.lab.asIs = true
	src, err := f.lab.openSandbox(ctx, false, note)
	if err != nil {
		return nil, err
	}
	h, ok := src.(*sandbox.Lab)
	if !ok {
		src.Close()
		return nil, fmt.Errorf("this lab has no host1")
	}
	return h, nil
}

// host1JSON is `podlab show --place host1 --json`.
type host1JSON struct {
	Schema   string                 `json:"schema"`
	Lab      string                 `json:"lab"`
	Place    string                 `json:"place"`
	Describe string                 `json:"describe"`
	Host1    *netview.Snapshot      `json:"host1"`
	Facts    netview.Host1Facts     `json:"facts"`
	Analysis *netview.Host1Analysis `json:"analysis"`
}

// runShowHost1 prints host1's ip addr and ip route, its routes tagged
// and explained: what it learned from which node, and what it did not.
func runShowHost1(ctx context.Context, f *showFlags, stdout, stderr io.Writer) error {
	l, err := f.openHost1(ctx, stderr)
	if err != nil {
		return err
	}
	defer l.Close()
	s, facts, err := l.Host1(ctx)
	if err != nil {
		return err
	}
	a := netview.AnalyzeHost1(s, &facts)
	if f.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(host1JSON{Schema: netview.Schema, Lab: "sandbox", Place: placeHost1, Describe: l.Host1Describe(), Host1: s, Facts: facts, Analysis: &a})
	}
	pal, out := showPalette(stdout, f.plain)
	return writeHost1(out, l.Host1Describe(), s, &a, pal)
}

// writeHost1 is show of host1: its views, then what they show.
func writeHost1(w io.Writer, describe string, s *netview.Snapshot, h *netview.Host1Analysis, pal palette) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "%s\n\n", pal.heading("lab: "+netview.Clean(describe)))
	a := h.Analysis()
	for _, v := range []netview.View{netview.ViewAddr, netview.ViewRoute} {
		fmt.Fprintf(b, "%s\n", pal.heading(placeHost1+" $ "+v.Command()))
		for _, l := range netview.Render(netview.SideHost, v, s, a) {
			b.WriteString(pal.line(l))
			b.WriteByte('\n')
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(b, "%s\n", pal.heading("What this shows"))
	for _, r := range h.Routes {
		peer := ""
		if r.Peer != "" {
			peer = " (" + r.Peer + ")"
		}
		fmt.Fprintf(b, "- host1 route %s%s is %s: %s\n", r.Dst, peer, pal.tagged(string(r.Class), netview.RouteTag(r.Class)), r.Reason)
	}
	for _, x := range h.Absent {
		fmt.Fprintf(b, "- absent: %s\n", x)
	}
	for _, p := range h.Problems {
		fmt.Fprintf(b, "- problem: %s\n", p)
	}
	return b.Flush()
}
