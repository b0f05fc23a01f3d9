// Command podlab is the terminal companion to the Calico lesson "Pod
// Connectivity Fundamentals".
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "podlab: not built yet")
	os.Exit(1)
}
