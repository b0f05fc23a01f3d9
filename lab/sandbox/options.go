package sandbox

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"

	"podlab/netview"
)

// Options say which sandbox to build or act on.
type Options struct {
	// Prefix names every namespace and file the sandbox makes; default
	// "podlab". Tests use their own so they never meet a student's.
	Prefix string
	// StateDir holds the state file <Prefix>.json and BIRD's files;
	// default /run/podlab.
	StateDir string
	// Mode is the dataplane: bgp (the lesson's), vxlan, or ipip (refused
	// on kernels without IPIP).
	Mode netview.Mode
	// Borrowed adds a pod on node2 with an address from node1's block.
	Borrowed bool
	// StaticRoutes skips BIRD: the block routes are written by podlab,
	// marked proto bird, and the state says so.
	StaticRoutes bool
	// IPv6 makes the sandbox dual-stack: pods get an IPv6 address too,
	// from /122 blocks, routed between nodes over IPv6 BGP sessions.
	IPv6 bool
	// ControlPlane makes the control node a control-plane node: no pods
	// of the lesson's run there, but it keeps its block, which BIRD
	// blackholes with no pod route under it.
	ControlPlane bool
	// Host1 adds host1 in a namespace of its own on the fabric, with a
	// BIRD as the course's host1 runs, peered with every node; the
	// nodes advertise the service cluster IP range to it, which host1
	// then routes over every node (ECMP).
	Host1 bool
	// ExternalPool adds a second IP pool with /29 blocks and a namespace
	// whose pods take their addresses from it, one on each node that runs
	// pods; the nodes' BIRDs announce their /29s with their other blocks.
	ExternalPool bool
	// Actions are what `sandbox apply` would apply, done at build time:
	// the lesson's end state at once (up --pack). --host1 and
	// --external-pool stand for theirs.
	Actions []Action
	// Kube runs the real kube-apiserver (on etcd) and a kube-proxy per
	// node, in KubeProxyMode (iptables by default, or nftables), with
	// the binaries from KubeBin (else PATH): see kube.go.
	Kube          bool
	KubeProxyMode string
	KubeBin       string
}

// Defaults.
const (
	DefaultPrefix   = "podlab"
	DefaultStateDir = "/run/podlab"
	DefaultMode     = netview.ModeBGP
)

var prefixRE = regexp.MustCompile(`^[a-z][a-z0-9]{0,15}$`)

func (o Options) withDefaults() Options {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.StateDir == "" {
		o.StateDir = DefaultStateDir
	}
	// BIRD's command line and the state file name files by absolute path.
	if abs, err := filepath.Abs(o.StateDir); err == nil {
		o.StateDir = abs
	}
	if o.Mode == "" {
		o.Mode = DefaultMode
	}
	return o
}

// checked is o with its defaults, and an error if it is not valid.
func (o Options) checked() (Options, error) {
	o = o.withDefaults()
	if !prefixRE.MatchString(o.Prefix) {
		return o, fmt.Errorf("bad prefix %q: use 1-16 lower-case letters and digits, starting with a letter", o.Prefix)
	}
	m, err := netview.ParseMode(string(o.Mode))
	if err != nil {
		return o, err
	}
	o.Mode = m
	if o.Host1 && o.StaticRoutes {
		return o, errors.New("--host1 peers host1 with the nodes' BIRDs: drop --static-routes, or --host1")
	}
	if o.ExternalPool && (o.Mode != netview.ModeBGP || o.StaticRoutes || o.IPv6) {
		return o, errors.New("the sandbox builds --external-pool in bgp mode with BIRD, IPv4 only: drop --mode, --static-routes and --ipv6, or --external-pool")
	}
	o = o.withActions()
	if err := checkActions(o.Actions, o.Mode, o.StaticRoutes, o.IPv6); err != nil {
		return o, err
	}
	if o.KubeProxyMode != "" && o.KubeProxyMode != ProxyIPTables && o.KubeProxyMode != ProxyNFTables {
		return o, fmt.Errorf("kube-proxy mode %q: use iptables or nftables", o.KubeProxyMode)
	}
	if o.KubeProxyMode != "" && !o.Kube {
		return o, errors.New("--kube-proxy-mode is for a sandbox with --kube: add --kube")
	}
	if o.IPv6 && (o.Mode != netview.ModeBGP || o.StaticRoutes) {
		return o, errors.New("the sandbox builds --ipv6 in bgp mode with BIRD only: drop --mode and --static-routes, or --ipv6")
	}
	return o, nil
}

func (o Options) statePath() string { return filepath.Join(o.StateDir, o.Prefix+".json") }
func (o Options) lockPath() string  { return filepath.Join(o.StateDir, o.Prefix+".lock") }
func (o Options) fileDir() string   { return filepath.Join(o.StateDir, o.Prefix) }
func (o Options) stateName() string { return o.Prefix + ".json" }
