// Package cluster is podlab's lab on a real Kubernetes cluster: it asks the
// API server which pod to show and what names the node's routes lead to,
// and collects the pod's and the node's network namespaces either here (on
// the pod's node, as root), or from elsewhere through the Kubernetes exec
// API and ssh.
package cluster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"podlab/lab"
	"podlab/netview"
	"podlab/sudo"
)

// Defaults: the lesson's customer pod.
const (
	defaultNamespace = netview.DefaultNamespace
	defaultSelector  = netview.DefaultSelector
	defaultTimeout   = 10 * time.Second
)

// Options say which cluster and pod to show, and how to reach its node.
type Options struct {
	// Kubeconfig is --kubeconfig; empty means $KUBECONFIG, ~/.kube/config,
	// then the in-cluster configuration.
	Kubeconfig string
	// Context is --context; empty means the kubeconfig's current context.
	Context string
	// ClientConfig, when set, is used in place of loading Kubeconfig and
	// Context (which still name them in errors): kubectl's flags give one
	// with all their overrides (--cluster, --user, --as, ...).
	ClientConfig clientcmd.ClientConfig
	// Namespace and Selector pick the pod (defaults yaobank, app=customer);
	// Pod names it outright.
	Namespace string
	Selector  string
	Pod       string
	// HostNetns is a named namespace (or a path) standing in for the
	// node's host namespace; giving it means "collect here, as the node".
	HostNetns string
	// SSH is the ssh destination for the node ([user@]host); the node's
	// name by default, as in the lesson's `ssh node1`.
	SSH string
	// SSHConfig is passed to ssh as -F when set.
	SSHConfig string
	// RemotePodlab is the podlab command to try on the node ("podlab").
	RemotePodlab string
	// InterfacePrefix is Felix's workload interface prefix, as
	// --interface-prefix gives it; empty: FelixConfiguration default's,
	// when it can be read, else Felix's default.
	InterfacePrefix string
	// Timeout bounds each API request and each ssh or exec round.
	Timeout time.Duration
	// Host1Imports are host1's BIRD import filter's prefix patterns
	// ("198.19.24.0/21+"), which the cluster cannot tell: they explain
	// which ranges host1 learns. None given, host1's analysis says its
	// BIRD imports none of them.
	Host1Imports []string
	// Invoker is who ran podlab under sudo (nil otherwise): the
	// kubeconfig and the files it names are theirs, read with their
	// rights, and nothing they configure is run as root.
	Invoker *sudo.User
}

