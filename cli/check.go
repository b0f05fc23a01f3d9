package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"podlab/content"
)

type checkFlags struct {
	lab  labFlags
	pack packFlags
	json bool
}

func newCheck(name string) *cobra.Command {
	f := &checkFlags{}
	c := &cobra.Command{
		Use:   "check [flags]",
		Short: "check that the lab has what every step shows (exit 1 if not)",
		Long: `Run every step's check against the lab, without the terminal UI: the pod
is there, the veth pair agrees, the gateway is proven, the node has its /32s,
its blackholed block and a route per remote block. Prints pass or FAIL per
step with what is missing, and exits 1 when a step fails. A sandbox is read
as it is, never built or rebuilt. --pack runs that pack's checks.`,
		Example: examples(name,
			"the running sandbox, before class", "check --lab sandbox",
			"the cluster, for a script", "check --lab cluster --json",
			"the checks of another lesson pack", "check --lab sandbox --pack ./my-pack"),
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runCheck(c.Context(), f, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	c.Flags().BoolVar(&f.json, "json", false, "print the verdicts as a JSON array")
	f.pack.register(c)
	f.lab.register(c)
	return c
}

// runCheck is `podlab check`: every step's lab check, without the UI.
func runCheck(ctx context.Context, f *checkFlags, stdout, stderr io.Writer) error {
	f.lab.asIs = true // a broken sandbox is what check is for: read it, never rebuild it
	pk, err := f.pack.load()
	if err != nil {
		return err
	}
	f.lab.pack = pk
	src, pair, err := f.lab.collectOnce(ctx, stderr)
	if err != nil {
		return err
	}
	if !f.json {
		// Which pod was checked: after a delete-pod, the replacement.
		p := pair.Facts.Pod
		fmt.Fprintf(stdout, "%s: pod %s/%s at %s on %s\n", src.Kind(), p.Namespace, p.Name, p.IP, pair.Facts.Node)
	}
	vs := pk.CheckLab(pair)
	if err := content.WriteVerdicts(stdout, vs, f.json); err != nil {
		return err
	}
	if n := content.Failed(vs); n > 0 {
		return fmt.Errorf("%d of %d steps fail: the lab lacks what they show", n, len(vs))
	}
	return nil
}
