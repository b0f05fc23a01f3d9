package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"podlab/content"
	"podlab/netmap"
	"podlab/netview"
)

type showFlags struct {
	lab   labFlags
	pack  packFlags
	json  bool
	map_  bool
	plain bool
	place string
}

func newShow(name string) *cobra.Command {
	f := &showFlags{}
	c := &cobra.Command{
		Use:   "show [flags]",
		Short: "print the pod's and the node's views, highlighted and explained",
		Long: `Print the views the lesson uses (the pod's ip addr, link, route and neigh,
the node's link and route), with the highlights as colours, then what they
show in words. A dual-stack pod or node (one with an IPv6 address beyond
link-local) has its ip -6 route shown after its ip route (and the pod its
ip -6 addr after its ip addr), and its IPv6 routes classed and explained
with the others. --json prints the same as
one JSON object, --map as a picture. With --pack, the views are those the
pack's steps show. --place host1 prints the sandbox's host1 instead (sudo
podlab sandbox up --host1): its ip addr and ip route, each route it learned
named by the node its next hop is, the pools' blocks it has and those its
import filter keeps out.`,
		Example: examples(name,
			"the built-in recording", "show --lab recording",
			"the cluster's customer pod, as JSON", "show --lab cluster -n yaobank -l app=customer --json",
			"a picture of the running sandbox", "show --lab sandbox --map",
			"the views a pack of your own shows", "show --lab recording --pack ./my-pack",
			"host1's routes, learned from the nodes over BGP", "show --lab sandbox --place host1"),
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runShow(c.Context(), f, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	fs := c.Flags()
	fs.BoolVar(&f.json, "json", false, "print one JSON object: the snapshots and the analysis")
	fs.BoolVar(&f.map_, "map", false, "draw the lab as a picture, as wide as the terminal ($COLUMNS, else 80)")
	fs.BoolVar(&f.plain, "plain", false, "no colours (also when NO_COLOR is set or stdout is not a terminal)")
	fs.StringVar(&f.place, "place", placePod, "what to show: pod (the pod and its node) or host1 (with --lab sandbox: the sandbox's host1)")
	_ = c.RegisterFlagCompletionFunc("place", cobra.FixedCompletions(placeNames, cobra.ShellCompDirectiveNoFileComp))
	f.pack.register(c)
	f.lab.register(c)
	return c
}

// showGCPercent is the collector's GOGC while show --json runs: what it
// allocates (the snapshots, the analysis) stays live until it exits, so
// collecting as often as a long-running program does frees little. On a
// node of 20,000 routes (scripts/bench-scale.sh) this takes about a tenth
// off its CPU time for the same peak RSS; the heap stays within five times
// what is live. A GOGC in the environment is left to rule.
const showGCPercent = 400

// runShow prints the pod's and the node's views the lesson uses, with the
// highlights as colours, then the analysis in words.
func runShow(ctx context.Context, f *showFlags, stdout, stderr io.Writer) error {
	if f.json && f.map_ {
		return usageErr("--json and --map do not go together")
	}
	switch f.place {
	case placePod:
	case placeHost1:
		return runShowHost1(ctx, f, stdout, stderr)
	default:
		return usageErr("--place %q: use pod or host1", netview.Clean(f.place))
	}
	if f.json && os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(showGCPercent))
	}
	pk, err := f.pack.load()
	if err != nil {
		return err
	}
	f.lab.pack = pk
	src, pair, err := f.lab.collectOnce(ctx, stderr)
	if err != nil {
		return err
	}
	if f.json {
		// The analysis is written last: work it out on another core while
		// the snapshots are written.
		an := make(chan *netview.Analysis, 1)
		go func() {
			a := netview.Analyze(pair)
			an <- &a
		}()
		return writeShowJSONLate(stdout, src, pair, func() *netview.Analysis { return <-an })
	}
	a := netview.Analyze(pair)
	pal, out := showPalette(stdout, f.plain)
	if f.map_ {
		return writeMap(out, src, pair, &a, pal, mapWidth(stdout))
	}
	if packShowsBeyond(pk) {
		return writeShowPack(out, src, pair, &a, pk, pal)
	}
	pod, host := packViews(pk)
	return writeShowViews(out, src, pair, &a, pal, pod, host)
}

