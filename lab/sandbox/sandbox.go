// Package sandbox builds, on this machine, a replica of the dataplane of
// the lesson's Calico cluster: a fabric bridge, three node namespaces,
// pod namespaces wired as Calico's CNI plugin wires them, and a BIRD 2
// per node in a full iBGP mesh. Everything it makes is named with its
// prefix and listed in a state file, and Down removes exactly that.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"podlab/netview"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Errors callers may test for.
var (
	ErrNeedRoot = errors.New("podlab sandbox needs root: run it with sudo")
	ErrNoIPIP   = errors.New("this kernel has no IPIP support (the ipip module is missing): use --mode bgp or --mode vxlan")
	ErrNotUp    = errors.New("the sandbox is not up")
)

// convergeTimeout bounds the wait for BGP.
var convergeTimeout = 30 * time.Second

// stepHook, when set (by tests), runs after each build step; an error
// stops the build. errKilled stops it without cleaning up, as a kill would.
var (
	stepHook  func(step string) error
	errKilled = errors.New("build stopped as if killed")
)

// Sandbox is a built (or found) sandbox.
type Sandbox struct {
	Options Options
	State   *State
	// Built says this call built it; false when it was already up.
	Built bool
	// Applied are the actions this call applied to a sandbox already up.
	Applied []Action
}

// Up builds the sandbox, or returns it if its state file says it is up
// and it is healthy, with the actions of opts it lacks applied. A failed
// Up removes what it made.
func Up(ctx context.Context, opts Options) (*Sandbox, error) {
	o, err := opts.checked()
	if err != nil {
		return nil, err
	}
	if o.Mode == netview.ModeIPIP {
		if !kernelHasIPIP() {
			return nil, ErrNoIPIP
		}
		return nil, errors.New("the sandbox does not build ipip mode yet: use --mode bgp or --mode vxlan")
	}
	if os.Geteuid() != 0 {
		return nil, ErrNeedRoot
	}
	bird := ""
	if !o.StaticRoutes {
		if bird, err = findBird(); err != nil {
			return nil, err
		}
	}
	var kubeBins map[string]string
	if o.Kube {
		if kubeBins, err = kubeBinaries(o.KubeBin); err != nil {
			return nil, err
		}
	}
	old, unlock, err := lockedState(o)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if old != nil {
		healthy := old.Phase == PhaseUp && len(old.health()) == 0
		same := old.Mode == o.Mode && old.Borrowed == o.Borrowed && old.StaticRoutes == o.StaticRoutes && old.IPv6 == o.IPv6 &&
			old.ControlPlane == o.ControlPlane && old.kubeMode() == o.kubeMode()
		switch {
		case healthy && same:
			// What the lesson's steps apply by hand is no different
			// sandbox: up leaves applied actions and applies the rest.
			applied, err := applyLocked(ctx, o, old, o.Actions)
			if err != nil {
				return nil, err
			}
			return &Sandbox{Options: o, State: old, Applied: applied}, nil
		case healthy:
			return nil, fmt.Errorf("sandbox %q is already up in %s mode%s: run podlab sandbox down first", o.Prefix, old.Mode, describeExtras(old))
		}
		// Left half-built or broken: remove what it recorded, then build.
		if err := teardown(o, old); err != nil {
			return nil, fmt.Errorf("sandbox %q was left half-built and could not be removed: %w", o.Prefix, err)
		}
	}

	b := newBuilder(o, bird)
	b.kubeBins = kubeBins
	if err := b.checkFree(); err != nil {
		return nil, err
	}
	if err := b.build(ctx); err != nil {
		if errors.Is(err, errKilled) {
			return nil, err
		}
		if cerr := teardown(o, b.st); cerr != nil {
			return nil, fmt.Errorf("%w (and cleaning up failed: %v; run podlab sandbox down)", err, cerr)
		}
		return nil, err
	}
	return &Sandbox{Options: o, State: b.st, Built: true}, nil
}

