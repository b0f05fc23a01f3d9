package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/template"
	"time"

	"podlab/lab/bird"
	"podlab/netview"
)

// ErrNoBird is returned, before anything is created, when BIRD 2 is missing.
var ErrNoBird = errors.New("bird2 is not installed: apt-get install bird2 (or pass --static-routes for routes marked proto bird without BGP)")

// birdPaths are tried when bird is not on PATH (sudo and cron may leave
// /usr/sbin off it).
var birdPaths = []string{"/usr/sbin/bird", "/usr/local/sbin/bird"}

// findBird returns the BIRD 2 daemon's path.
func findBird() (string, error) {
	if p, err := exec.LookPath("bird"); err == nil {
		return p, nil
	}
	for _, p := range birdPaths {
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", ErrNoBird
}

type birdPeer struct {
	Name string
	IP   string
}

type birdConf struct {
	RouterID    string
	Block       string
	ClusterCIDR string
	AS          int
	Peers       []birdPeer
	Log         string
	VXLAN       bool
	// The IPv6 side (--ipv6): empty Block6 for none.
	IP6, Block6, ClusterCIDR6 string
	Peers6                    []birdPeer
	// Host1 is the global peer host1 (peer-host1), nil for none.
	Host1 *birdPeer
	// ServiceRoutes are the service IPs the node advertises (the
	// advertise and local-policy actions); ServiceRanges, as a BIRD
	// prefix set, every range a service IP may be in, none of which
	// goes to host1 but from ServiceRoutes.
	ServiceRoutes []string
	ServiceRanges string
	// ExtBlock is the node's /29 of the external pool (--external-pool),
	// "" for none: blackholed and announced as its own block is.
	ExtBlock string
}

// birdTmpl follows Calico's BIRD templates (bird.cfg, bird_aggr.cfg,
// bird_ipam.cfg), in BIRD 2 syntax. Differences, and why: the kernel
// protocol sets metric 0 (BIRD 2 would write metric 32, the lesson shows
// none) and exports only BGP and static routes, so device routes never
// come back to the kernel; the mesh sessions are direct, since the nodes
// share the fabric /20.
// Parsed when first used, not at every podlab start.
var birdTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("bird").Parse(`# podlab sandbox: BIRD 2 for node {{.RouterID}}, shaped like Calico's.
router id {{.RouterID}};
log "{{.Log}}" all;

# The node's own block: a blackhole, announced to every peer
# (Calico's bird_aggr.cfg).
protocol static {
  ipv4;
  route {{.Block}} blackhole;
{{- with .ExtBlock}}
  route {{.}} blackhole;
{{- end}}
}

function calico_aggr ()
{
  if ( net = {{.Block}} ) then { accept; }
  if ( net ~ {{.Block}} ) then { reject; }
{{- with .ExtBlock}}
  if ( net = {{.}} ) then { accept; }
  if ( net ~ {{.}} ) then { reject; }
{{- end}}
}

filter calico_export_to_bgp_peers {
{{- if .VXLAN}}
  # Felix owns the VXLAN routes; BIRD learns them from the kernel but
  # must not pass them on.
  if ( defined(krt_source) && krt_source = 80 ) then { reject; }
{{- end}}
  calico_aggr();
  # A borrowed address: announced as a /32.
  if ( net ~ {{.ClusterCIDR}} ) then { accept; }
  reject;
}

filter calico_kernel_programming {
{{- if .ServiceRoutes}}
  # The advertised service IPs are for host1, never a route here.
  if ( proto = "static_svc" ) then { reject; }
{{- end}}
{{- if .VXLAN}}
  # VXLAN mode: Felix programs the pool's routes, BIRD writes none.
  if ( net ~ {{.ClusterCIDR}} ) then { reject; }
{{- end}}
  if ( source ~ [ RTS_BGP, RTS_STATIC ] ) then { accept; }
  reject;
}

protocol kernel {
  learn;          # learn the routes Felix and the CNI write (pod /32s)
  persist;        # keep routes when BIRD stops
  scan time 2;
  metric 0;
  graceful restart;
  ipv4 {
    import all;
    export filter calico_kernel_programming;
  };
}

# Only for interface scanning; no device routes are exported.
protocol device {
  scan time 2;
}

template bgp bgp_template {
  debug { states };
  description "Connection to BGP peer";
  local {{.RouterID}} as {{.AS}};
  direct;
  graceful restart;
  connect delay time 2;
  connect retry time 5;
  error wait time 5,30;
  ipv4 {
    gateway direct;
    next hop self;
    import all;
    export filter calico_export_to_bgp_peers;
    add paths on;
  };
}
{{range .Peers}}
protocol bgp {{.Name}} from bgp_template {
  neighbor {{.IP}} as {{$.AS}};
}
{{end}}
{{- with .ServiceRoutes}}
# The service IPs Calico announces: the ranges of the BGPConfiguration's
# serviceClusterIPs and serviceExternalIPs from every node, and a /32 of
# a Service with externalTrafficPolicy Local from the nodes that run one
# of its endpoints.
protocol static static_svc {
  ipv4;
{{- range .}}
  route {{.}} blackhole;
{{- end}}
}
{{end}}
{{- with .Host1}}
# host1, a global BGPPeer: what the mesh gets, and the service IPs.
# host1 is not on the mesh's terms: a multihop session, as Calico makes
# them.
filter calico_export_to_host1 {
  if ( proto = "static_svc" ) then { accept; }
  if ( net ~ [ {{$.ServiceRanges}} ] ) then { reject; }
  if ( defined(krt_source) && krt_source = 80 ) then { reject; }
  calico_aggr();
  if ( net ~ {{$.ClusterCIDR}} ) then { accept; }
  reject;
}

protocol bgp {{.Name}} {
  debug { states };
  description "Connection to BGP peer";
  local {{$.RouterID}} as {{$.AS}};
  neighbor {{.IP}} as {{$.AS}};
  multihop;
  graceful restart;
  connect delay time 2;
  connect retry time 5;
  error wait time 5,30;
  ipv4 {
    next hop self;
    import all;
    export filter calico_export_to_host1;
    add paths on;
  };
}
{{end}}
{{- if .Block6}}
# IPv6, as Calico's bird6.cfg: the same policy in a kernel protocol and
# mesh sessions of its own, between the nodes' IPv6 addresses.
protocol static static6 {
  ipv6;
  route {{.Block6}} blackhole;
}

filter calico_export_to_bgp_peers6 {
  if ( net = {{.Block6}} ) then { accept; }
  if ( net ~ {{.Block6}} ) then { reject; }
  if ( net ~ {{.ClusterCIDR6}} ) then { accept; }
  reject;
}

filter calico_kernel_programming6 {
  if ( source ~ [ RTS_BGP, RTS_STATIC ] ) then { accept; }
  reject;
}

protocol kernel kernel6 {
  learn;
  persist;
  scan time 2;
  metric 0;
  graceful restart;
  ipv6 {
    import all;
    export filter calico_kernel_programming6;
  };
}

template bgp bgp_template6 {
  debug { states };
  description "Connection to BGP peer";
  local {{.IP6}} as {{.AS}};
  direct;
  graceful restart;
  connect delay time 2;
  connect retry time 5;
  error wait time 5,30;
  ipv6 {
    gateway direct;
    next hop self;
    import all;
    export filter calico_export_to_bgp_peers6;
    add paths on;
  };
}
{{range .Peers6}}
protocol bgp {{.Name}} from bgp_template6 {
  neighbor {{.IP}} as {{$.AS}};
}
{{end}}
{{- end}}`))
})