// viewOrder is the order show prints a side's views in.
var viewOrder = []netview.View{netview.ViewAddr, netview.ViewLink, netview.ViewRoute, netview.ViewNeigh}

// packViews are the views the pack's steps show, per side, in show's
// order: for the built-in lesson, the pod's addr, link, route and neigh
// and the node's link and route.
func packViews(pk *content.Pack) (pod, host []netview.View) {
	var podSet, hostSet []string
	for _, sec := range pk.Sections {
		for _, st := range sec.Steps {
			podSet = append(podSet, st.PodViews...)
			hostSet = append(hostSet, st.HostViews...)
		}
	}
	for _, v := range viewOrder {
		if slices.Contains(podSet, string(v)) {
			pod = append(pod, v)
		}
		if slices.Contains(hostSet, string(v)) {
			host = append(host, v)
		}
	}
	return pod, host
}

// writeMap is `podlab show --map`.
func writeMap(w io.Writer, src source, p *netview.Pair, a *netview.Analysis, pal palette, width int) error {
	var b strings.Builder
	for _, l := range strings.Split(ansi.Wrap("lab: "+netview.Clean(src.Describe()), width, ""), "\n") {
		fmt.Fprintf(&b, "%s\n", pal.heading(l))
	}
	b.WriteByte('\n')
	for _, l := range netmap.Render(p, a, width) {
		b.WriteString(pal.line(l))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mapWidth is how wide the map may be: $COLUMNS, else the terminal's
// width, else 80.
func mapWidth(w io.Writer) int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	if f, ok := w.(*os.File); ok {
		if n, _, err := term.GetSize(f.Fd()); err == nil && n > 0 {
			return n
		}
	}
	return 80
}

// showJSON is `podlab show --json`.
type showJSON struct {
	Schema   string            `json:"schema"`
	Lab      string            `json:"lab"`
	Describe string            `json:"describe"`
	Pod      netview.Snapshot  `json:"pod"`
	Host     netview.Snapshot  `json:"host"`
	Facts    netview.Facts     `json:"facts"`
	Analysis *netview.Analysis `json:"analysis"`
}

func writeShowJSON(w io.Writer, src source, p *netview.Pair, a *netview.Analysis) error {
	return writeShowJSONLate(w, src, p, func() *netview.Analysis { return a })
}

// writeShowJSONLate is writeShowJSON with the analysis asked for only
// once the snapshots are written.
func writeShowJSONLate(w io.Writer, src source, p *netview.Pair, analysis func() *netview.Analysis) error {
	return encodeShowJSONLate(w, showJSON{
		Schema:   netview.Schema,
		Lab:      src.Kind(),
		Describe: netview.Clean(src.Describe()),
		Pod:      p.Pod,
		Host:     p.Host,
		Facts:    p.Facts,
	}, analysis)
}

func writeShow(w io.Writer, src source, p *netview.Pair, a *netview.Analysis, pal palette) error {
	return writeShowViews(w, src, p, a, pal, viewOrder, []netview.View{netview.ViewLink, netview.ViewRoute})
}

// writeShowViews is show of the pod's and the node's views named.
func writeShowViews(w io.Writer, src source, p *netview.Pair, a *netview.Analysis, pal palette, podViews, hostViews []netview.View) error {
	podName := p.Facts.Pod.Name
	if podName == "" {
		podName = "pod"
	}
	node := p.Facts.Node
	if node == "" {
		node = "node"
	}
	// Written as it is made: a node's route view may be tens of thousands
	// of lines.
	b := bufio.NewWriterSize(w, 64<<10)
	// A lab's description names pods, contexts and files: outside text.
	fmt.Fprintf(b, "%s\n\n", pal.heading("lab: "+netview.Clean(src.Describe())))
	type shown struct {
		side   netview.Side
		prompt string
		view   netview.View
		snap   *netview.Snapshot
	}
	var views []shown
	// A dual-stack side's IPv6 addresses and routes too, each after its
	// IPv4 view.
	for _, v := range podViews {
		views = append(views, shown{netview.SidePod, podName, v, &p.Pod})
		if v6, ok := ipv6View[v]; ok && p.Pod.DualStack() {
			views = append(views, shown{netview.SidePod, podName, v6, &p.Pod})
		}
	}
	for _, v := range hostViews {
		views = append(views, shown{netview.SideHost, node, v, &p.Host})
		if v == netview.ViewRoute && p.Host.DualStack() {
			views = append(views, shown{netview.SideHost, node, netview.ViewRoute6, &p.Host})
		}
	}
	for _, v := range views {
		fmt.Fprintf(b, "%s\n", pal.heading(v.prompt+" $ "+v.view.Command()))
		for _, l := range netview.Render(v.side, v.view, v.snap, a) {
			b.WriteString(pal.line(l))
			b.WriteByte('\n')
		}
		b.WriteByte('\n')
	}
	writeAnalysis(b, pal, p, a)
	return b.Flush()
}

// ipv6View is the IPv6 view shown after a pod's IPv4 one.
var ipv6View = map[netview.View]netview.View{netview.ViewAddr: netview.ViewAddr6, netview.ViewRoute: netview.ViewRoute6}

// writeAnalysis says in words what the highlights mean.
func writeAnalysis(b *bufio.Writer, pal palette, p *netview.Pair, a *netview.Analysis) {
	fmt.Fprintf(b, "%s\n", pal.heading("What this shows"))
	v := a.Veth
	mark := "ok"
	if !v.Agree {
		mark = "MISMATCH"
	}
	fmt.Fprintf(b, "- veth pair [%s]: pod %s (index %d, @if%d) <-> host %s (index %d, @if%d): %s\n",
		mark, pal.tagged(v.PodIf, netview.TagVethPod), v.PodIndex, v.PodPeerIndex,
		pal.tagged(v.HostIf, netview.TagVethHost), v.HostIndex, v.HostPeerIndex, v.Reason)
	if a.ExpectedHostIf != "" {
		fmt.Fprintf(b, "- host end name: cali + SHA-1(%q)[:11] = %s\n",
			p.Facts.Pod.Namespace+"."+p.Facts.Pod.Name, a.ExpectedHostIf)
	}
	g := a.Gateway
	if g.Address.IsValid() {
		fmt.Fprintf(b, "- gateway %s: %s\n", pal.tagged(g.Address.String(), netview.TagGateway), strings.Join(g.Confirmed, "; "))
	} else {
		fmt.Fprintf(b, "- gateway: not found (the pod has no default route via %s)\n", netview.CalicoGateway)
	}
	for _, r := range a.Routes {
		peer := ""
		if r.Peer != "" {
			peer = " (" + r.Peer + ")"
		}
		fmt.Fprintf(b, "- %s route %s%s is %s: %s\n", r.Side, r.Dst, peer,
			pal.tagged(string(r.Class), netview.RouteTag(r.Class)), r.Reason)
	}
	if up, ok := netview.HostUplink(p); ok && up.Veth {
		fmt.Fprintf(b, "- node uplink %s: %s\n", up.Name(), up.Why())
	}
	for _, pr := range a.Problems {
		fmt.Fprintf(b, "- problem: %s\n", pr)
	}
	if cuts := p.Cuts(); len(cuts) > 0 {
		fmt.Fprintf(b, "- %s\n", netmap.CutNote(cuts))
	}
}
