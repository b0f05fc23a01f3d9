package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"podlab/lab"
	"podlab/netview"
)

// The commands `podlab sandbox up|down|status|apply|delete-pod`, their flags
// already read: each prints what it did to stdout and returns the error
// for the command line to print.

// ErrUnhealthy is StatusCommand's answer when the sandbox has problems;
// it has printed them.
var ErrUnhealthy = errors.New("the sandbox is unhealthy")

// UpCommand is `podlab sandbox up`.
func UpCommand(ctx context.Context, o Options, stdout io.Writer) error {
	sb, err := Up(ctx, o)
	if err != nil {
		return err
	}
	st := sb.State
	if len(sb.Applied) > 0 {
		fmt.Fprintf(stdout, "sandbox %s was up; applied %s\n", st.Prefix, actionList(sb.Applied))
	}
	if !sb.Built {
		fmt.Fprintf(stdout, "sandbox %s is already up (%s) since %s\n", st.Prefix, modeLine(st), st.UpAt.Local().Format(time.DateTime))
	} else if st.StaticRoutes {
		fmt.Fprintf(stdout, "sandbox %s is up (%s)\n", st.Prefix, modeLine(st))
	} else {
		fmt.Fprintf(stdout, "sandbox %s is up (%s), BGP converged in %.1fs\n", st.Prefix, modeLine(st), float64(st.ConvergedMS)/1000)
	}
	fmt.Fprintf(stdout, "  the customer pod: sudo ip netns exec %s ip addr\n", st.PodNS(CustomerNamespace, CustomerPod))
	fmt.Fprintf(stdout, "  its node:         sudo ip netns exec %s ip route\n", st.NodeNS(CustomerNode))
	if ns := st.Host1NS(); ns != "" {
		fmt.Fprintf(stdout, "  host1:            sudo ip netns exec %s ip route\n", ns)
	}
	if st.ExternalPool {
		fmt.Fprintf(stdout, "  pods of %s take addresses from %s %s (/%d blocks)\n", externalNamespace, externalPoolName, externalPool, externalBlockSize)
	}
	if st.Kube != nil {
		if sb.Built {
			fmt.Fprintf(stdout, "  kube-apiserver up, each kube-proxy's rules written in %.1fs\n", float64(st.Kube.ReadyMS)/1000)
		}
		fmt.Fprintf(stdout, "  kube-proxy's rules: sudo ip netns exec %s %s\n", st.NodeNS(CustomerNode), proxyListing(st.Kube.ProxyMode))
		fmt.Fprintf(stdout, "  the API server:    sudo ip netns exec %s kubectl --kubeconfig %s get svc,endpointslices\n", st.NodeNS(controlNode), filepath.Join(o.withDefaults().kubeDir(), adminKubeconfig))
		fmt.Fprintf(stdout, "  requests:          sudo podlab sandbox request summary -n 10\n")
	}
	return nil
}

// ApplyCommand is `podlab sandbox apply ACTION...`: it applies the
// actions the sandbox lacks and says what host1 now routes.
func ApplyCommand(ctx context.Context, o Options, names []string, stdout io.Writer) error {
	acts, err := ParseActions(names)
	if err != nil {
		return err
	}
	start := time.Now()
	done, err := Apply(ctx, o, acts)
	if err != nil {
		return err
	}
	prefix := o.withDefaults().Prefix
	for _, a := range acts {
		if slices.Contains(done, a) {
			fmt.Fprintf(stdout, "applied %s: %s\n", a, ActionWords[a])
		} else {
			fmt.Fprintf(stdout, "%s was applied already\n", a)
		}
	}
	if len(done) == 0 {
		return nil
	}
	fmt.Fprintf(stdout, "sandbox %s converged in %.1fs\n", prefix, time.Since(start).Seconds())
	st, err := Status(o)
	if err != nil {
		return err
	}
	if ns := st.Host1NS(); ns != "" {
		for _, r := range st.host1Routes() {
			fmt.Fprintf(stdout, "  host1 routes %s\n", r)
		}
		fmt.Fprintf(stdout, "  host1: sudo ip netns exec %s ip route\n", ns)
	}
	return nil
}

