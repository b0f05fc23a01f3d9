package cli

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/tools/clientcmd"

	"podlab/content"
	"podlab/lab"
	"podlab/lab/cluster"
	"podlab/lab/replay"
	"podlab/lab/sandbox"
	"podlab/netview"
	"podlab/sudo"
)

// source is what every lab gives the commands and the UI.
type source interface {
	Kind() string
	Describe() string
	Collect(ctx context.Context) (*netview.Pair, error)
	Close() error
}

// labFlags are the flags that choose and configure a lab; every command
// that reads a lab shares them. The kubeconfig flags are kubectl's own.
type labFlags struct {
	rules     *clientcmd.ClientConfigLoadingRules
	overrides *clientcmd.ConfigOverrides
	lab       string
	selector  string
	pod       string
	hostNetns string
	podNetns  string
	podIP     string
	ssh       string
	sshConfig string
	keep      bool
	mode      string
	ifPrefix  string
	sandbox   sandboxFlags
	// asIs: a running sandbox is read as it is, healthy or not, and none
	// is built (podlab check).
	asIs bool
	// pack is the lesson pack the lab is for: a lab it does not run on,
	// or whose readers it lacks, is refused before it is opened (or
	// built). nil takes any.
	pack *content.Pack
}

// sandboxFlags name a sandbox: the same two flags in the lab flags and in
// `podlab sandbox`.
type sandboxFlags struct {
	prefix   string
	stateDir string
}

func (f *sandboxFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.prefix, "sandbox-prefix", sandbox.DefaultPrefix, "the sandbox's name prefix (of its namespaces and files)")
	fs.StringVar(&f.stateDir, "sandbox-state-dir", sandbox.DefaultStateDir, "where the sandbox's state file and BIRD's files live")
}

// labNames are --lab's values, for its help and shell completion.
var labNames = []string{"auto", "cluster", "sandbox", "netns", "recording", "replay="}

func (f *labFlags) register(c *cobra.Command) {
	fs := c.Flags()
	fs.StringVar(&f.lab, "lab", "auto", "where the data comes from: auto, cluster, sandbox, netns, recording, replay=FILE")
	fs.StringVarP(&f.selector, "selector", "l", netview.DefaultSelector, "with --lab cluster or sandbox: label selector for the pod")
	fs.StringVar(&f.pod, "pod", "", "with --lab cluster or sandbox: the pod's name (default: the first Running pod the selector matches)")
	fs.StringVar(&f.hostNetns, "host-netns", "", "network namespace standing in for the node's host namespace (name under /run/netns or path; default: this one)")
	fs.StringVar(&f.podNetns, "pod-netns", "", "with --lab netns: the pod's network namespace (name or path)")
	fs.StringVar(&f.podIP, "pod-ip", "", "with --lab netns: find the pod's namespace from its IP")
	fs.StringVar(&f.ssh, "ssh", "", "with --lab cluster from another machine: ssh destination for the pod's node (default: the node's name, as in 'ssh node1')")
	fs.StringVar(&f.sshConfig, "ssh-config", "", "with --lab cluster: an ssh config file (ssh -F)")
	fs.BoolVar(&f.keep, "keep", false, "with --lab sandbox: leave a sandbox podlab built running on exit")
	// No default here: a running sandbox is used whatever its mode, and
	// only an explicit --mode that differs earns a note.
	fs.StringVar(&f.mode, "mode", "", "with --lab sandbox: dataplane mode when building one: "+netview.ModeChoices()+" (default "+string(sandbox.DefaultMode)+")")
	fs.StringVar(&f.ifPrefix, "interface-prefix", "", "with --lab cluster or netns: Felix's workload interface prefix, e.g. tap (default: FelixConfiguration default's, else "+netview.DefaultInterfacePrefix+")")
	f.sandbox.register(fs)
	setGroup(fs, groupLab, "lab", "selector", "pod", "host-netns", "pod-netns", "pod-ip", "ssh", "ssh-config", "keep", "mode", "interface-prefix", "sandbox-prefix", "sandbox-state-dir")

	// kubectl's flags, with kubectl's names, meanings and kubeconfig
	// rules (client-go's, which kubectl's own flags wrap); only the
	// namespace has the lesson's default.
	f.rules = clientcmd.NewDefaultClientConfigLoadingRules()
	f.overrides = &clientcmd.ConfigOverrides{}
	kfs := pflag.NewFlagSet("kube", pflag.ContinueOnError)
	kfs.StringVar(&f.rules.ExplicitPath, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
	clientcmd.BindOverrideFlags(f.overrides, kfs, clientcmd.RecommendedConfigOverrideFlags(""))
	ns := kfs.Lookup("namespace")
	ns.Usage = "with --lab cluster or sandbox: the pod's namespace"
	ns.DefValue = netview.DefaultNamespace
	_ = ns.Value.Set(netview.DefaultNamespace)
	kfs.VisitAll(func(fl *pflag.Flag) {
		// kubectl dropped basic authentication; so does podlab.
		if fl.Name == "username" || fl.Name == "password" {
			return
		}
		fs.AddFlag(fl)
		setGroup(fs, groupKube, fl.Name)
	})

	_ = c.RegisterFlagCompletionFunc("lab", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return labNames, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	})
	_ = c.RegisterFlagCompletionFunc("mode", cobra.FixedCompletions(netview.ModeNames(), cobra.ShellCompDirectiveNoFileComp))
}