// nodeBirdConfig is node n's BIRD config as the sandbox's options and
// applied actions have it.
func (b *builder) nodeBirdConfig(n NodeInfo) (string, error) {
	_, _, _, log := birdFiles(b.o.fileDir(), n.Name)
	c := birdConf{
		RouterID: n.IP.String(), Block: n.Block.String(), ClusterCIDR: clusterCIDR.String(),
		AS: asNumber, Log: log, VXLAN: b.o.Mode == netview.ModeVXLAN,
		ServiceRanges: serviceCIDR.String() + "+, " + externalIPCIDR.String() + "+",
	}
	if n.ExtBlock.IsValid() {
		c.ExtBlock = n.ExtBlock.String()
	}
	if b.st.Host1 {
		c.Host1 = &birdPeer{Name: globalPeerName(host1IP), IP: host1IP.String()}
	}
	st := b.st
	if st.Phase == PhaseBuilding {
		// BIRD starts before the pods are wired: the Services'
		// endpoints are those of the pods the build will wire.
		planned := *st
		planned.Pods = nil
		for _, p := range b.pods() {
			planned.Pods = append(planned.Pods, PodInfo{Namespace: p.namespace, Name: p.name, Node: p.node, IP: p.ip})
		}
		st = &planned
	}
	for _, r := range st.serviceRoutes(n.Name) {
		c.ServiceRoutes = append(c.ServiceRoutes, r.String())
	}
	if n.Block6.IsValid() {
		c.IP6, c.Block6, c.ClusterCIDR6 = n.IP6.String(), n.Block6.String(), clusterCIDR6.String()
	}
	for _, o := range b.st.Nodes {
		if o.Name != n.Name {
			c.Peers = append(c.Peers, birdPeer{Name: meshName(o.IP.String()), IP: o.IP.String()})
			if o.IP6.IsValid() {
				c.Peers6 = append(c.Peers6, birdPeer{Name: meshName(o.IP6.String()), IP: o.IP6.String()})
			}
		}
	}
	var sb strings.Builder
	if err := birdTmpl().Execute(&sb, c); err != nil {
		return "", err
	}
	return sb.String(), nil
}

