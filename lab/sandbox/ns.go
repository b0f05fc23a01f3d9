package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"podlab/lab"
	"podlab/netview"
)

const netnsDir = lab.NetnsDir

func nsPath(name string) string { return filepath.Join(netnsDir, name) }

// ensureNetnsDir prepares /run/netns the way `ip netns add` does, so that
// our namespaces show up in `ip netns` and survive in other mount
// namespaces.
func ensureNetnsDir() error {
	if err := os.MkdirAll(netnsDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", netnsDir, err)
	}
	err := unix.Mount("", netnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if errors.Is(err, unix.EINVAL) {
		// Not a mount point yet: make it one, then shared.
		if err := unix.Mount(netnsDir, netnsDir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind %s: %w", netnsDir, err)
		}
		err = unix.Mount("", netnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
	}
	if err != nil {
		return fmt.Errorf("make %s shared: %w", netnsDir, err)
	}
	return nil
}

// nsExists reports whether a named namespace is mounted.
func nsExists(name string) bool {
	_, err := os.Stat(nsPath(name))
	return err == nil
}

// nsInode returns the inode of a named namespace, which identifies it.
func nsInode(name string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(nsPath(name), &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// createNS makes a new named network namespace and returns its inode.
// The unshare happens on a goroutine locked to its thread which never
// unlocks, so the thread is thrown away rather than returned to the pool
// in the wrong namespace.
func createNS(name string) (uint64, error) {
	if err := ensureNetnsDir(); err != nil {
		return 0, err
	}
	p := nsPath(name)
	f, err := os.OpenFile(p, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return 0, fmt.Errorf("create namespace %s: %w", name, err)
	}
	f.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("unshare: %w", err)
			return
		}
		self := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		errc <- unix.Mount(self, p, "none", unix.MS_BIND, "")
	}()
	if err := <-errc; err != nil {
		os.Remove(p)
		return 0, fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nsInode(name)
}

// deleteNS unmounts and removes a named namespace; the kernel frees it
// (and every link inside it) once nothing else holds it.
func deleteNS(name string) error {
	p := nsPath(name)
	if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount %s: %w", p, err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	return nil
}

// inNS runs fn on a thread of its own in the named namespace.
func inNS(name string, fn func() error) error {
	return lab.InNS(lab.NSRef{Name: name}, fn)
}

// handle opens a netlink handle inside a named namespace.
func handle(name string) (*netlink.Handle, netns.NsHandle, error) {
	ns, err := netns.GetFromPath(nsPath(name))
	if err != nil {
		return nil, 0, fmt.Errorf("open namespace %s: %w", name, err)
	}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		ns.Close()
		return nil, 0, fmt.Errorf("netlink in %s: %w", name, err)
	}
	return h, ns, nil
}

// sysctl is one setting: a key of netview's sysctls and its value.
type sysctl struct{ key, value string }

// setSysctls writes settings of interface dev (of the namespace, for a
// namespace-wide key) inside a namespace. An IPv6 setting whose file does
// not exist (IPv6 disabled) is skipped.
func setSysctls(ns, dev string, kv []sysctl) error {
	return inNS(ns, func() error {
		for _, e := range kv {
			p := "/proc/sys/net/" + netview.SysctlPath(e.key, dev)
			if err := os.WriteFile(p, []byte(e.value), 0o644); err != nil {
				if errors.Is(err, os.ErrNotExist) && strings.HasPrefix(e.key, "ipv6.") {
					continue
				}
				return fmt.Errorf("sysctl %s=%s in %s: %w", strings.TrimPrefix(p, "/proc/sys/"), e.value, ns, err)
			}
		}
		return nil
	})
}