func (o *Options) setDefaults() {
	if o.Namespace == "" {
		o.Namespace = defaultNamespace
	}
	if o.Selector == "" {
		o.Selector = defaultSelector
	}
	if o.RemotePodlab == "" {
		o.RemotePodlab = "podlab"
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
}

// Where says where a cluster lab collects from.
type Where string

const (
	// OnNode: this machine is the pod's node (or HostNetns stands in for
	// it) and we are root: netlink in both namespaces.
	OnNode Where = "node"
	// OnNodeNoRoot: this machine is the pod's node but we are not root:
	// the host namespace by netlink, the pod through the exec API.
	OnNodeNoRoot Where = "node-exec"
	// Remote: elsewhere (host1): the pod through the exec API, the node
	// over ssh.
	Remote Where = "remote"
)

// Lab is a pod on a real cluster.
type Lab struct {
	opts    Options
	config  *rest.Config
	client  *coreClient
	context string
	server  string
	facts   netview.Facts
	notes   []string
	where   Where
	// container is the one exec runs in.
	container string
	// mu guards how, podRef, notes and wants: Describe and Want may run
	// while Collect does.
	mu sync.Mutex
	// wants are what the lesson reads beyond the pair.
	wants netview.Wants
	// res reads the cluster's objects, made on the first Collect that
	// wants them.
	resOnce sync.Once
	res     *Resources
	resErr  error
	// how says, after a Collect, which way each side was read.
	how string
	// podRef is the pod's namespace, once found on the node.
	podRef lab.NSRef
	// kept keeps the node's and the pod's snapshots current from their
	// notifications while Changes watches on the node.
	kept lab.Kept
	// borrowMu guards what nameBorrowed learned about remote /32s.
	borrowMu     sync.Mutex
	borrowed     map[netip.Addr]borrowedPod
	borrowDenied bool
}

// Open reads the kubeconfig, finds the pod and what names its node's
// routes, and decides where to collect from. Its errors are one line
// saying what to do.
func Open(ctx context.Context, opts Options) (*Lab, error) {
	opts.setDefaults()
	if opts.Invoker != nil && opts.SSHConfig != "" {
		// ssh would read it as root and run its ProxyCommand, Match exec...
		return nil, &Error{Msg: fmt.Sprintf("under sudo, --ssh-config is refused: ssh would run what %s says as root; run podlab without sudo to use it (from host1 podlab needs no sudo)", opts.SSHConfig)}
	}
	config, contextName, server, err := connect(opts)
	if err != nil {
		return nil, err
	}
	client, err := newCoreClient(config)
	if err != nil {
		return nil, errorf(err, "cannot use the kubeconfig's cluster %s: %s", server, netview.FirstLine(strings.ReplaceAll(err.Error(), config.Host, server)))
	}
	d := &discovery{client: client, server: server, opts: opts}
	facts, err := d.facts(ctx)
	if err != nil {
		return nil, err
	}
	l := &Lab{
		opts: opts, config: config, client: client,
		context: contextName, server: server,
		facts: facts, notes: d.notes, container: d.container,
	}
	l.where = l.decideWhere()
	if l.where == Remote {
		if _, err := l.sshTarget(); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// connect loads the client's configuration, under sudo with the
// invoking user's rights; server is its URL as errors may print it.
func connect(opts Options) (config *rest.Config, contextName, server string, err error) {
	err = opts.Invoker.Do(func() error {
		var err error
		config, contextName, err = loadConfig(opts)
		if err == nil && opts.Invoker != nil {
			err = ownCredentials(config, opts.Invoker)
		}
		return err
	})
	if err != nil {
		return nil, "", "", err
	}
	config.Timeout = opts.Timeout
	config.WarningHandler = rest.NoWarnings{}
	// The server's URL is printed in errors: never with a password in it
	// (a --server of https://user:password@host).
	return config, contextName, netview.RedactURL(config.Host), nil
}

// client-go's own log lines (klog) go nowhere: podlab words every failure
// itself in one line, and client-go's lines on stderr (a torn-down exec
// stream logs several) would draw over the terminal UI. klog's logger may
// only be set while nothing logs, so it is set before main runs.
func init() { klog.SetLogger(logr.Discard()) }

// ownCredentials, run with the invoking user's rights under sudo, refuses
// what a kubeconfig would have root run (an exec credential plugin, an
// auth provider, which may also write the file back) and reads now, as
// that user, every file it names, so that the client never reads one as
// root later (a token file is re-read as it goes, certificates may be).
func ownCredentials(c *rest.Config, u *sudo.User) error {
	if c.ExecProvider != nil {
		return &Error{Msg: fmt.Sprintf("under sudo, the kubeconfig's credential plugin (exec: %s) is refused: it would run as root; run podlab without sudo (from host1 it needs none)", c.ExecProvider.Command)}
	}
	if c.AuthProvider != nil {
		return &Error{Msg: fmt.Sprintf("under sudo, the kubeconfig's auth-provider %s is refused: it would run as root; run podlab without sudo (from host1 it needs none)", c.AuthProvider.Name)}
	}
	if err := rest.LoadTLSFiles(c); err != nil {
		return errorf(err, "reading the kubeconfig's certificates as user %s: %s", u.Name, netview.FirstLine(err.Error()))
	}
	c.CAFile, c.CertFile, c.KeyFile = "", "", ""
	if c.BearerTokenFile != "" {
		if c.BearerToken == "" {
			b, err := os.ReadFile(c.BearerTokenFile)
			if err != nil {
				return errorf(err, "reading the kubeconfig's token file as user %s: %s", u.Name, netview.FirstLine(err.Error()))
			}
			c.BearerToken = strings.TrimSpace(string(b))
		}
		c.BearerTokenFile = ""
	}
	return nil
}

// loadConfig applies client-go's usual loading rules.
func loadConfig(opts Options) (*rest.Config, string, error) {
	if opts.Kubeconfig != "" {
		if _, err := os.Stat(opts.Kubeconfig); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, "", errorf(err, "kubeconfig %s not found: check --kubeconfig", opts.Kubeconfig)
			}
			return nil, "", errorf(err, "cannot read kubeconfig %s: %s", opts.Kubeconfig, netview.FirstLine(err.Error()))
		}
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = opts.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: opts.Context}
	cc := opts.ClientConfig
	if cc == nil {
		cc = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	}
	wrongContext := func(err error) error {
		return errorf(err, "context %q is not in the kubeconfig: list them with kubectl config get-contexts and pass one with --context", opts.Context)
	}
	if opts.Context != "" {
		if raw, err := cc.RawConfig(); err == nil && len(raw.Contexts) > 0 && raw.Contexts[opts.Context] == nil {
			return nil, "", wrongContext(nil)
		}
	}
	config, err := cc.ClientConfig()
	switch {
	case err == nil:
	case clientcmd.IsContextNotFound(err) || (opts.Context != "" && strings.Contains(err.Error(), fmt.Sprintf("context %q does not exist", opts.Context))):
		return nil, "", wrongContext(err)
	case clientcmd.IsEmptyConfig(err):
		return nil, "", errorf(err, "no kubeconfig found (--kubeconfig, $KUBECONFIG, ~/.kube/config, in-cluster): point --kubeconfig at your cluster's, or use --lab sandbox")
	default:
		return nil, "", errorf(err, "the kubeconfig is not usable: %s: check --kubeconfig and --context", netview.FirstLine(err.Error()))
	}
	name := opts.Context
	if name == "" {
		if raw, err := cc.RawConfig(); err == nil {
			name = raw.CurrentContext
		}
	}
	if name == "" {
		name = "in-cluster"
	}
	return config, name, nil
}

// decideWhere: HostNetns means "this is the node"; otherwise this machine
// is the node when its hostname or one of its addresses says so.
// Without root on the node, the host namespace (our own) can still be
// read, but not one named by HostNetns: that case stays OnNode and its
// Collect says root is needed.
func (l *Lab) decideWhere() Where {
	switch {
	case l.opts.HostNetns != "":
		return OnNode
	case !l.isThisNode():
		return Remote
	case os.Geteuid() == 0:
		return OnNode
	}
	return OnNodeNoRoot
}

func (l *Lab) isThisNode() bool {
	if h, err := os.Hostname(); err == nil {
		short, _, _ := strings.Cut(h, ".")
		if h == l.facts.Node || short == l.facts.Node {
			return true
		}
	}
	want := l.nodeIP()
	if !want.IsValid() {
		return false
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap() == want {
				return true
			}
		}
	}
	return false
}