func describeExtras(s *State) string {
	var x []string
	if s.Borrowed {
		x = append(x, "--borrowed")
	}
	if s.StaticRoutes {
		x = append(x, "--static-routes")
	}
	if s.IPv6 {
		x = append(x, "--ipv6")
	}
	if s.ControlPlane {
		x = append(x, "--control-plane")
	}
	if len(s.Actions) > 0 {
		x = append(x, "applied: "+s.actionLine())
	}
	if m := s.kubeMode(); m != "" {
		x = append(x, "--kube --kube-proxy-mode "+m)
	}
	if len(x) == 0 {
		return ""
	}
	return " (" + strings.Join(x, " ") + ")"
}

// Down removes what the state file records and kills the processes the
// sandbox started. With nothing up it does nothing.
func Down(ctx context.Context, opts Options) error {
	o, err := opts.checked()
	if err != nil {
		return err
	}
	if up, err := stateRecorded(o); err != nil || !up {
		return err
	}
	if os.Geteuid() != 0 {
		return ErrNeedRoot
	}
	st, unlock, err := lockedState(o)
	if err != nil {
		return err
	}
	defer unlock()
	if st == nil {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// The lock file stays: another podlab may be waiting on it, and a
	// new one would let a newcomer lock beside that waiter.
	return teardown(o, st)
}

// Status returns the recorded state with its health checked; an error
// wrapping ErrNotUp when nothing is recorded.
func Status(opts Options) (*State, error) {
	o, err := opts.checked()
	if err != nil {
		return nil, err
	}
	st, err := readState(o)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, notUp(o)
	}
	st.Problems = st.health()
	return st, nil
}

func notUp(o Options) error {
	return fmt.Errorf("%w: sandbox %q (run sudo podlab sandbox up)", ErrNotUp, o.Prefix)
}

// health lists what is wrong with a recorded sandbox: a namespace gone
// or replaced, a BIRD no longer running.
func (s *State) health() []string {
	var out []string
	if s.Phase != PhaseUp {
		out = append(out, "it was not finished building (phase "+s.Phase+")")
	}
	for _, n := range s.Namespaces {
		ino, err := nsInode(n.Name)
		switch {
		case err != nil:
			out = append(out, "namespace "+n.Name+" is gone")
		case ino != n.Inode:
			out = append(out, "namespace "+n.Name+" is no longer the one the sandbox made")
		}
	}
	for _, p := range s.Processes {
		if p.Pid == 0 || !cmdlineMatches(p.Pid, p.Cmdline) {
			out = append(out, fmt.Sprintf("bird on %s (pid %d) is not running", p.Node, p.Pid))
		}
	}
	return append(out, s.kubeHealth()...)
}

// DeletePod removes one pod as the CNI plugin's DEL does: its veth (and
// with it the host route) and its namespace. The node's blackhole stays,
// which is the lesson's point about deleted pods.
func DeletePod(ctx context.Context, opts Options, namespace, name string) error {
	o, st, unlock, err := upState(opts)
	if err != nil {
		return err
	}
	defer unlock()
	p, err := st.findPod(namespace, name)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	nsName := p.NS
	gone := *p
	if err := stopResponder(st, gone); err != nil {
		return err
	}
	var notOurs error
	switch {
	case owned(st, nsName):
		if err := deletePodNS(nsName); err != nil {
			return fmt.Errorf("delete pod %s/%s: %w", namespace, name, err)
		}
	case nsExists(nsName):
		// The name now belongs to a namespace the sandbox did not make:
		// forget the pod, leave the namespace, and say so.
		notOurs = fmt.Errorf("pod %s/%s: namespace %s is no longer the one the sandbox made, so podlab left it alone", namespace, name, nsName)
	}
	forgetPod(st, nsName)
	if err := st.write(o); err != nil {
		return errors.Join(notOurs, err)
	}
	return errors.Join(notOurs, followEndpoints(ctx, o, st), kubeAfter(ctx, o, st, nil, []PodInfo{gone}))
}

