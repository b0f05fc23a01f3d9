package host1

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"podlab/internal/kubetest"
	"podlab/internal/netnstest"
	"podlab/lab/sandbox"
)

// What every test of one test binary shares, built once: a sandbox (BIRD's
// convergence takes seconds) and the podlab command. Main removes them.
var shared struct {
	sbOnce  sync.Once
	sbOpts  sandbox.Options
	sbState *sandbox.State
	sbErr   error

	binOnce sync.Once
	binDir  string
	binErr  error
}

// Main runs a package's tests, then removes the shared sandbox, the
// podlab command and the API server (kubetest's), and exits.
func Main(m *testing.M) {
	code := m.Run()
	if shared.sbState != nil {
		if err := sandbox.Down(context.Background(), shared.sbOpts); err != nil {
			fmt.Fprintf(os.Stderr, "removing the test sandbox %s: %v\n", shared.sbOpts.Prefix, err)
			code = 1
		}
	}
	if shared.sbOpts.StateDir != "" {
		os.RemoveAll(shared.sbOpts.StateDir)
	}
	if shared.binDir != "" {
		os.RemoveAll(shared.binDir)
	}
	kubetest.Stop()
	os.Exit(code)
}

// Sandbox builds, the first time it is called, a sandbox with o's mode and
// extras under its own prefix (from prefix) and state directory, so it
// never meets a student's; later calls return the same one.
func Sandbox(t *testing.T, prefix string, o sandbox.Options) *sandbox.State {
	t.Helper()
	netnstest.RequireRoot(t)
	netnstest.RequireCommand(t, "bird", "apt-get install bird2")
	shared.sbOnce.Do(func() {
		dir, err := os.MkdirTemp("", "podlab-"+prefix+"-test-")
		if err != nil {
			shared.sbErr = err
			return
		}
		o.Prefix, o.StateDir = netnstest.Name(prefix), dir
		shared.sbOpts = o
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		sb, err := sandbox.Up(ctx, o)
		if err != nil {
			shared.sbErr = err
			return
		}
		shared.sbState = sb.State
	})
	if shared.sbErr != nil {
		t.Fatalf("sandbox: %v", shared.sbErr)
	}
	return shared.sbState
}

// PodlabBinary builds the podlab command once, into a directory anyone
// may read (a student runs it), and returns the directory.
func PodlabBinary(t *testing.T) string {
	t.Helper()
	shared.binOnce.Do(func() {
		if shared.binDir, shared.binErr = os.MkdirTemp("", "podlab-test-bin-"); shared.binErr != nil {
			return
		}
		if shared.binErr = os.Chmod(shared.binDir, 0o755); shared.binErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(shared.binDir, "podlab"), "podlab").CombinedOutput()
		if err != nil {
			shared.binErr = fmt.Errorf("go build podlab: %v\n%s", err, out)
		}
	})
	if shared.binErr != nil {
		t.Fatal(shared.binErr)
	}
	return shared.binDir
}