// nodeIP is the pod's node's InternalIP, when known.
func (l *Lab) nodeIP() netip.Addr {
	for _, n := range l.facts.Nodes {
		if n.Name == l.facts.Node {
			return n.InternalIP
		}
	}
	return netip.Addr{}
}

// Kind is "cluster".
func (l *Lab) Kind() string { return "cluster" }

// Facts are what the API server said about the pod and its neighbours.
func (l *Lab) Facts() netview.Facts { return l.facts }

// Where says where the lab collects from.
func (l *Lab) Where() Where { return l.where }

// Describe says, in one line, which pod on which cluster, how it is
// collected, and what could not be learned.
func (l *Lab) Describe() string {
	p := l.facts.Pod
	var b strings.Builder
	fmt.Fprintf(&b, "cluster %s: %s/%s (%s) on %s; ", l.context, p.Namespace, p.Name, p.IP, l.facts.Node)
	l.mu.Lock()
	how := l.how
	notes := l.notes[:len(l.notes):len(l.notes)]
	l.mu.Unlock()
	if how == "" {
		how = l.plan()
	}
	b.WriteString(how)
	for _, n := range notes {
		b.WriteString("; ")
		b.WriteString(n)
	}
	return netview.Clean(b.String()) // names from the API server and ssh
}

// plan words the collecting path before the first Collect.
func (l *Lab) plan() string {
	switch l.where {
	case OnNode:
		if l.opts.HostNetns != "" {
			return fmt.Sprintf("collecting here as root, host namespace %s standing in for %s", l.opts.HostNetns, l.facts.Node)
		}
		return fmt.Sprintf("collecting here on %s as root", l.facts.Node)
	case OnNodeNoRoot:
		return fmt.Sprintf("on %s without root: host namespace here, pod through the exec API (run with sudo to read the pod's namespace directly)", l.facts.Node)
	}
	return fmt.Sprintf("from elsewhere: over ssh %s (podlab collect there, else ip -j and the pod through the exec API)", l.sshDest())
}

