package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	stalledOnce sync.Once
	stalledPath string
	stalledErr  error
)

// stalledPodlab is podlab built with the podlabtest tag: with
// PODLAB_TEST_STALL_MAP=FILE, drawing the map creates FILE and never
// returns, as drawing a hostile lab's map once took minutes.
func stalledPodlab(t *testing.T) string {
	t.Helper()
	podlab(t) // makes binDir, which TestMain removes
	stalledOnce.Do(func() {
		stalledPath = filepath.Join(binDir, "podlab-stalled", "podlab")
		cmd := exec.Command("go", "build", "-tags", "podlabtest", "-o", stalledPath, "podlab")
		if out, err := cmd.CombinedOutput(); err != nil {
			stalledErr = fmt.Errorf("go build -tags podlabtest: %v: %s", err, out)
		}
	})
	if stalledErr != nil {
		t.Fatal(stalledErr)
	}
	return stalledPath
}

// While a render holds bubbletea's event loop (no Update returns, no
// message is read), podlab still ends on SIGTERM, on SIGINT (at once on
// the second), on ctrl+c twice, and when its terminal goes away; with
// the terminal still there, it leaves it as it found it.
func TestStalledRenderEnds(t *testing.T) {
	signal := func(sigs ...syscall.Signal) func(*ptyRun, int) {
		return func(r *ptyRun, pid int) {
			for _, s := range sigs {
				if err := syscall.Kill(pid, s); err != nil {
					r.t.Fatal(err)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	tests := []struct {
		name   string
		end    func(*ptyRun, int)
		closes bool // the terminal is gone: nothing to restore
	}{
		{"SIGTERM", signal(syscall.SIGTERM), false},
		{"SIGINT", signal(syscall.SIGINT), false},
		{"SIGINT twice", signal(syscall.SIGINT, syscall.SIGINT), false},
		{"SIGTERM then SIGINT", signal(syscall.SIGTERM, syscall.SIGINT), false},
		{"SIGHUP", signal(syscall.SIGHUP), false},
		// The terminal is raw: ctrl+c is a key, read while no Update runs.
		{"ctrl+c twice", func(r *ptyRun, _ int) {
			for range 2 {
				if _, err := r.master.Write([]byte{0x03}); err != nil {
					r.t.Fatal(err)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}, false},
		{"terminal closed", func(r *ptyRun, _ int) { r.master.Close() }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stall := filepath.Join(t.TempDir(), "stalled")
			r := startOnPTYWith(t, stalledPodlab(t), []string{"PODLAB_TEST_STALL_MAP=" + stall}, `exec "$0" "$@"`, "--lab", "recording")
			r.waitOutput(wait, "recording", "refreshed")
			pid := r.podlabPid()
			if _, err := r.master.Write([]byte("m")); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(wait)
			for {
				if _, err := os.Stat(stall); err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("m did not start drawing the map")
				}
				time.Sleep(20 * time.Millisecond)
			}
			drawn := len(r.out.Bytes())
			tt.end(r, pid)
			r.waitGone(pid, wait)
			if tt.closes {
				return
			}
			select {
			case <-r.out.Done():
			case <-time.After(wait):
				t.Fatal("the terminal still reads something after podlab ended")
			}
			after := string(r.out.Bytes()[drawn:])
			for _, want := range []string{"\x1b[?1049l", "\x1b[?25h"} {
				if !strings.Contains(after, want) {
					t.Errorf("podlab did not write %q on its way out: %q", want, after)
				}
			}
		})
	}
}