// wanter is a lab that reads what a pack wants beyond the pod and its
// node when told.
type wanter interface{ Want(netview.Wants) }

// open builds the lab the flags name, reading what the pack wants. note
// receives one line saying which lab was chosen and why, when that was
// not spelled out.
func (f *labFlags) open(ctx context.Context, note io.Writer) (source, error) {
	src, err := f.openLab(ctx, note)
	if err == nil && f.pack != nil {
		if w, ok := src.(wanter); ok {
			w.Want(f.pack.Wants())
		}
	}
	return src, err
}

func (f *labFlags) openLab(ctx context.Context, note io.Writer) (source, error) {
	if f.ifPrefix != "" && !netview.ValidInterfacePrefix(f.ifPrefix) {
		return nil, usageErr("--interface-prefix %q is not an interface prefix: give the start of the host ends' names, e.g. cali or tap", f.ifPrefix)
	}
	if err := f.suitsPack(); err != nil {
		return nil, err
	}
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
		return replay.Builtin()
	case "replay":
		if arg == "" {
			return nil, usageErr("--lab replay needs a file: --lab replay=FILE")
		}
		return replay.Open(arg, openAsInvoker)
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
	// Every lab sanitises what it produces; this pass (which changes
	// nothing then) keeps show and record safe from one that does not.
	pair.Sanitize()
	return src, pair, nil
}

func (f *labFlags) openCluster(ctx context.Context) (source, error) {
	timeout, err := f.requestTimeout()
	if err != nil {
		return nil, err
	}
	as, err := sudo.Invoker()
	if err != nil {
		return nil, err
	}
	return cluster.Open(ctx, cluster.Options{
		Invoker:      as,
		ClientConfig: clientcmd.NewNonInteractiveDeferredLoadingClientConfig(f.rules, f.overrides),
		Kubeconfig:   f.rules.ExplicitPath,
		Context:      f.overrides.CurrentContext,
		Namespace:    f.overrides.Context.Namespace,
		Timeout:      timeout,
		Selector:     f.selector,
		Pod:          f.pod,
		HostNetns:    f.hostNetns,
		SSH:          f.ssh,
		SSHConfig:    f.sshConfig,
		// Felix's, as the flag gives it; else the cluster's own.
		InterfacePrefix: f.ifPrefix,
	})
}

func (f *labFlags) sandboxOptions() sandbox.Options {
	return sandbox.Options{Prefix: f.sandbox.prefix, StateDir: f.sandbox.stateDir, Mode: netview.Mode(f.mode)}
}

func (f *labFlags) openSandbox(ctx context.Context, build bool, note io.Writer) (source, error) {
	var mode netview.Mode
	if f.mode != "" {
		m, err := netview.ParseMode(f.mode)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		mode = m
	}
	if f.asIs {
		l, problems, err := sandbox.OpenAsIs(f.sandboxOptions())
		for _, p := range problems {
			fmt.Fprintf(note, "podlab: sandbox problem: %s\n", netview.Clean(p))
		}
		if err != nil {
			return nil, err
		}
		return l, f.choose(l)
	}
	l, err := sandbox.Open(ctx, f.sandboxOptions(), build)
	if err != nil {
		return nil, err
	}
	if err := f.choose(l); err != nil {
		l.Close()
		return nil, err
	}
	l.Keep = f.keep
	if st := l.State(); mode != "" && st.Mode != mode {
		fmt.Fprintf(note, "podlab: sandbox %s is already up in %s mode, not %s: showing it as it is (for %s: sudo podlab sandbox down, then sudo podlab sandbox up --mode %s)\n",
			st.Prefix, st.Mode, mode, mode, mode)
	}
	return l, nil
}

// choose has the sandbox show the pod -n, -l and --pod name, found by
// label unless --pod is given, as in a cluster.
func (f *labFlags) choose(l *sandbox.Lab) error {
	if err := l.Choose(f.overrides.Context.Namespace, f.selector, f.pod); err != nil {
		return usageErr("%v", err)
	}
	return nil
}

