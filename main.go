// Command podlab is the terminal companion to the Calico lesson "Pod
// Connectivity Fundamentals": it walks the lesson step by step beside the
// live network state of the customer pod and of its node. Its command
// line is package cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"podlab/cli"
)

func main() {
	// SIGHUP too: the terminal is gone. Asking for it also catches it when
	// podlab was started with SIGHUP ignored (nohup, su -c): Go's
	// signal.Notify installs a handler for an ignored SIGHUP or SIGINT.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	code := cli.Run(ctx, os.Args[0], os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
