package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"podlab/netview"

	"golang.org/x/sys/unix"
)

// Phases of a sandbox's life in its state file.
const (
	PhaseBuilding = "building"
	PhaseUp       = "up"
)

// State is what a sandbox created, as recorded in its state file. Each
// item is recorded before it is created, so a sandbox killed half-way
// still lists everything that may exist.
type State struct {
	Prefix       string       `json:"prefix"`
	Mode         netview.Mode `json:"mode"`
	Borrowed     bool         `json:"borrowed,omitempty"`
	StaticRoutes bool         `json:"static_routes"`
	IPv6         bool         `json:"ipv6,omitempty"`
	ControlPlane bool         `json:"control_plane,omitempty"`
	Host1        bool         `json:"host1,omitempty"`
	ExternalPool bool         `json:"external_pool,omitempty"`
	// Actions are the actions applied, in order (host1 and the external
	// pool among them, when ExternalPool and Host1 say so).
	Actions []Action `json:"actions,omitempty"`
	// Phase is "building" until every step and BGP convergence are done,
	// then "up".
	Phase     string    `json:"phase"`
	StartedAt time.Time `json:"started_at"`
	UpAt      time.Time `json:"up_at,omitzero"`
	// ConvergedMS is how long routing took to converge after BIRD started
	// (which is before the pods are wired).
	ConvergedMS int64       `json:"converged_ms,omitempty"`
	Namespaces  []NSRecord  `json:"namespaces"`
	Links       []LinkRec   `json:"links"`
	Processes   []Process   `json:"processes,omitempty"`
	Files       []string    `json:"files,omitempty"`
	Nodes       []NodeInfo  `json:"nodes"`
	Pods        []PodInfo   `json:"pods"`
	Routes      []RouteInfo `json:"routes,omitempty"`
	// Kube is what --kube started; nil without it.
	Kube *KubeInfo `json:"kube,omitempty"`
	// Problems is filled by Status: what is wrong with it now (a
	// namespace gone, a BIRD stopped); empty when healthy.
	Problems []string `json:"-"`
}

// NSRecord is one namespace the sandbox created.
type NSRecord struct {
	Name string `json:"name"`
	Role string `json:"role"` // fabric, node, pod, host1
	// Owner is the node's name, or the pod's "<namespace>/<name>".
	Owner string `json:"owner"`
	// Inode identifies the namespace; Down deletes a name only while it
	// still points at this namespace. Zero if the sandbox was stopped
	// between recording and creating it.
	Inode uint64 `json:"inode,omitempty"`
}

// LinkRec is one link the sandbox created; deleting its namespace
// removes it.
type LinkRec struct {
	NS    string `json:"ns"`
	Name  string `json:"name"`
	Index int    `json:"index,omitempty"`
	Kind  string `json:"kind"`
	// Peer is the other end of a veth as "<ns>/<name>".
	Peer string `json:"peer,omitempty"`
}

// Process is one process the sandbox started (a BIRD per node, and
// host1's with --host1).
type Process struct {
	// Node is the node the BIRD runs on, or "host1".
	Node    string   `json:"node"`
	NS      string   `json:"ns"`
	Pid     int      `json:"pid,omitempty"`
	Cmdline []string `json:"cmdline"`
	PidFile string   `json:"pid_file"`
	Log     string   `json:"log"`
	Socket  string   `json:"socket"`
}

// NodeInfo is one node of the sandbox.
type NodeInfo struct {
	Name    string       `json:"name"`
	NS      string       `json:"ns"`
	IP      netip.Addr   `json:"ip"`
	Block   netip.Prefix `json:"block"`
	VTEP    netip.Addr   `json:"vtep,omitzero"`
	VTEPMAC string       `json:"vtep_mac,omitempty"`
	// IP6 and Block6 are the node's IPv6 address and block (--ipv6).
	IP6    netip.Addr   `json:"ip6,omitzero"`
	Block6 netip.Prefix `json:"block6,omitzero"`
	// ExtBlock is the node's /29 of the external pool (--external-pool),
	// when it runs pods.
	ExtBlock netip.Prefix `json:"external_block,omitzero"`
}

// PodInfo is one pod of the sandbox.
type PodInfo struct {
	Namespace string     `json:"namespace"`
	Name      string     `json:"name"`
	Node      string     `json:"node"`
	IP        netip.Addr `json:"ip"`
	NS        string     `json:"ns"`
	HostIf    string     `json:"host_if"`
	HostIndex int        `json:"host_index,omitempty"`
	PodIndex  int        `json:"pod_index,omitempty"`
	IP6       netip.Addr `json:"ip6,omitzero"` // --ipv6
}

