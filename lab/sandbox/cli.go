package sandbox

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"podlab/lab"
	"podlab/netview"
)

const cliUsage = `usage: podlab sandbox up|down|status|delete-pod [flags]

  up       build the lesson's cluster dataplane on this machine (root):
           a fabric, nodes control/node1/node2, pods wired as Calico's
           CNI plugin wires them, and BIRD 2 in a full iBGP mesh
  down     remove everything the sandbox recorded, and its BIRDs
  status   show what the sandbox created and whether it is healthy
  delete-pod NAMESPACE/NAME [--no-replace]
           delete a pod as the CNI plugin's DEL does; a moment later a
           replacement comes up with a new name and a new address, as
           its Deployment would make one

`

// Command runs `podlab sandbox <args>` and returns the exit code.
func Command(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, cliUsage)
		return 2
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, cliUsage)
		return 0
	case "up", "down", "status", "delete-pod":
	default:
		fmt.Fprintf(stderr, "podlab sandbox: unknown command %q: use up, down, status or delete-pod\n", sub)
		return 2
	}
	fs := flag.NewFlagSet("podlab sandbox "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	fs.StringVar(&o.Prefix, "prefix", DefaultPrefix, "name prefix of the sandbox's namespaces and files")
	fs.StringVar(&o.StateDir, "state-dir", DefaultStateDir, "where the state file and BIRD's files live")
	if sub == "up" {
		fs.StringVar(&o.Mode, "mode", DefaultMode, "dataplane: bgp (the lesson's), vxlan, or ipip")
		fs.BoolVar(&o.Borrowed, "borrowed", false, "add a pod on node2 with an address borrowed from node1's block")
		fs.BoolVar(&o.StaticRoutes, "static-routes", false, "no BIRD: write the block routes marked proto bird, labelled as static")
	}
	noReplace := false
	if sub == "delete-pod" {
		fs.BoolVar(&noReplace, "no-replace", false, "leave the pod gone: no replacement")
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: podlab sandbox %s [flags]\n\n", sub)
		fs.PrintDefaults()
	}
	// The pod may come before the flags or after them.
	pod := ""
	if sub == "delete-pod" && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		pod, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if sub == "delete-pod" && pod == "" && fs.NArg() > 0 {
		pod = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return 2
		}
	}
	if sub == "delete-pod" && pod == "" {
		fmt.Fprintln(stderr, "podlab sandbox delete-pod: name the pod as NAMESPACE/NAME (see podlab sandbox status)")
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "podlab sandbox %s: unexpected argument %q\n", sub, fs.Arg(0))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fail := func(err error) int {
		fmt.Fprintf(stderr, "podlab sandbox %s: %s\n", sub, oneLine(err))
		return 1
	}
	switch sub {
	case "up":
		sb, err := Up(ctx, o)
		if err != nil {
			return fail(err)
		}
		st := sb.State
		if !sb.Built {
			fmt.Fprintf(stdout, "sandbox %s is already up (%s) since %s\n", st.Prefix, modeLine(st), st.UpAt.Local().Format(time.DateTime))
		} else if st.StaticRoutes {
			fmt.Fprintf(stdout, "sandbox %s is up (%s)\n", st.Prefix, modeLine(st))
		} else {
			fmt.Fprintf(stdout, "sandbox %s is up (%s), BGP converged in %.1fs\n", st.Prefix, modeLine(st), float64(st.ConvergedMS)/1000)
		}
		fmt.Fprintf(stdout, "  the customer pod: sudo ip netns exec %s ip addr\n", st.PodNS(CustomerNamespace, CustomerPod))
		fmt.Fprintf(stdout, "  its node:         sudo ip netns exec %s ip route\n", st.NodeNS(CustomerNode))
		return 0
	case "delete-pod":
		if err := deletePodCommand(ctx, o, pod, !noReplace, stdout); err != nil {
			return fail(err)
		}
		return 0
	case "down":
		if err := Down(ctx, o); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "sandbox %s is down\n", o.withDefaults().Prefix)
		return 0
	default:
		st, err := Status(o)
		if errors.Is(err, ErrNotUp) {
			fmt.Fprintf(stdout, "sandbox %s is not up\n", o.withDefaults().Prefix)
			return 0
		}
		if err != nil {
			return fail(err)
		}
		writeStatus(stdout, st)
		if len(st.Problems) > 0 {
			return 1
		}
		return 0
	}
}

func modeLine(st *State) string {
	s := st.Mode + " mode, BIRD 2"
	if st.StaticRoutes {
		s = st.Mode + " mode, static routes marked proto bird, no BGP"
	}
	if st.Borrowed {
		s += ", with a borrowed address"
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
	for _, n := range st.Nodes {
		rows = append(rows, []string{n.Name, n.IP.String(), n.Block.String(), n.NS})
	}
	table("nodes", []string{"NODE", "IP", "BLOCK", "NAMESPACE"}, rows)
	rows = nil
	for _, p := range st.Pods {
		rows = append(rows, []string{p.Namespace + "/" + p.Name, p.IP.String(), p.Node, p.HostIf, p.NS})
	}
	table("pods", []string{"POD", "IP", "NODE", "HOST END", "NAMESPACE"}, rows)
	rows = nil
	for _, p := range st.Processes {
		rows = append(rows, []string{p.Node, strconv.Itoa(p.Pid), strings.Join(p.Cmdline, " ")})
	}
	table("processes", []string{"NODE", "PID", "COMMAND"}, rows)
	fmt.Fprintf(w, "namespaces: %d, links: %d, files: %d\n", len(st.Namespaces), len(st.Links), len(st.Files))
}

// oneLine keeps an error to its first line. Only Up's convergence error
// keeps the BIRD log tail it carries on the lines after, where it helps.
func oneLine(err error) string {
	var ce *convergeError
	if errors.As(err, &ce) {
		return err.Error()
	}
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// deletePodCommand deletes a pod, says what the node does with its
// address now (the kernel's own answer), and brings up its replacement.
func deletePodCommand(ctx context.Context, o Options, pod string, replace bool, stdout io.Writer) error {
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
