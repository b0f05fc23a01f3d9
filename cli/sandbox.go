package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"podlab/lab/sandbox"
	"podlab/netview"
)

func newSandbox(name string) *cobra.Command {
	c := &cobra.Command{
		Use:   "sandbox up|down|status|apply|delete-pod|scale|request [flags]",
		Short: "a Calico dataplane with BIRD on this machine (root)",
		Long: `Build, remove or inspect the sandbox: the lesson's cluster dataplane on this
machine, as network namespaces: a fabric, nodes control, node1 and node2,
pods wired as Calico's CNI plugin wires them, and BIRD 2 in a full iBGP
mesh; with up --kube also the real kube-apiserver holding them and the
yaobank Services, and a real kube-proxy per node. It needs root. apply
makes on it what a step of the lesson on BGP peering makes on the course's
cluster.`,
		Example: examples(name,
			"build it, and show it in the lesson", "sandbox up\n  "+name+" --lab sandbox",
			"in VXLAN mode", "sandbox up --mode vxlan",
			"peer host1 with the nodes, as the lesson's step does", "sandbox apply peer-host1",
			"remove it", "sandbox down"),
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr("up, down, status, apply, delete-pod, scale or request? (%s)", helpHint(c))
			}
			return usageErr("unknown command %q: use up, down, status, apply, delete-pod, scale or request (%s)", args[0], helpHint(c))
		},
		RunE: func(*cobra.Command, []string) error { return nil },
	}
	type sub struct {
		name, short, long string
		example           []string
		run               func(context.Context, sandbox.Options, io.Writer) error
	}
	for _, s := range []sub{
		{"up", "build the sandbox (root)",
			"Build the sandbox, or say that it is up already, and wait until BGP has converged.",
			[]string{"the lesson's dataplane", "sandbox up", "pods with a borrowed address", "sandbox up --borrowed",
				"host1 peered, services advertised (ECMP)", "sandbox up --host1",
				"and pods in a second pool, whose /29s host1 learns", "sandbox up --host1 --external-pool",
				"the end state of the lesson pack bgp-peering", "sandbox up --pack bgp-peering",
				"with the API server and a kube-proxy per node", "sandbox up --kube",
				"kube-proxy in nftables mode", "sandbox up --kube --kube-proxy-mode nftables",
				"the end state of the kube-proxy lesson", "sandbox up --pack kube-proxy"},
			sandbox.UpCommand},
		{"down", "remove everything the sandbox recorded, and its BIRDs",
			"Remove the namespaces, links, files and BIRD processes the sandbox's state records.",
			[]string{"remove the sandbox", "sandbox down"},
			sandbox.DownCommand},
		{"status", "show what the sandbox created and whether it is healthy",
			"Show the sandbox's nodes, pods and processes, and any problem (exit status 1 then).",
			[]string{"the default sandbox", "sandbox status", "another one", "sandbox status --sandbox-prefix lab2"},
			func(_ context.Context, o sandbox.Options, w io.Writer) error {
				err := sandbox.StatusCommand(o, w)
				if errors.Is(err, sandbox.ErrUnhealthy) {
					return exitCode(1) // the problems are printed
				}
				return err
			}},
	} {
		var sf sandboxFlags
		var o sandbox.Options
		var pack string
		sc := &cobra.Command{
			Use:     s.name + " [flags]",
			Short:   s.short,
			Long:    s.long,
			Example: examples(name, s.example...),
			Args:    noArgs,
			RunE: func(c *cobra.Command, _ []string) error {
				o.Prefix, o.StateDir = sf.prefix, sf.stateDir
				if pack != "" {
					if err := o.ForPack(pack); err != nil {
						return usageErr("%v", err)
					}
				}
				switch m := o.KubeProxyMode; {
				case m != "" && m != sandbox.ProxyIPTables && m != sandbox.ProxyNFTables:
					return usageErr("--kube-proxy-mode %q: use iptables or nftables", m)
				case m != "" && !o.Kube:
					return usageErr("--kube-proxy-mode is for a sandbox with --kube: add --kube")
				}
				if o.Kube {
					o.KubeBin = os.Getenv(sandbox.EnvKubeBin)
				}
				return s.run(c.Context(), o, c.OutOrStdout())
			},
		}
		fs := sc.Flags()
		sf.register(fs)
		// --prefix and --state-dir were these flags' names here before
		// they took the lab flags' names; old scripts keep working.
		fs.SetNormalizeFunc(func(_ *pflag.FlagSet, n string) pflag.NormalizedName {
			switch n {
			case "prefix":
				n = "sandbox-prefix"
			case "state-dir":
				n = "sandbox-state-dir"
			}
			return pflag.NormalizedName(n)
		})
		if s.name == "up" {
			fs.StringVar((*string)(&o.Mode), "mode", string(sandbox.DefaultMode), "dataplane: bgp (the lesson's), vxlan, or ipip")
			fs.BoolVar(&o.Borrowed, "borrowed", false, "add a pod on node2 with an address borrowed from node1's block")
			fs.BoolVar(&o.StaticRoutes, "static-routes", false, "no BIRD: write the block routes marked proto bird, labelled as static")
			fs.BoolVar(&o.ControlPlane, "control-plane", false, "run no pods on the control node, which keeps its block: a blackhole with no pod routes under it")
			fs.BoolVar(&o.Host1, "host1", false, "add host1 (198.19.15.254) with its own BIRD, peered with every node, which advertise the service range 198.19.32.0/20 to it: host1 routes it over all three (ECMP)")
			fs.BoolVar(&o.ExternalPool, "external-pool", false, "add the pool external-pool (198.19.24.0/21, /29 blocks) and a namespace external-ns whose pods take addresses from it, one on each node; with --host1, host1 learns each node's /29 and none of the default pool's /26s")
			fs.StringVar(&pack, "pack", "", "build the end state of a lesson pack's steps at once, so podlab check --pack NAME can run: "+strings.Join(sandbox.Packs, ", "))
			fs.BoolVar(&o.IPv6, "ipv6", false, "dual-stack: pods get an IPv6 address too, from /122 blocks routed over IPv6 BGP sessions")
			fs.BoolVar(&o.Kube, "kube", false, "run the real kube-apiserver (on etcd) with the sandbox's nodes, pods, yaobank Services and EndpointSlices, a kube-proxy per node and a responder in each yaobank pod (binaries from $"+sandbox.EnvKubeBin+" or PATH; .ci/kube/build.sh builds them)")
			fs.StringVar(&o.KubeProxyMode, "kube-proxy-mode", "", "with --kube: kube-proxy's mode, iptables (the default) or nftables")
			_ = sc.RegisterFlagCompletionFunc("kube-proxy-mode", cobra.FixedCompletions([]string{sandbox.ProxyIPTables, sandbox.ProxyNFTables}, cobra.ShellCompDirectiveNoFileComp))
			_ = sc.RegisterFlagCompletionFunc("mode", cobra.FixedCompletions(netview.ModeNames(), cobra.ShellCompDirectiveNoFileComp))
		}
		c.AddCommand(sc)
	}
	c.AddCommand(newApply(name), newDeletePod(name), newScale(name), newRequest(name), newServePod())
	return c
}