func actionList(acts []Action) string {
	names := make([]string, len(acts))
	for i, a := range acts {
		names[i] = string(a)
	}
	return strings.Join(names, ", ")
}

// DownCommand is `podlab sandbox down`.
func DownCommand(ctx context.Context, o Options, stdout io.Writer) error {
	if err := Down(ctx, o); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sandbox %s is down\n", o.withDefaults().Prefix)
	return nil
}

// StatusCommand is `podlab sandbox status`.
func StatusCommand(o Options, stdout io.Writer) error {
	st, err := Status(o)
	if errors.Is(err, ErrNotUp) {
		fmt.Fprintf(stdout, "sandbox %s is not up\n", o.withDefaults().Prefix)
		return nil
	}
	if err != nil {
		return err
	}
	writeStatus(stdout, st)
	if len(st.Problems) > 0 {
		return ErrUnhealthy
	}
	return nil
}

func modeLine(st *State) string {
	s := string(st.Mode) + " mode, BIRD 2"
	if st.StaticRoutes {
		s = string(st.Mode) + " mode, static routes marked proto bird, no BGP"
	}
	if st.IPv6 {
		s += ", dual-stack"
	}
	if st.ControlPlane {
		s += ", no pods on control"
	}
	if st.Borrowed {
		s += ", with a borrowed address"
	}
	if st.Host1 {
		s += ", host1 peered"
	}
	var adv []string
	if st.Applied(ActAdvertiseClusterIPs) {
		adv = append(adv, "cluster IPs")
	}
	if st.Applied(ActAdvertiseExternalIPs) {
		adv = append(adv, "external IPs")
	}
	if len(adv) > 0 {
		s += ", " + strings.Join(adv, " and ") + " advertised"
	}
	if st.Applied(ActLocalPolicy) {
		s += ", " + customerService + " Local"
	}
	if st.ExternalPool {
		s += ", " + externalNamespace + " in " + externalPoolName
	}
	if m := st.kubeMode(); m != "" {
		s += ", kube-apiserver and kube-proxy (" + m + " mode)"
	}
	return s
}

