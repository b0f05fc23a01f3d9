package main

import (
	"io"

	"podlab/lab/sandbox"
)

func sandboxCommand(args []string, stdout, stderr io.Writer) int {
	return sandbox.Command(args, stdout, stderr)
}