func newApply(name string) *cobra.Command {
	var sf sandboxFlags
	var long strings.Builder
	long.WriteString(`Make on the running sandbox what a step of the lesson on IP pools, BGP
peering and advertising services makes on the course's cluster, and wait
until the nodes and host1 have it. An action already applied is nothing to
do; sandbox down undoes them all. The actions:
`)
	for _, a := range sandbox.Actions {
		fmt.Fprintf(&long, "  %s\n      %s\n", a, sandbox.ActionWords[a])
	}
	c := &cobra.Command{
		Use:   "apply ACTION... [flags]",
		Short: "apply a step of the lesson on BGP peering to the sandbox (root)",
		Long:  strings.TrimSuffix(long.String(), "\n"),
		Example: examples(name,
			"peer host1 with every node", "sandbox apply peer-host1",
			"advertise the service cluster IP range to host1", "sandbox apply advertise-cluster-ips",
			"everything the lesson does", "sandbox apply "+strings.Join(sandbox.ActionNames(), " ")),
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr("name an action: %s (%s)", strings.Join(sandbox.ActionNames(), ", "), helpHint(c))
			}
			if _, err := sandbox.ParseActions(args); err != nil {
				return usageErr("%v", err)
			}
			return nil
		},
		ValidArgs: sandbox.ActionNames(),
		RunE: func(c *cobra.Command, args []string) error {
			o := sandbox.Options{Prefix: sf.prefix, StateDir: sf.stateDir}
			return sandbox.ApplyCommand(c.Context(), o, args, c.OutOrStdout())
		},
	}
	sf.register(c.Flags())
	return c
}

