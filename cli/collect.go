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
	var reads cluster.Reads
	c := &cobra.Command{
		Use:   "collect --pod-ip IP [--bird] [--nat] [flags]",
		Short: "node-side collector: the host and pod snapshots as JSON (root)",
		Long: `Print this node's host namespace and the namespace of the pod with --pod-ip
as one podlab/v1 JSON document. podlab runs it on the pod's node over ssh
(ssh node1 sudo -n podlab collect ...) when it shows a cluster from elsewhere.
With --bird it adds calico-node's BIRD's protocols (from ` + cluster.BirdSocket + `,
read-only), with --nat the nat table kube-proxy writes (iptables-save -c
-t nat, or its nftables table); a part it cannot read is said in the
document. Under sudo it takes --pod-ip ADDRESS, then --bird, then --nat,
each optional, and nothing else, as the sudoers rule in podlab's README does.`,
		Example: examples(name,
			"the customer pod, on its node", "collect --pod-ip 198.19.22.132",
			"with the node's BGP sessions and NAT rules", "collect --pod-ip 198.19.22.132 --bird --nat",
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
			return cluster.CollectJSON(c.Context(), host, ip, reads, c.OutOrStdout())
		},
	}
	fs := c.Flags()
	fs.StringVar(&podIP, "pod-ip", "", "the pod's IP address (required)")
	fs.BoolVar(&reads.Bird, "bird", false, "add calico-node's BIRD's protocols, read from "+cluster.BirdSocket)
	fs.BoolVar(&reads.NAT, "nat", false, "add the node's nat table as kube-proxy wrote it (iptables or nftables mode)")
	fs.StringVar(&hostNetns, "host-netns", "", "the node's host namespace: a name under /run/netns, a path, or pid:N (default: podlab's own; not under sudo)")
	return c
}

// underSudo: root through sudo for a user other than root, the way a
// student runs `sudo -n podlab collect` under the sudoers rule.
func underSudo() bool {
	uid, ok := os.LookupEnv("SUDO_UID")
	return os.Geteuid() == 0 && ok && uid != "0"
}

const sudoCollectRule = "under sudo, collect takes --pod-ip ADDRESS and nothing else but --bird then --nat (the one command the sudoers rule grants): run sudo podlab collect --pod-ip IP [--bird] [--nat]"

// checkSudoCollect holds a collect run under sudo to the one form the
// README's sudoers rule grants, whatever the rule in force lets through
// (the older wildcard form lets any further arguments through): one
// address, then --bird, then --nat, each at most once and in that
// order; no --host-netns, no other flag or form of these, no argument.
func checkSudoCollect(args []string) error {
	var ip string
	var rest []string
	switch {
	case len(args) >= 3 && args[0] == "collect" && args[1] == "--pod-ip":
		ip, rest = args[2], args[3:]
	case len(args) >= 2 && args[0] == "collect" && strings.HasPrefix(args[1], "--pod-ip="):
		ip, rest = strings.TrimPrefix(args[1], "--pod-ip="), args[2:]
	default:
		return usageErr("%s", sudoCollectRule)
	}
	if _, err := netip.ParseAddr(ip); err != nil {
		return usageErr("%s", sudoCollectRule)
	}
	for _, flag := range []string{"--bird", "--nat"} {
		if len(rest) > 0 && rest[0] == flag {
			rest = rest[1:]
		}
	}
	if len(rest) > 0 {
		return usageErr("%s", sudoCollectRule)
	}
	return nil
}