// meshName is Calico's name for a node-to-node mesh peer.
func meshName(ip string) string {
	return "Mesh_" + strings.NewReplacer(".", "_", ":", "_").Replace(ip)
}

// startBird starts BIRD inside a node's namespace. bird forks into the
// background and writes its pid file; we return that pid.
func startBird(ctx context.Context, o Options, bird string, p Process) (int, error) {
	var out *os.File
	err := o.inFile(p.Log+".stderr", func(d *dirFD, name string) error {
		var err error
		out, err = d.create(name, 0o644)
		return err
	})
	if err != nil {
		return 0, err
	}
	defer out.Close()
	err = inNS(p.NS, func() error {
		// The child inherits this thread's namespace: inNS moved it there.
		cmd := exec.CommandContext(ctx, bird, p.Cmdline[1:]...)
		cmd.Path = bird
		cmd.Args = p.Cmdline
		cmd.Stdout = out
		cmd.Stderr = out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		return cmd.Run()
	})
	if err != nil {
		msg, _ := o.readSandboxFile(p.Log+".stderr", 4096)
		return 0, fmt.Errorf("bird on %s did not start: %v: %s", p.Node, err, strings.TrimSpace(string(msg)))
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := o.readSandboxFile(p.PidFile, 64)
		if err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
				return pid, nil
			}
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("bird on %s wrote no pid file %s; its log ends:\n%s", p.Node, p.PidFile, logTail(o, p.Log, 10))
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// birdCmdline is the command line of a node's BIRD; Down checks a pid's
// /proc/<pid>/cmdline against it before killing.
func birdCmdline(bird, conf, sock, pid string) []string {
	return []string{bird, "-c", conf, "-s", sock, "-P", pid}
}

func birdFiles(dir, node string) (conf, sock, pid, log string) {
	return filepath.Join(dir, node+".conf"), filepath.Join(dir, node+".ctl"),
		filepath.Join(dir, node+".pid"), filepath.Join(dir, node+".log")
}

// logTailBytes is how much of a log's end logTail reads.
const logTailBytes = 64 << 10

// logTail returns the last n lines of a file of the sandbox, indented, for
// error messages.
func logTail(o Options, path string, n int) string {
	var b []byte
	err := o.inFile(path, func(d *dirFD, name string) error {
		f, err := d.open(name, os.O_RDONLY, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", path)
		}
		off := max(fi.Size()-logTailBytes, 0)
		b = make([]byte, fi.Size()-off)
		k, err := f.ReadAt(b, off)
		b = b[:k]
		if errors.Is(err, io.EOF) {
			err = nil
		}
		return err
	})
	if err != nil {
		return "  (no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}

// meshEstablished reports which of a node's mesh sessions are not yet
// Established, according to BIRD itself, read from its control socket
// within lab/bird's bounds.
func meshEstablished(sock string, peers []birdPeer) ([]string, error) {
	ps, err := bird.Protocols(context.Background(), sock)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, p := range peers {
		if s := ps.Find(p.Name); s == nil || !s.Established() {
			missing = append(missing, p.Name)
		}
	}
	return missing, nil
}

// restartBird starts a node's BIRD again, as recorded, when it no longer
// runs (it crashed or was killed), and records its new pid. It runs
// only the installed bird, and only if that is the recorded one.
func restartBird(ctx context.Context, opts Options, node string) error {
	o, st, unlock, err := upState(opts)
	if err != nil {
		return err
	}
	defer unlock()
	i := slices.IndexFunc(st.Processes, func(p Process) bool { return p.Node == node })
	if i < 0 {
		return fmt.Errorf("sandbox %q runs no bird on %q", o.Prefix, node)
	}
	p := st.Processes[i]
	if cmdlineMatches(p.Pid, p.Cmdline) {
		return nil
	}
	bird, err := findBird()
	if err != nil {
		return err
	}
	if bird != p.Cmdline[0] {
		return fmt.Errorf("the sandbox ran %s, but the installed bird is %s: run podlab sandbox down, then up", p.Cmdline[0], bird)
	}
	// A pid file left by a killed BIRD would be taken for the new one's.
	if err := o.inFile(p.PidFile, (*dirFD).remove); err != nil {
		return err
	}
	pid, err := startBird(ctx, o, bird, p)
	if err != nil {
		return err
	}
	st.Processes[i].Pid = pid
	return st.write(o)
}