func newScale(name string) *cobra.Command {
	var sf sandboxFlags
	c := &cobra.Command{
		Use:   "scale summary N [flags]",
		Short: "give the summary deployment N pods (1-5); with --kube its EndpointSlice follows",
		Long: `Give the summary deployment N pods, as its ReplicaSet would: new pods wired as
Calico's CNI plugin wires them (on the node with the fewest, an address from its
block), or the newest removed. In a sandbox built with --kube the pods and the
EndpointSlice follow in the API server, the new pods answer on port 80, and
each node's kube-proxy rewrites its rules: a KUBE-SEP chain per endpoint.`,
		Example: examples(name,
			"three summary pods: probabilities 0.333…, 0.5, 1", "sandbox scale summary 3",
			"back to the lesson's two", "sandbox scale summary 2"),
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageErr("name the deployment and the count: summary N (%s)", helpHint(c))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[1])
			if err != nil {
				return usageErr("%q is not a number of pods (1-%d)", args[1], sandbox.MaxScale)
			}
			o := sandbox.Options{Prefix: sf.prefix, StateDir: sf.stateDir}
			return sandbox.ScaleCommand(c.Context(), o, args[0], n, c.OutOrStdout())
		},
	}
	sf.register(c.Flags())
	return c
}

func newRequest(name string) *cobra.Command {
	var sf sandboxFlags
	count := 1
	c := &cobra.Command{
		Use:   "request SERVICE [-n COUNT] [flags]",
		Short: "HTTP requests from the customer pod to a service's cluster IP (--kube)",
		Long: `Send COUNT HTTP requests, each on a new connection, from the customer pod's
namespace to a yaobank Service's cluster IP and port, and print which endpoint
answered each: kube-proxy's rules on node1 picked it, and their packet counters
moved.`,
		Example: examples(name,
			"ten requests to summary", "sandbox request summary -n 10"),
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("name the service: customer, database or summary (%s)", helpHint(c))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			o := sandbox.Options{Prefix: sf.prefix, StateDir: sf.stateDir}
			return sandbox.RequestCommand(c.Context(), o, args[0], count, c.OutOrStdout())
		},
	}
	sf.register(c.Flags())
	c.Flags().IntVarP(&count, "count", "n", 1, "how many requests (1-1000)")
	return c
}

// newServePod is a yaobank pod's responder, which the sandbox starts in
// the pod's namespace: podlab's own, hidden.
func newServePod() *cobra.Command {
	return &cobra.Command{
		Use:                sandbox.ResponderCommand,
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(_ *cobra.Command, args []string) error {
			return sandbox.ServeResponder(args)
		},
	}
}

func newDeletePod(name string) *cobra.Command {
	var sf sandboxFlags
	noReplace := false
	c := &cobra.Command{
		Use:   "delete-pod NAMESPACE/NAME [flags]",
		Short: "delete a sandbox pod as the CNI plugin's DEL does; a replacement follows",
		Long: `Delete one of the sandbox's pods as the CNI plugin's DEL does: its veth, its
/32 route and its namespace go, and the node's blackhole catches its address.
A moment later a replacement comes up with a new name suffix and a new address
from the same node's block, as its Deployment would make one.`,
		Example: examples(name,
			"delete a summary pod (see sandbox status for the names)", "sandbox delete-pod yaobank/summary-85c56b76d7-28hm5",
			"and leave it gone", "sandbox delete-pod yaobank/summary-85c56b76d7-28hm5 --no-replace"),
		Args: func(c *cobra.Command, args []string) error {
			switch {
			case len(args) == 0:
				return usageErr("name the pod as NAMESPACE/NAME (see %s sandbox status)", name)
			case len(args) > 1:
				return usageErr("unexpected argument %q (%s)", args[1], helpHint(c))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			o := sandbox.Options{Prefix: sf.prefix, StateDir: sf.stateDir}
			return sandbox.DeletePodCommand(c.Context(), o, args[0], !noReplace, c.OutOrStdout())
		},
	}
	sf.register(c.Flags())
	c.Flags().BoolVar(&noReplace, "no-replace", false, "leave the pod gone: no replacement")
	return c
}