// RouteInfo is a route podlab wrote itself (Felix-style in vxlan mode, or
// the block routes with --static-routes), for the record.
type RouteInfo struct {
	NS    string `json:"ns"`
	Route string `json:"route"`
}

// NodeNS returns the namespace name of a node ("control", "node1",
// "node2"), or "" if there is no such node.
func (s *State) NodeNS(node string) string {
	for _, n := range s.Nodes {
		if n.Name == node {
			return n.NS
		}
	}
	return ""
}

// Node returns a node by name.
func (s *State) Node(name string) (NodeInfo, bool) {
	for _, n := range s.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return NodeInfo{}, false
}

// PodNS returns the namespace name of a pod, or "".
func (s *State) PodNS(namespace, name string) string {
	if p := s.Pod(namespace, name); p != nil {
		return p.NS
	}
	return ""
}

// Pod returns a pod by namespace and name, or nil.
func (s *State) Pod(namespace, name string) *PodInfo {
	for i := range s.Pods {
		if s.Pods[i].Namespace == namespace && s.Pods[i].Name == name {
			return &s.Pods[i]
		}
	}
	return nil
}

func (s *State) findPod(namespace, name string) (*PodInfo, error) {
	if p := s.Pod(namespace, name); p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("sandbox %q has no pod %s/%s", s.Prefix, namespace, name)
}

// FabricNS is the name of the fabric namespace.
func (s *State) FabricNS() string { return s.Prefix + "-fabric" }

// maxStateBytes bounds the state file; a real one is a few tens of KiB.
const maxStateBytes = 1 << 20

func readState(o Options) (*State, error) {
	d, err := o.stateDir(false)
	if errors.As(err, new(errNoDir)) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer d.Close()
	// O_NOFOLLOW: a symlink planted in place of the state file is refused.
	b, err := d.readFile(o.stateName(), maxStateBytes)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read sandbox state %s: %w (remove it)", o.statePath(), err)
	}
	s, err := parseState(b, o)
	if err != nil {
		return nil, fmt.Errorf("sandbox state %s is damaged (%w): remove what it lists by hand, then the file", o.statePath(), err)
	}
	return s, nil
}

// parseState decodes a state file and checks that everything it names is
// something a sandbox of o's prefix may have made: Down deletes and kills
// what the file lists, so a name or path from anywhere else is refused.
// Errors are one line.
func parseState(b []byte, o Options) (*State, error) {
	if len(b) > maxStateBytes {
		return nil, fmt.Errorf("larger than %d bytes", maxStateBytes)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("not valid JSON: %s", strings.ReplaceAll(err.Error(), "\n", " "))
	}
	s.legacyActions()
	if err := s.validate(o); err != nil {
		return nil, err
	}
	return &s, nil
}

