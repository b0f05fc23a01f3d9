// Command podlab here is a stand-in for the real binary in the ssh tests,
// used until main.go wires `podlab collect`: it runs only that command.
package main

import (
	"fmt"
	"os"

	"podlab/lab/cluster"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "collect" {
		fmt.Fprintln(os.Stderr, "usage: podlab collect --pod-ip IP [--host-netns NAME]")
		os.Exit(2)
	}
	os.Exit(cluster.CollectCommand(os.Args[2:], os.Stdout, os.Stderr))
}