// deletePodNS deletes a pod's eth0 first, so its host end and the host
// route go at once even while something still holds the namespace, then
// the namespace.
func deletePodNS(nsName string) error {
	h, ns, err := handle(nsName)
	if err != nil {
		return err
	}
	l, err := h.LinkByName("eth0")
	var nf netlink.LinkNotFoundError
	switch {
	case errors.As(err, &nf):
		err = nil // already gone
	case err == nil:
		if err = h.LinkDel(l); err != nil {
			err = fmt.Errorf("delete eth0 in %s: %w", nsName, err)
		}
	default:
		err = fmt.Errorf("find eth0 in %s: %w", nsName, err)
	}
	h.Close()
	ns.Close()
	if err != nil {
		return err
	}
	return deleteNS(nsName)
}

// owned says whether a recorded namespace still is the one we made.
func owned(st *State, name string) bool {
	for _, n := range st.Namespaces {
		if n.Name != name {
			continue
		}
		ino, err := nsInode(name)
		if err != nil {
			return false
		}
		// Inode 0 proves nothing: it is never ours.
		return n.Inode != 0 && n.Inode == ino
	}
	return false
}

// teardown removes what st records: processes (checked by command line),
// then namespaces (which takes their links), then files, then the state.
func teardown(o Options, st *State) error {
	// The control plane first: its responders hold pods' namespaces.
	errs := stopKube(st)
	for _, p := range st.Processes {
		if err := stopProcess(o, p); err != nil {
			errs = append(errs, err)
		}
	}
	for i := len(st.Namespaces) - 1; i >= 0; i-- {
		n := st.Namespaces[i]
		if !nsExists(n.Name) {
			continue
		}
		if !owned(st, n.Name) {
			// Someone made a new namespace under our old name: not ours.
			continue
		}
		if err := deleteNS(n.Name); err != nil {
			errs = append(errs, err)
		}
	}
	if err := removeKubeDir(o, st); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, removeFiles(o, st.Files)...)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	d, err := o.stateDir(false)
	if errors.As(err, new(errNoDir)) {
		return nil
	}
	if err != nil {
		return err
	}
	defer d.Close()
	return d.remove(o.stateName())
}

// removeFiles removes the files the sandbox recorded, each inside its
// checked file directory and never through a symlink, then the directory
// if it is empty.
func removeFiles(o Options, files []string) []error {
	if len(files) == 0 {
		// A build stopped before writing any: at most an empty directory
		// to remove, and no reason to refuse a bad one.
		if sd, err := o.stateDir(false); err == nil {
			unix.Unlinkat(sd.fd, o.Prefix, unix.AT_REMOVEDIR)
			sd.Close()
		}
		return nil
	}
	d, err := o.fileDirFD(false)
	if errors.As(err, new(errNoDir)) {
		return nil
	}
	if err != nil {
		return []error{err}
	}
	defer d.Close()
	var errs []error
	for i := len(files) - 1; i >= 0; i-- {
		if !o.inFileDir(files[i]) {
			errs = append(errs, fmt.Errorf("file %q is not in %s", files[i], o.fileDir()))
			continue
		}
		if err := d.remove(filepath.Base(files[i])); err != nil {
			errs = append(errs, err)
		}
	}
	if sd, err := o.stateDir(false); err == nil {
		unix.Unlinkat(sd.fd, o.Prefix, unix.AT_REMOVEDIR) // only if empty
		sd.Close()
	}
	return errs
}

// stateRecorded says whether a state file exists, in a checked state
// directory.
func stateRecorded(o Options) (bool, error) {
	d, err := o.stateDir(false)
	if errors.As(err, new(errNoDir)) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer d.Close()
	var st unix.Stat_t
	err = unix.Fstatat(d.fd, o.stateName(), &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return false, nil
	}
	return true, nil
}

// kernelHasIPIP reports whether this kernel can make IPIP tunnels: the
// module is loaded, built in, or on disk to be loaded.
func kernelHasIPIP() bool {
	if _, err := os.Stat("/sys/module/ipip"); err == nil {
		return true
	}
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	rel := unix.ByteSliceToString(u.Release[:])
	if b, err := os.ReadFile(filepath.Join("/lib/modules", rel, "modules.builtin")); err == nil && strings.Contains(string(b), "/ipip.ko") {
		return true
	}
	m, _ := filepath.Glob(filepath.Join("/lib/modules", rel, "kernel/net/ipv4/ipip.ko*"))
	return len(m) > 0
}