var (
	// linkNameRE is what the sandbox names links: eth0, br0, node names,
	// vxlan.calico, cali….
	linkNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.]{0,14}$`)
	// programRE is an absolute path with no space or control character,
	// since status prints it.
	programRE  = regexp.MustCompile(`^/[A-Za-z0-9._+/-]*$`)
	fileBaseRE = regexp.MustCompile(`^[a-z0-9]+\.(conf|ctl|pid|log|log\.stderr)$`)
)

// allowedNS lists the namespace names a sandbox of this prefix may
// create, with the role of each.
func allowedNS(prefix string) map[string]string {
	m := map[string]string{prefix + "-fabric": "fabric", prefix + "-" + host1Name: host1Name}
	for _, n := range nodeSpecs {
		m[prefix+"-"+n.name] = "node"
	}
	for _, p := range allPodSpecs() {
		m[podNSName(prefix, p.namespace, p.name)] = "pod"
	}
	return m
}

// allowedNSFor is allowedNS and the namespaces of the replacement pods
// among pods: their names are a lesson pod's with a generated suffix, so
// their namespaces are derived as the lesson's are.
func allowedNSFor(prefix string, pods []PodInfo) map[string]string {
	m := allowedNS(prefix)
	for _, p := range pods {
		if isReplacement(p.Namespace, p.Name) {
			m[podNSName(prefix, p.Namespace, p.Name)] = "pod"
		}
	}
	return m
}

// inFileDir says whether p is a file the sandbox may have made: directly
// in its file directory, named as the sandbox names them.
func (o Options) inFileDir(p string) bool {
	return filepath.Dir(p) == o.fileDir() && filepath.Clean(p) == p && fileBaseRE.MatchString(filepath.Base(p))
}

// optional6 is whether a is absent or a plain IPv6 address (no zone, not
// an IPv4 one written as IPv6).
func optional6(a netip.Addr) bool {
	return !a.IsValid() || a.Is6() && !a.Is4In6() && a.Zone() == ""
}

func (s *State) validate(o Options) error {
	if s.Prefix != o.Prefix {
		return fmt.Errorf("prefix %q is not %q", s.Prefix, o.Prefix)
	}
	if !s.Mode.Valid() {
		return fmt.Errorf("unknown mode %q", s.Mode)
	}
	if s.Phase != PhaseBuilding && s.Phase != PhaseUp {
		return fmt.Errorf("unknown phase %q", s.Phase)
	}
	if err := s.validActions(); err != nil {
		return err
	}
	allowed := allowedNSFor(o.Prefix, s.Pods)
	recorded := map[string]bool{}
	for _, n := range s.Namespaces {
		role, ok := allowed[n.Name]
		if !ok {
			return fmt.Errorf("namespace %q is not one a sandbox %q makes", n.Name, o.Prefix)
		}
		if n.Role != role {
			return fmt.Errorf("namespace %q has role %q, not %q", n.Name, n.Role, role)
		}
		if role == host1Name && !s.Host1 {
			return fmt.Errorf("namespace %q is host1's, but the state records no host1", n.Name)
		}
		if recorded[n.Name] {
			return fmt.Errorf("namespace %q is listed twice", n.Name)
		}
		recorded[n.Name] = true
	}
	nsOK := func(what, name string) error {
		if _, ok := allowed[name]; !ok {
			return fmt.Errorf("%s: namespace %q is not one a sandbox %q makes", what, name, o.Prefix)
		}
		return nil
	}
	for _, l := range s.Links {
		if err := nsOK("link "+strconv.Quote(l.Name), l.NS); err != nil {
			return err
		}
		if !linkNameRE.MatchString(l.Name) {
			return fmt.Errorf("link name %q is not one the sandbox makes", l.Name)
		}
		if l.Index < 0 {
			return fmt.Errorf("link %q has index %d", l.Name, l.Index)
		}
		if l.Peer != "" {
			ns, name, ok := strings.Cut(l.Peer, "/")
			if !ok || nsOK("peer", ns) != nil || !linkNameRE.MatchString(name) {
				return fmt.Errorf("link %q has a bad peer %q", l.Name, l.Peer)
			}
		}
	}
	nodes := map[string]bool{}
	for _, n := range s.Nodes {
		if !slices.ContainsFunc(nodeSpecs, func(x nodeSpec) bool { return x.name == n.Name }) || nodes[n.Name] {
			return fmt.Errorf("unknown or repeated node %q", n.Name)
		}
		nodes[n.Name] = true
		if n.NS != o.Prefix+"-"+n.Name {
			return fmt.Errorf("node %q has namespace %q, not %q", n.Name, n.NS, o.Prefix+"-"+n.Name)
		}
		if !n.IP.Is4() || !n.Block.IsValid() || !n.Block.Addr().Is4() ||
			!optional6(n.IP6) || n.Block6.IsValid() && !optional6(n.Block6.Addr()) || n.IP6.IsValid() != s.IPv6 || n.Block6.IsValid() != s.IPv6 {
			return fmt.Errorf("node %q has a bad address or block", n.Name)
		}
		if n.ExtBlock.IsValid() && (!s.ExternalPool || n.ExtBlock != externalBlocks[n.Name]) {
			return fmt.Errorf("node %q has an external block %s the sandbox does not give it", n.Name, n.ExtBlock)
		}
	}
	for _, p := range s.Pods {
		if !nodes[p.Node] {
			return fmt.Errorf("pod %q is on unknown node %q", p.Namespace+"/"+p.Name, p.Node)
		}
		if want := podNSName(o.Prefix, p.Namespace, p.Name); p.NS != want || allowed[p.NS] != "pod" {
			return fmt.Errorf("pod %q has namespace %q, not one the sandbox makes", p.Namespace+"/"+p.Name, p.NS)
		}
		if p.HostIf != vethName(p.Namespace, p.Name) {
			return fmt.Errorf("pod %q has host end %q, not %q", p.Namespace+"/"+p.Name, p.HostIf, vethName(p.Namespace, p.Name))
		}
		if !p.IP.Is4() || p.HostIndex < 0 || p.PodIndex < 0 || !optional6(p.IP6) || p.IP6.IsValid() != s.IPv6 {
			return fmt.Errorf("pod %q has a bad address or index", p.Namespace+"/"+p.Name)
		}
	}
	for _, f := range s.Files {
		if !o.inFileDir(f) {
			return fmt.Errorf("file %q is not in %s", f, o.fileDir())
		}
	}
	for _, p := range s.Processes {
		if !nodes[p.Node] && (p.Node != host1Name || !s.Host1) {
			return fmt.Errorf("process on unknown node %q", p.Node)
		}
		if p.NS != o.Prefix+"-"+p.Node {
			return fmt.Errorf("process on %q runs in namespace %q", p.Node, p.NS)
		}
		if p.Pid < 0 || p.Pid > maxPid {
			return fmt.Errorf("process on %q has pid %d", p.Node, p.Pid)
		}
		conf, sock, pid, log := birdFiles(o.fileDir(), p.Node)
		if p.PidFile != pid || p.Socket != sock || p.Log != log {
			return fmt.Errorf("process on %q has files outside %s", p.Node, o.fileDir())
		}
		if len(p.Cmdline) == 0 || !programRE.MatchString(p.Cmdline[0]) || filepath.Clean(p.Cmdline[0]) != p.Cmdline[0] ||
			!slices.Equal(p.Cmdline, birdCmdline(p.Cmdline[0], conf, sock, pid)) {
			return fmt.Errorf("process on %q has a command line the sandbox does not run", p.Node)
		}
	}
	for _, r := range s.Routes {
		if err := nsOK("route", r.NS); err != nil {
			return err
		}
	}
	return s.validateKube(o, allowed)
}

// maxPid is the kernel's largest pid_max.
const maxPid = 1 << 22

// write saves the state atomically: a reader sees the old or the new file.
// The temporary file is created afresh (O_EXCL|O_NOFOLLOW), so a file or
// symlink planted under its name is never written through. This is
// renameio's policy (a fresh file, fsync, rename), written here because
// renameio works by path or in an os.Root, which is opened by path, and
// the state directory is held as the fd that was checked.
func (s *State) write(o Options) error {
	d, err := o.stateDir(true)
	if err != nil {
		return fmt.Errorf("write sandbox state: %w", err)
	}
	defer d.Close()
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := o.stateName() + ".tmp"
	f, err := d.create(tmp, 0o644)
	if err != nil {
		return fmt.Errorf("write sandbox state: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(d.fd, tmp, d.fd, o.stateName())
	}
	if err != nil {
		d.remove(tmp)
		return fmt.Errorf("write sandbox state: %w", err)
	}
	return nil
}

// upState is how every change to a running sandbox begins: its options
// checked, root, and its state read under the lock. The caller unlocks.
func upState(opts Options) (Options, *State, func(), error) {
	o, err := opts.checked()
	if err != nil {
		return o, nil, nil, err
	}
	if os.Geteuid() != 0 {
		return o, nil, nil, ErrNeedRoot
	}
	st, unlock, err := lockedState(o)
	if err != nil {
		return o, nil, nil, err
	}
	if st == nil {
		unlock()
		return o, nil, nil, notUp(o)
	}
	return o, st, unlock, nil
}

// lockedState takes the prefix's lock and reads its state (nil when
// nothing is recorded). The caller unlocks, unless there is an error.
func lockedState(o Options) (*State, func(), error) {
	unlock, err := lock(o)
	if err != nil {
		return nil, nil, err
	}
	st, err := readState(o)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	return st, unlock, nil
}

// lock serialises Up, Down and DeletePod for one prefix. The lock file is
// never removed; and in case something else removed or replaced it while
// we waited, the lock counts only if the name still is the file we
// locked, else we lock again.
func lock(o Options) (func(), error) {
	d, err := o.stateDir(true)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	name := o.Prefix + ".lock"
	for {
		f, err := d.open(name, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("lock sandbox: %w", err)
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock sandbox: %w", err)
		}
		var held, now unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &held); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock sandbox: %w", err)
		}
		if held.Mode&unix.S_IFMT != unix.S_IFREG {
			f.Close()
			return nil, fmt.Errorf("lock sandbox: %s is not a regular file: remove it", o.lockPath())
		}
		if unix.Fstatat(d.fd, name, &now, unix.AT_SYMLINK_NOFOLLOW) == nil && now.Dev == held.Dev && now.Ino == held.Ino {
			return func() { f.Close() }, nil
		}
		f.Close()
	}
}