func writeStatus(w io.Writer, st *State) {
	state := "up"
	if len(st.Problems) > 0 {
		state = "unhealthy"
	}
	fmt.Fprintf(w, "sandbox %s: %s (%s), built %s\n", st.Prefix, state, modeLine(st), st.StartedAt.Local().Format(time.DateTime))
	for _, p := range st.Problems {
		fmt.Fprintf(w, "  problem: %s\n", p)
	}
	// tabwriter sizes each column to its longest cell, so a long pod name
	// never pushes its row out of line.
	table := func(title string, header []string, rows [][]string) {
		if len(rows) == 0 {
			return
		}
		fmt.Fprintln(w, title+":")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, r := range append([][]string{header}, rows...) {
			fmt.Fprintln(tw, "  "+strings.Join(r, "\t"))
		}
		tw.Flush()
	}
	var rows [][]string
	// A dual-stack sandbox's IPv6 values go in columns of their own,
	// after the lesson's.
	v6 := func(row []string, at int, x ...string) []string {
		if !st.IPv6 {
			return row
		}
		return slices.Insert(row, at, x...)
	}
	// The external pool's blocks in a column of their own, after the
	// default pool's.
	ext := func(row []string, x string) []string {
		if !st.ExternalPool {
			return row
		}
		return slices.Insert(row, 3, x)
	}
	for _, n := range st.Nodes {
		eb := "-"
		if n.ExtBlock.IsValid() {
			eb = n.ExtBlock.String()
		}
		rows = append(rows, v6(ext([]string{n.Name, n.IP.String(), n.Block.String(), n.NS}, eb), 3, n.IP6.String(), n.Block6.String()))
	}
	table("nodes", v6(ext([]string{"NODE", "IP", "BLOCK", "NAMESPACE"}, "EXTERNAL BLOCK"), 3, "IP6", "BLOCK6"), rows)
	if st.ExternalPool {
		rows = nil
		for _, p := range st.Resources().Pools {
			rows = append(rows, []string{p.Name, p.CIDR.String(), "/" + strconv.Itoa(p.BlockSize)})
		}
		table("pools", []string{"POOL", "CIDR", "BLOCKS"}, rows)
	}
	if !st.StaticRoutes {
		fmt.Fprintf(w, "actions: %s\n", st.actionLine())
	}
	if ns := st.Host1NS(); ns != "" {
		var ranges []string
		cfg := st.Resources().BGPConfigs[0]
		for _, r := range slices.Concat(cfg.ServiceClusterIPs, cfg.ServiceExternalIPs) {
			ranges = append(ranges, r.String())
		}
		adv := "which advertise no service range to it yet"
		if len(ranges) > 0 {
			adv = "which advertise " + strings.Join(ranges, " and ") + " to it"
		}
		fmt.Fprintf(w, "host1: %s in %s, peered with every node, %s\n", host1IP, ns, adv)
	}
	rows = nil
	for _, p := range st.Pods {
		rows = append(rows, v6([]string{p.Namespace + "/" + p.Name, p.IP.String(), p.Node, p.HostIf, p.NS}, 2, p.IP6.String()))
	}
	table("pods", v6([]string{"POD", "IP", "NODE", "HOST END", "NAMESPACE"}, 2, "IP6"), rows)
	rows = nil
	for _, p := range st.Processes {
		rows = append(rows, []string{p.Node, strconv.Itoa(p.Pid), strings.Join(p.Cmdline, " ")})
	}
	if st.Kube != nil {
		for _, p := range st.Kube.Procs {
			who := p.Node
			if p.Pod != "" {
				who = p.Pod
			}
			rows = append(rows, []string{who, strconv.Itoa(p.Pid), strings.Join(p.Cmdline, " ")})
		}
	}
	table("processes", []string{"NODE", "PID", "COMMAND"}, rows)
	fmt.Fprintf(w, "namespaces: %d, links: %d, files: %d\n", len(st.Namespaces), len(st.Links), len(st.Files))
}

// DeletePodCommand is `podlab sandbox delete-pod NAMESPACE/NAME`: it
// deletes the pod as the CNI plugin's DEL does, says what the node does
// with its address now (the kernel's own answer) and, with replace, has a
// replacement come up a moment later.
func DeletePodCommand(ctx context.Context, o Options, pod string, replace bool, stdout io.Writer) error {
	ns, name, ok := strings.Cut(pod, "/")
	if !ok || ns == "" || name == "" {
		return fmt.Errorf("name the pod as NAMESPACE/NAME, not %q (see podlab sandbox status)", pod)
	}
	st, err := Status(o)
	if err != nil {
		return err
	}
	gone, err := st.findPod(ns, name)
	if err != nil {
		return fmt.Errorf("%w (see podlab sandbox status)", err)
	}
	if err := DeletePod(ctx, o, ns, name); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "deleted pod %s (%s on %s): its veth %s and its /32 are gone\n", pod, gone.IP, gone.Node, gone.HostIf)
	if r, err := lab.RouteGet(ctx, lab.NSRef{Name: st.NodeNS(gone.Node)}, gone.IP); err == nil {
		fmt.Fprintf(stdout, "  ip route get %s on %s: %s\n", gone.IP, gone.Node, routeWords(r))
	}
	if !replace {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(ReplaceDelay):
	}
	np, err := ReplacePod(ctx, o, *gone)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "replacement %s/%s is up on %s at %s (host end %s)\n", np.Namespace, np.Name, np.Node, np.IP, np.HostIf)
	return nil
}

// routeWords is a kernel route as ip prints its kind and way.
func routeWords(r netview.Route) string {
	s := r.Dst.String()
	if r.Type != "" && r.Type != "unicast" {
		s = r.Type + " " + s
	}
	if r.Gw.IsValid() {
		s += " via " + r.Gw.String()
	}
	if r.Dev != "" {
		s += " dev " + r.Dev
	}
	return s
}