func (f *labFlags) openNetns(ctx context.Context) (source, error) {
	host, err := lab.ParseNSRef(f.hostNetns)
	if err != nil {
		return nil, usageErr("--host-netns: %v", err)
	}
	cfg := lab.NetnsConfig{Host: host, InterfacePrefix: f.ifPrefix}
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
	n, err := lab.NewNetns(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &netnsLab{Netns: n, host: host}, nil
}

// openAuto tries a cluster, then a running sandbox, then the built-in
// recording, and says why it settled where it did.
func (f *labFlags) openAuto(ctx context.Context, note io.Writer) (source, error) {
	// A pack that does not run on a lab kind has auto pass it by.
	cerr := f.suits("cluster")
	if cerr == nil {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		var c source
		c, cerr = f.openCluster(cctx)
		cancel()
		if cerr == nil {
			fmt.Fprintf(note, "podlab: using the cluster: %s\n", c.Describe())
			return c, nil
		}
	}
	serr := f.suits("sandbox")
	if serr == nil {
		var s source
		if s, serr = f.openSandbox(ctx, false, note); serr == nil {
			fmt.Fprintf(note, "podlab: no cluster (%s); using the running sandbox\n", brief(cerr))
			return s, nil
		}
	}
	if err := f.suits("recording"); err != nil {
		return nil, fmt.Errorf("no lab pack %s runs on: no cluster (%s), no sandbox (%s), and %w", f.pack.ID(), brief(cerr), brief(serr), err)
	}
	r, err := replay.Builtin()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(note, "podlab: no cluster (%s) and no sandbox running; showing the built-in recording (for a live lab: sudo podlab sandbox up, or --lab cluster)\n", brief(cerr))
	return r, nil
}

// packLabKinds are the lab kinds a pack names (labs: in pack.yaml) for
// each --lab: the namespaces of --lab netns are read as a sandbox's are,
// and the built-in recording is a replay.
var packLabKinds = map[string]string{
	"cluster": "cluster", "sandbox": "sandbox", "netns": "sandbox",
	"recording": "replay", "builtin": "replay", "replay": "replay",
}

// labReaders are the readers each lab kind has. Every lab reads links,
// addresses, routes and neighbours through netlink (or ip -j, its
// words); a cluster and a sandbox also read BIRD, the NAT rules and
// the cluster's objects. A recording holds only what netlink read.
var labReaders = map[string][]string{
	"cluster": {"netlink", "bird", "nat", "resources"},
	"sandbox": {"netlink", "bird", "nat", "resources"},
	"replay":  {"netlink"},
}

// suitsPack says why the pack cannot run on the lab --lab names; auto
// passes by the kinds it cannot run on.
func (f *labFlags) suitsPack() error {
	kind, _, _ := strings.Cut(f.lab, "=")
	if kind == "auto" {
		return nil
	}
	return f.suits(kind)
}

// suits says why the pack cannot run on the lab kind --lab names (nil
// when it can, or when there is no pack).
func (f *labFlags) suits(lab string) error {
	kind, ok := packLabKinds[lab]
	if f.pack == nil || !ok {
		return nil // an unknown --lab is open's to refuse
	}
	if !slices.Contains(f.pack.Labs, kind) {
		return fmt.Errorf("pack %s does not run on a %s lab (--lab %s): it runs on %s", f.pack.ID(), kind, lab, strings.Join(f.pack.Labs, ", "))
	}
	for _, r := range f.pack.Readers {
		if !slices.Contains(labReaders[kind], r) {
			return fmt.Errorf("pack %s needs the %s reader, which a %s lab does not have (it reads %s)", f.pack.ID(), netview.Clean(r), kind, strings.Join(labReaders[kind], ", "))
		}
	}
	return nil
}

// requestTimeout is --request-timeout as kubectl reads it: a duration,
// or a bare number of seconds; 0 (the default) leaves podlab's own bound.
func (f *labFlags) requestTimeout() (time.Duration, error) {
	v := strings.TrimSpace(f.overrides.Timeout)
	if v == "" || v == "0" {
		return 0, nil
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, usageErr("--request-timeout %q is not a duration: use e.g. 10s or 1m", v)
	}
	return d, nil
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

// openAsInvoker opens a file the user named, with their rights when they
// ran podlab under sudo: a recording is theirs to read, not root's.
func openAsInvoker(path string) (*os.File, error) {
	as, err := sudo.Invoker()
	if err != nil {
		return nil, err
	}
	var f *os.File
	err = as.Do(func() error {
		var err error
		f, err = os.Open(path)
		return err
	})
	return f, err
}
