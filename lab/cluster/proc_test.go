package cluster

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"podlab/internal/netnstest"
)

// pidsOf lists the processes whose command line is exactly args.
func pidsOf(args ...string) []int {
	want := []byte{}
	for _, a := range args {
		want = append(append(want, a...), 0)
	}
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && bytes.Equal(b, want) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Ending a call ends everything its ssh started: here a ProxyCommand
// from the ssh config, which outlives an ssh that is only killed itself.
func TestSSHCancelEndsItsChildren(t *testing.T) {
	netnstest.RequireCommand(t, "ssh", "apt-get install openssh-client")
	calls := []struct {
		name string
		call func(ctx context.Context, l *Lab) error
	}{
		{"collect", func(ctx context.Context, l *Lab) error { _, err := l.sshNode(ctx); return err }},
		{"route", func(ctx context.Context, l *Lab) error {
			_, err := l.Route(ctx, netip.MustParseAddr("198.19.22.150"))
			return err
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			// A sleep no one else runs, so the test finds only its own.
			secs := fmt.Sprintf("%d.%06d", 900+rand.IntN(90), rand.IntN(1000000))
			cfg := filepath.Join(t.TempDir(), "ssh_config")
			write(t, cfg, "Host *\n  ProxyCommand sleep "+secs+"\n")
			t.Cleanup(func() {
				for _, pid := range pidsOf("sleep", secs) {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			})
			l := &Lab{opts: Options{SSH: "node1", SSHConfig: cfg, RemotePodlab: "podlab", Timeout: time.Minute}, where: Remote}
			l.facts.Node = "node1"
			l.facts.Pod.IP = netip.MustParseAddr("198.19.22.132")

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() { errc <- c.call(ctx, l) }()
			deadline := time.Now().Add(10 * time.Second)
			for len(pidsOf("sleep", secs)) == 0 {
				if time.Now().After(deadline) {
					t.Fatal("ssh did not start its ProxyCommand")
				}
				time.Sleep(20 * time.Millisecond)
			}
			cancel()
			select {
			case err := <-errc:
				if err == nil {
					t.Fatal("a cancelled ssh succeeded")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the call did not return after its context ended")
			}
			// The kill is sent before the call returns; give the kernel
			// a moment to deliver it.
			deadline = time.Now().Add(2 * time.Second)
			for {
				left := pidsOf("sleep", secs)
				if len(left) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the ProxyCommand outlives the cancelled ssh: pids %v", left)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}
