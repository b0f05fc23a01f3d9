package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"podlab/lab"
	"podlab/lab/cluster"
	"podlab/lab/sandbox"
	"podlab/netview"
)

// source is what every lab gives the commands and the UI.
type source interface {
	Kind() string
	Describe() string
	Collect(ctx context.Context) (*netview.Pair, error)
	Close() error
}

// labFlags are the flags that choose and configure a lab; every command
// that reads a lab shares them.
type labFlags struct {
	lab        string
	kubeconfig string
	context    string
	namespace  string
	selector   string
	pod        string
	hostNetns  string
	podNetns   string
	podIP      string
	ssh        string
	sshConfig  string
	keep       bool
	mode       string
	prefix     string
	stateDir   string
	// asIs: a running sandbox is read as it is, healthy or not, and
	// none is built (podlab check).
	asIs bool
}

func (f *labFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.lab, "lab", "auto", "where the data comes from: auto, cluster, sandbox, netns, recording, replay=FILE")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
	fs.StringVar(&f.context, "context", "", "kubeconfig context to use")
	fs.StringVar(&f.namespace, "namespace", "yaobank", "the pod's namespace")
	fs.StringVar(&f.namespace, "n", "yaobank", "shorthand for --namespace")
	fs.StringVar(&f.selector, "selector", "app=customer", "label selector for the pod")
	fs.StringVar(&f.selector, "l", "app=customer", "shorthand for --selector")
	fs.StringVar(&f.pod, "pod", "", "the pod's name (default: the first Running pod the selector matches)")
	fs.StringVar(&f.hostNetns, "host-netns", "", "network namespace standing in for the node's host namespace (name under /run/netns or path; default: this one)")
	fs.StringVar(&f.podNetns, "pod-netns", "", "with --lab netns: the pod's network namespace (name or path)")
	fs.StringVar(&f.podIP, "pod-ip", "", "with --lab netns: find the pod's namespace from its IP")
	fs.StringVar(&f.ssh, "ssh", "", "with --lab cluster from another machine: ssh destination for the pod's node (default: the node's name, as in 'ssh node1')")
	fs.StringVar(&f.sshConfig, "ssh-config", "", "with --lab cluster: an ssh config file (ssh -F)")
	fs.BoolVar(&f.keep, "keep", false, "with --lab sandbox: leave a sandbox podlab built running on exit")
	// No default here: a running sandbox is used whatever its mode, and
	// only an explicit --mode that differs earns a note.
	fs.StringVar(&f.mode, "mode", "", "with --lab sandbox: dataplane mode when building one: bgp (the default) or vxlan")
	fs.StringVar(&f.prefix, "sandbox-prefix", "podlab", "with --lab sandbox: the sandbox's name prefix")
	fs.StringVar(&f.stateDir, "sandbox-state-dir", "/run/podlab", "with --lab sandbox: where the sandbox's state file lives")
}

// open builds the lab the flags name. note receives one line saying which
// lab was chosen and why, when that was not spelled out.
func (f *labFlags) open(ctx context.Context, note io.Writer) (source, error) {
	kind, arg, _ := strings.Cut(f.lab, "=")
	switch kind {
	case "auto":
		return f.openAuto(ctx, note)
	case "cluster":
		return f.openCluster(ctx)
	case "sandbox":
		return f.openSandbox(ctx, true, note)
	case "netns":
		return f.openNetns(ctx)
	case "recording", "builtin":
		return lab.Builtin()
	case "replay":
		if arg == "" {
			return nil, usageErr("--lab replay needs a file: --lab replay=FILE")
		}
		return lab.OpenReplay(arg)
	default:
		return nil, usageErr("unknown lab %q: use auto, cluster, sandbox, netns, recording or replay=FILE", f.lab)
	}
}

// collectOnce opens the lab, reads it once and closes it: what the
// commands that print or save one moment need.
func (f *labFlags) collectOnce(ctx context.Context, note io.Writer) (source, *netview.Pair, error) {
	src, err := f.open(ctx, note)
	if err != nil {
		return nil, nil, err
	}
	defer src.Close()
	pair, err := src.Collect(ctx)
	if err != nil {
		return nil, nil, err
	}
	return src, pair, nil
}

func (f *labFlags) openCluster(ctx context.Context) (source, error) {
	return cluster.Open(ctx, cluster.Options{
		Kubeconfig: f.kubeconfig,
		Context:    f.context,
		Namespace:  f.namespace,
		Selector:   f.selector,
		Pod:        f.pod,
		HostNetns:  f.hostNetns,
		SSH:        f.ssh,
		SSHConfig:  f.sshConfig,
	})
}

