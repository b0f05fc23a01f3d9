package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"golang.org/x/sys/unix"
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
	Mode string
	// Borrowed adds a pod on node2 with an address from node1's block.
	Borrowed bool
	// StaticRoutes skips BIRD: the block routes are written by podlab,
	// marked proto bird, and the state says so.
	StaticRoutes bool
}

// Defaults.
const (
	DefaultPrefix   = "podlab"
	DefaultStateDir = "/run/podlab"
	DefaultMode     = "bgp"
)

var prefixRE = regexp.MustCompile(`^[a-z][a-z0-9]{0,15}$`)

func (o Options) withDefaults() Options {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.StateDir == "" {
		o.StateDir = DefaultStateDir
	}
	if o.Mode == "" {
		o.Mode = DefaultMode
	}
	o.Mode = strings.ToLower(o.Mode)
	return o
}

// checked is o with its defaults, and an error if it is not valid.
func (o Options) checked() (Options, error) {
	o = o.withDefaults()
	if !prefixRE.MatchString(o.Prefix) {
		return o, fmt.Errorf("bad prefix %q: use 1-16 lower-case letters and digits, starting with a letter", o.Prefix)
	}
	switch o.Mode {
	case "bgp", "vxlan", "ipip":
	default:
		return o, fmt.Errorf("unknown mode %q: use --mode bgp, vxlan or ipip", o.Mode)
	}
	return o, nil
}

func (o Options) statePath() string { return filepath.Join(o.StateDir, o.Prefix+".json") }
func (o Options) lockPath() string  { return filepath.Join(o.StateDir, o.Prefix+".lock") }
func (o Options) fileDir() string   { return filepath.Join(o.StateDir, o.Prefix) }

// Phases of a sandbox's life in its state file.
const (
	PhaseBuilding = "building"
	PhaseUp       = "up"
)

// State is what a sandbox created, as recorded in its state file. Each
// item is recorded before it is created, so a sandbox killed half-way
// still lists everything that may exist.
type State struct {
	Prefix       string `json:"prefix"`
	Mode         string `json:"mode"`
	Borrowed     bool   `json:"borrowed,omitempty"`
	StaticRoutes bool   `json:"static_routes"`
	// Phase is "building" until every step and BGP convergence are done,
	// then "up".
	Phase     string    `json:"phase"`
	StartedAt time.Time `json:"started_at"`
	UpAt      time.Time `json:"up_at,omitzero"`
	// ConvergedMS is how long routing took to converge after BIRD started.
	ConvergedMS int64       `json:"converged_ms,omitempty"`
	Namespaces  []NSRecord  `json:"namespaces"`
	Links       []LinkRec   `json:"links"`
	Processes   []Process   `json:"processes,omitempty"`
	Files       []string    `json:"files,omitempty"`
	Nodes       []NodeInfo  `json:"nodes"`
	Pods        []PodInfo   `json:"pods"`
	Routes      []RouteInfo `json:"routes,omitempty"`
	// Problems is filled by Status: what is wrong with it now (a
	// namespace gone, a BIRD stopped); empty when healthy.
	Problems []string `json:"-"`
}

// NSRecord is one namespace the sandbox created.
type NSRecord struct {
	Name string `json:"name"`
	Role string `json:"role"` // fabric, node, pod
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

// Process is one process the sandbox started (a BIRD per node).
type Process struct {
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

func readState(o Options) (*State, error) {
	b, err := os.ReadFile(o.statePath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read sandbox state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("sandbox state %s is damaged (%v): remove what it lists by hand, then the file", o.statePath(), err)
	}
	return &s, nil
}

// write saves the state atomically: a reader sees the old or the new file.
func (s *State) write(o Options) error {
	if err := os.MkdirAll(o.StateDir, 0o755); err != nil {
		return fmt.Errorf("create state dir: %w", err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := o.statePath() + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write sandbox state: %w", err)
	}
	if err := os.Rename(tmp, o.statePath()); err != nil {
		return fmt.Errorf("write sandbox state: %w", err)
	}
	return nil
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

// lock serialises Up, Down and DeletePod for one prefix.
func lock(o Options) (func(), error) {
	if err := os.MkdirAll(o.StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("create state dir: %w", err)
	}
	f, err := os.OpenFile(o.lockPath(), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock sandbox: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock sandbox: %w", err)
	}
	return func() { f.Close() }, nil
}
