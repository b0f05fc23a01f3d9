// Command podlab is the terminal companion to the Calico lesson "Pod
// Connectivity Fundamentals": it walks the lesson step by step beside the
// live network state of the customer pod and of its node.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `podlab: the terminal companion to "Pod Connectivity Fundamentals"

Usage:
  podlab [flags]                 walk the lesson beside the live pod and node
  podlab --self-paced            the same, checking your answers and keeping your progress
  podlab --present --serve ADDR  lead a class: presenter view, students follow (podlab --follow URL)
  podlab show [flags]            print the pod's and the node's views, highlighted and explained
  podlab check [--json] [flags]  check the lab has what every step shows (exit 1 if not)
  podlab record -o FILE [flags]  save a lab's state as a recording (replay it with --lab replay=FILE)
  podlab collect --pod-ip IP     node-side collector: the host and pod snapshots as JSON
  podlab sandbox up|down|status  a Calico dataplane with BIRD on this machine (root)

Where the data comes from (--lab):
  auto          a cluster if the kubeconfig reaches one with the pod, else a running
                sandbox, else the built-in recording (the default)
  cluster       a real cluster through the kubeconfig (-n, -l, --pod, --context)
  sandbox       the sandbox on this machine; built if not running, removed on exit unless --keep
  netns         named namespaces on this machine: --host-netns and --pod-netns or --pod-ip
  recording     the built-in recording of the lesson's lab (no root, nothing installed)
  replay=FILE   a recording made with 'podlab record'

Run 'podlab <command> -h' for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: it returns the exit code, so tests can
// drive every path.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := ""
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "":
		err = runLesson(ctx, args, stdout, stderr)
	case "show":
		err = runShow(ctx, args, stdout, stderr)
	case "record":
		err = runRecord(ctx, args, stdout, stderr)
	case "check":
		err = runCheck(ctx, args, stdout, stderr)
	case "collect":
		return collectCommand(args, stdout, stderr)
	case "sandbox":
		return sandboxCommand(args, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "podlab: unknown command %q (run 'podlab help')\n", cmd)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "podlab: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "podlab: %v\n", err)
		return 1
	}
}

// errUsage marks a mistake in the command line (exit code 2).
var errUsage = errors.New("usage")

func usageErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, a...)...)
}