// sshDest is the ssh destination as given: --ssh, or the node's name.
func (l *Lab) sshDest() string {
	if l.opts.SSH != "" {
		return l.opts.SSH
	}
	return l.facts.Node
}

// sshTarget is sshDest once checked: a node name that is no DNS name, or
// that starts with "-", must never reach ssh's command line.
func (l *Lab) sshTarget() (string, error) {
	if l.opts.SSH != "" {
		if err := checkSSHDest(l.opts.SSH); err != nil {
			return "", errorf(err, "--ssh %q: %v: give [user@]host", l.opts.SSH, err)
		}
		return l.opts.SSH, nil
	}
	if err := checkNodeName(l.facts.Node); err != nil {
		return "", errorf(err, "the API server names the pod's node %q, %v: give its address with --ssh, or run podlab on the node with sudo", l.facts.Node, err)
	}
	return l.facts.Node, nil
}

// sshTimeout bounds one ssh round to the node, which runs podlab collect
// (itself bounded by collectTimeout there) or ip -j: three requests' worth.
func (o Options) sshTimeout() time.Duration { return 3 * o.Timeout }

// CollectTimeout is how long one Collect may take: the ssh round, the exec
// into the pod, and a request naming borrowed addresses. A caller that
// bounds a collection (the lesson's screen) waits this long, so it never
// gives up on a round still within its own bound, what the lesson wants
// beyond the pair included.
func (l *Lab) CollectTimeout() time.Duration {
	d := l.opts.sshTimeout() + 2*l.opts.Timeout
	if l.wanted().Any() {
		// The node's parts read here, then the cluster's objects: each
		// within one request's worth.
		d += 2 * l.opts.Timeout
	}
	return d
}

// Collect takes a fresh snapshot of the pod's namespace and its node's
// host namespace, named by the facts read at Open.
func (l *Lab) Collect(ctx context.Context) (*netview.Pair, error) {
	var (
		pair *netview.Pair
		how  string
		err  error
	)
	switch l.where {
	case OnNode:
		pair, how, err = l.collectNode(ctx)
	case OnNodeNoRoot:
		pair, how, err = l.collectNodeNoRoot(ctx)
	default:
		pair, how, err = l.collectRemote(ctx)
	}
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.how = how
	l.mu.Unlock()
	pair.Facts = l.facts
	// A node that has learned no route yet is in BGP mode all the same.
	pair.Facts.Mode = cmp.Or(netview.InferMode(&pair.Host), netview.ModeBGP)
	l.nameBorrowed(ctx, pair)
	// The facts hold names from the API server (borrowed addresses
	// named too); the snapshots are clean.
	pair.Facts.Sanitize()
	pair.Extra = l.extra(ctx, pair.Extra)
	return pair, nil
}

// collectRemote: podlab collect on the node over ssh gives both sides;
// without it, ip -j over ssh gives the host and exec the pod.
func (l *Lab) collectRemote(ctx context.Context) (*netview.Pair, string, error) {
	target := l.sshDest()
	res, err := l.sshNode(ctx)
	if err != nil {
		return nil, "", err
	}
	if res.collected != nil {
		c := res.collected
		return &netview.Pair{Host: c.Host, Pod: c.Pod, Extra: l.remoteParts(c.Bird, c.NAT, c.Unread, res.extraNote)},
			fmt.Sprintf("collected on %s by podlab collect over ssh %s", l.facts.Node, target), nil
	}
	pod, err := l.execPod(ctx)
	if err != nil {
		return nil, "", err
	}
	why := collectNoteAdvice(res.note, l.opts.RemotePodlab)
	if why == "" {
		why = "podlab is not installed there"
	}
	return &netview.Pair{Host: *res.host, Pod: *pod, Extra: l.remoteParts(nil, nil, nil, cmp.Or(res.extraNote, why))},
		fmt.Sprintf("pod through the exec API, host over ssh %s with ip -j (%s)", target, why), nil
}

// Close releases nothing today: every request and ssh session ends with
// its call.
func (l *Lab) Close() error {
	l.kept.Close()
	return nil
}
