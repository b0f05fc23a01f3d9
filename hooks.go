package main

import (
	"io"

	"podlab/lab/cluster"
	"podlab/lab/sandbox"
)

// The sub-commands that live with their labs: the node-side collector
// beside the cluster code that calls it over ssh, the sandbox's
// up/down/status beside the builder.

func collectCommand(args []string, stdout, stderr io.Writer) int {
	return cluster.CollectCommand(args, stdout, stderr)
}

func sandboxCommand(args []string, stdout, stderr io.Writer) int {
	return sandbox.Command(args, stdout, stderr)
}
