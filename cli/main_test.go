package cli

import (
	"fmt"
	"os"
	"testing"

	"podlab/lab/sandbox"
)

// TestMain lets the test binary be the sandbox pods' responder, as podlab
// is: a sandbox built in-process by a test here (sandbox up --kube) runs
// its own program again with `sandbox serve-pod`, which must answer, not
// run this package's tests inside a pod's namespace.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "sandbox" && os.Args[2] == sandbox.ResponderCommand {
		if err := sandbox.ServeResponder(os.Args[3:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