func (f *labFlags) sandboxOptions() sandbox.Options {
	return sandbox.Options{Prefix: f.prefix, StateDir: f.stateDir, Mode: f.mode}
}

func (f *labFlags) openSandbox(ctx context.Context, build bool, note io.Writer) (source, error) {
	mode := strings.ToLower(f.mode)
	switch mode {
	case "", "bgp", "vxlan", "ipip":
	default:
		return nil, usageErr("unknown --mode %q: use bgp or vxlan", f.mode)
	}
	if f.asIs {
		l, problems, err := sandbox.OpenAsIs(f.sandboxOptions())
		for _, p := range problems {
			fmt.Fprintf(note, "podlab: sandbox problem: %s\n", p)
		}
		return l, err
	}
	l, err := sandbox.Open(ctx, f.sandboxOptions(), build)
	if err != nil {
		return nil, err
	}
	l.Keep = f.keep
	if st := l.State(); mode != "" && st.Mode != mode {
		fmt.Fprintf(note, "podlab: sandbox %s is already up in %s mode, not %s: showing it as it is (for %s: sudo podlab sandbox down, then sudo podlab sandbox up --mode %s)\n",
			st.Prefix, st.Mode, mode, mode, mode)
	}
	return l, nil
}

func (f *labFlags) openNetns(ctx context.Context) (source, error) {
	host, err := lab.ParseNSRef(f.hostNetns)
	if err != nil {
		return nil, usageErr("--host-netns: %v", err)
	}
	cfg := lab.NetnsConfig{Host: host}
	switch {
	case f.podNetns != "" && f.podIP != "":
		return nil, usageErr("give --pod-netns or --pod-ip, not both")
	case f.podNetns != "":
		if cfg.Pod, err = lab.ParseNSRef(f.podNetns); err != nil {
			return nil, usageErr("--pod-netns: %v", err)
		}
	case f.podIP != "":
		if cfg.PodIP, err = netip.ParseAddr(f.podIP); err != nil {
			return nil, usageErr("--pod-ip %q is not an IP address", f.podIP)
		}
	default:
		return nil, usageErr("--lab netns needs --pod-netns NAME|PATH or --pod-ip IP")
	}
	return lab.NewNetns(ctx, cfg)
}

// openAuto tries a cluster, then a running sandbox, then the built-in
// recording, and says why it settled where it did.
func (f *labFlags) openAuto(ctx context.Context, note io.Writer) (source, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	c, cerr := f.openCluster(cctx)
	cancel()
	if cerr == nil {
		fmt.Fprintf(note, "podlab: using the cluster: %s\n", c.Describe())
		return c, nil
	}
	s, serr := f.openSandbox(ctx, false, note)
	if serr == nil {
		fmt.Fprintf(note, "podlab: no cluster (%s); using the running sandbox\n", brief(cerr))
		return s, nil
	}
	r, err := lab.Builtin()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(note, "podlab: no cluster (%s) and no sandbox running; showing the built-in recording (for a live lab: sudo podlab sandbox up, or --lab cluster)\n", brief(cerr))
	return r, nil
}

// flagSet is a command's flags and its help text.
type flagSet struct {
	*flag.FlagSet
	help func()
}

// newFlagSet makes a command's flag set: -h prints the help to stdout, and
// a mistake is returned as a one-line usage error rather than printed.
func newFlagSet(name, synopsis string, stdout io.Writer) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	// The flag package calls Usage on every mistake as well as on -h; help
	// is printed by parse, for -h only.
	fs.Usage = func() {}
	return &flagSet{FlagSet: fs, help: func() {
		fmt.Fprintf(stdout, "Usage: %s\n\nFlags:\n", synopsis)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}}
}

// parse parses the command line, mapping mistakes to usage errors.
func (fs *flagSet) parse(args []string) error {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.help()
		return err
	case err != nil:
		return usageErr("%v (run %q for help)", err, helpCmd(fs.Name()))
	case fs.NArg() > 0:
		return usageErr("unexpected argument %q (run %q for help)", fs.Arg(0), helpCmd(fs.Name()))
	}
	return nil
}

func helpCmd(name string) string {
	if name == "podlab" {
		return "podlab -h"
	}
	return "podlab " + name + " -h"
}

// brief is the gist of an error, without the advice that follows it: in
// --lab auto the advice is to pick another lab, which auto just did.
func brief(err error) string {
	s := err.Error()
	for _, sep := range []string{" (", ": "} {
		if i := strings.Index(s, sep); i > 0 {
			s = s[:i]
		}
	}
	return s
}
