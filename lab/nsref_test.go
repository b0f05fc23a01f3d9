package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"podlab/internal/netnstest"
)

// collectBounded runs Collect with a deadline and fails the test, rather
// than hanging it, when Collect does not keep to that deadline.
func collectBounded(t *testing.T, ref NSRef) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := Collect(ctx, ref)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatalf("Collect(%v) is still running a minute after its 5 s deadline", ref)
		return nil
	}
}

// A namespace path is what a student could give root under a wide sudo
// rule: nothing at it is opened but a namespace file, nothing blocks, and
// whatever lies there, the answer is the same (no oracle for root-only
// paths).
func TestCollectHostilePaths(t *testing.T) {
	netnstest.RequireRoot(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// An old podlab's open blocks on the FIFO until a writer comes.
	t.Cleanup(func() {
		if fd, err := unix.Open(fifo, unix.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
			unix.Close(fd)
		}
	})
	secret := filepath.Join(dir, "root-only", "shadow")
	if err := os.Mkdir(filepath.Dir(secret), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secret, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	ns := netnstest.New(t, "plhost")
	link := func(target string) string {
		d, err := os.MkdirTemp(dir, "l")
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(d, "net")
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A second FIFO, held open by this process (so never blocking), for
	// a /proc/PID/fd/N link to one.
	held := filepath.Join(dir, "held")
	if err := unix.Mkfifo(held, 0o600); err != nil {
		t.Fatal(err)
	}
	heldFIFO, err := unix.Open(held, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(heldFIFO) })

	tests := []struct {
		name string
		path string
	}{
		{"fifo", fifo},
		{"symlink to a fifo", link(fifo)},
		{"symlink to a root-only file", link(secret)},
		{"symlink to nothing", link(filepath.Join(dir, "root-only", "nothing"))},
		{"symlink to a namespace", link(netnstest.Path(ns))},
		{"root-only file", secret},
		{"nothing, in a root-only directory", filepath.Join(dir, "root-only", "nothing")},
		{"nothing at all", filepath.Join(dir, "nothing")},
		{"a directory", dir},
		{"a device", "/dev/null"},
		{"a process's fd of a fifo", fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), heldFIFO)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := collectBounded(t, NSRef{Path: tt.path})
			if err == nil {
				t.Fatal("collected")
			}
			want := fmt.Sprintf("network namespace %q is gone: %s is not a namespace file", tt.path, tt.path)
			if err.Error() != want {
				t.Errorf("error %q\n  want %q (the same words whatever is there)", err, want)
			}
			if !errors.Is(err, ErrNamespaceGone) {
				t.Errorf("%v is not ErrNamespaceGone", err)
			}
		})
	}
	// The links the kernel makes still lead to namespaces.
	for _, p := range []string{"/proc/self/ns/net", fmt.Sprintf("/proc/%d/ns/net", os.Getpid()), netnstest.Path(ns)} {
		t.Run(p, func(t *testing.T) {
			if err := collectBounded(t, NSRef{Path: p}); err != nil {
				t.Error(err)
			}
		})
	}
}
