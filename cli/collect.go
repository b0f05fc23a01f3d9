package cli

import (
	"net/netip"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"podlab/lab"
	"podlab/lab/cluster"
)

func newCollect(name string) *cobra.Command {
	var podIP, hostNetns string
	c := &cobra.Command{
		Use:   "collect --pod-ip IP [flags]",
		Short: "node-side collector: the host and pod snapshots as JSON (root)",
		Long: `Print this node's host namespace and the namespace of the pod with --pod-ip
as one podlab/v1 JSON document. podlab runs it on the pod's node over ssh
(ssh node1 sudo -n podlab collect ...) when it shows a cluster from elsewhere.
Under sudo it takes --pod-ip ADDRESS and nothing else, as the sudoers rule
in podlab's README does.`,
		Example: examples(name,
			"the customer pod, on its node", "collect --pod-ip 198.19.22.132",
			"from host1, as podlab does", "$ ssh node1 sudo -n podlab collect --pod-ip 198.19.22.132"),
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if underSudo() && hostNetns != "" {
				// Run has refused it already; this holds should another way in appear.
				return usageErr("%s", sudoCollectRule)
			}
			if podIP == "" {
				return usageErr("--pod-ip is required (kubectl get pods -o wide shows it)")
			}
			ip, err := netip.ParseAddr(podIP)
			if err != nil {
				return usageErr("--pod-ip %q is not an IP address", podIP)
			}
			host, err := lab.ParseNSRef(hostNetns)
			if err != nil {
				return usageErr("--host-netns: %v", err)
			}
			return cluster.CollectJSON(c.Context(), host, ip, c.OutOrStdout())
		},
	}
	fs := c.Flags()
	fs.StringVar(&podIP, "pod-ip", "", "the pod's IP address (required)")
	fs.StringVar(&hostNetns, "host-netns", "", "the node's host namespace: a name under /run/netns, a path, or pid:N (default: podlab's own; not under sudo)")
	return c
}

// underSudo: root through sudo for a user other than root, the way a
// student runs `sudo -n podlab collect` under the sudoers rule.
func underSudo() bool {
	uid, ok := os.LookupEnv("SUDO_UID")
	return os.Geteuid() == 0 && ok && uid != "0"
}

const sudoCollectRule = "under sudo, collect takes --pod-ip ADDRESS and nothing else (the one command the sudoers rule grants): run sudo podlab collect --pod-ip IP"

// checkSudoCollect holds a collect run under sudo to the one form the
// README's sudoers rule grants, whatever the rule in force lets through
// (the older wildcard form lets any further arguments through): no
// --host-netns, no other flag, no extra argument, one address.
func checkSudoCollect(args []string) error {
	var ip string
	switch {
	case len(args) == 3 && args[0] == "collect" && args[1] == "--pod-ip":
		ip = args[2]
	case len(args) == 2 && args[0] == "collect" && strings.HasPrefix(args[1], "--pod-ip="):
		ip = strings.TrimPrefix(args[1], "--pod-ip=")
	default:
		return usageErr("%s", sudoCollectRule)
	}
	if _, err := netip.ParseAddr(ip); err != nil {
		return usageErr("%s", sudoCollectRule)
	}
	return nil
}
