package sandbox

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"text/template"

	"github.com/vishvananda/netlink"

	"podlab/lab"
	"podlab/netview"
)

// host1 (peer-host1, --host1) is the course's host1 on the fabric: a BIRD in the
// cluster's AS with a multihop iBGP session to each node, exporting
// nothing, importing only the external pool, the service range and the
// external IPs, and merging equal paths into one kernel route (ECMP).
const host1Name = "host1"

var (
	// serviceCIDR is the cluster's service cluster IP range, which the
	// nodes advertise to host1 as Calico does when serviceClusterIPs are
	// set in its BGPConfiguration.
	serviceCIDR = netip.MustParsePrefix("198.19.32.0/20")
	// host1Imports is host1's import filter, as the course writes it:
	// the external pool's /29s, the service range and longer, and the
	// external IP range exactly.
	host1Imports = []string{"198.19.24.0/21+", "198.19.32.0/20+", "198.19.48.0/20"}
)

// Host1NS is host1's namespace (--host1), or "" without one.
func (s *State) Host1NS() string {
	if !s.Host1 {
		return ""
	}
	return s.Prefix + "-" + host1Name
}

// globalPeerName is Calico's name for a global BGPPeer's session on a node.
func globalPeerName(ip netip.Addr) string {
	return "Global_" + strings.ReplaceAll(ip.String(), ".", "_")
}

type host1Conf struct {
	RouterID string
	AS       int
	Log      string
	Imports  string
	Peers    []birdPeer
}

// host1Tmpl is host1's BIRD. The direct protocol puts the fabric's /20
// in BIRD's table, so the nodes' multihop next hops resolve over it;
// only BGP routes go to the kernel, with metric 0 as the nodes' do.
// Parsed when first used, not at every podlab start.
var host1Tmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("host1").Parse(`# podlab sandbox: BIRD 2 for host1, as the course's host1 runs it.
router id {{.RouterID}};
log "{{.Log}}" all;

protocol device {
  scan time 2;
}

protocol direct {
  ipv4;
  interface "eth0";
}

protocol kernel {
  scan time 2;
  metric 0;
  # One kernel route with a next hop per node that announces it.
  merge paths on;
  ipv4 {
    import none;
    export where source = RTS_BGP;
  };
}

filter host1_import {
  if ( net ~ [ {{.Imports}} ] ) then accept;
  reject;
}

template bgp nodes {
  local {{.RouterID}} as {{.AS}};
  multihop;
  connect delay time 2;
  connect retry time 5;
  error wait time 5,30;
  ipv4 {
    import filter host1_import;
    export none;
  };
}
{{range .Peers}}
protocol bgp {{.Name}} from nodes {
  neighbor {{.IP}} as {{$.AS}};
}
{{end}}`))
})

// host1 makes host1's namespace on the fabric, with host1's address.
func (b *builder) host1() error {
	name := b.st.Host1NS()
	if err := b.newNS(name, host1Name, host1Name); err != nil {
		return err
	}
	h, ns, err := handle(name)
	if err != nil {
		return err
	}
	defer ns.Close()
	defer h.Close()
	if _, err := b.uplink(h, name, host1Name, host1IP); err != nil {
		return err
	}
	return b.save()
}

// startHost1Bird writes host1's BIRD config and starts it in host1's
// namespace.
func (b *builder) startHost1Bird(ctx context.Context) error {
	conf, sock, pid, log := birdFiles(b.o.fileDir(), host1Name)
	c := host1Conf{RouterID: host1IP.String(), AS: asNumber, Log: log, Imports: strings.Join(host1Imports, ", ")}
	for _, n := range b.st.Nodes {
		c.Peers = append(c.Peers, birdPeer{Name: n.Name, IP: n.IP.String()})
	}
	var sb strings.Builder
	if err := host1Tmpl().Execute(&sb, c); err != nil {
		return err
	}
	p := Process{Node: host1Name, NS: b.st.Host1NS(), Cmdline: birdCmdline(b.bird, conf, sock, pid), PidFile: pid, Log: log, Socket: sock}
	return b.runBird(ctx, p, conf, sb.String())
}

// host1Missing says what host1 still lacks: an Established session
// with each node, and in its kernel each route the applied actions
// promise, with exactly its next hops.
func (b *builder) host1Missing(ctx context.Context, h *netlink.Handle) (string, error) {
	var miss []string
	var peers []birdPeer
	for _, n := range b.st.Nodes {
		peers = append(peers, birdPeer{Name: n.Name})
	}
	_, sock, _, _ := birdFiles(b.o.fileDir(), host1Name)
	notUp, err := meshEstablished(sock, peers)
	if err != nil {
		miss = append(miss, "its BIRD control socket ("+err.Error()+")")
	}
	for _, p := range notUp {
		miss = append(miss, "an Established session with "+p)
	}
	// BIRD writes routes while we read: an interrupted dump is read again.
	rs, err := lab.RetryDump(ctx, func() ([]netlink.Route, error) { return listMainRoutes(h) })
	if err != nil {
		return "", err
	}
	for _, w := range b.st.host1Routes() {
		if got := routeHops(rs, w.dst); !sameAddrs(got, w.via) {
			miss = append(miss, w.String())
		}
	}
	return strings.Join(miss, ", "), nil
}

// routeHops are the gateways of the route to dst written by BIRD: one
// per next hop.
func routeHops(rs []netlink.Route, dst netip.Prefix) []netip.Addr {
	var out []netip.Addr
	for _, r := range rs {
		if r.Dst == nil || prefixOf(r.Dst) != dst || r.Protocol != protoBird {
			continue
		}
		if gw, ok := netip.AddrFromSlice(r.Gw); ok {
			out = append(out, gw.Unmap())
		}
		for _, nh := range r.MultiPath {
			if gw, ok := netip.AddrFromSlice(nh.Gw); ok {
				out = append(out, gw.Unmap())
			}
		}
	}
	return out
}

func sameAddrs(a, b []netip.Addr) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, netip.Addr.Compare)
	slices.SortFunc(b, netip.Addr.Compare)
	return slices.Equal(a, b)
}

// host1Admits says whether host1's import filter lets dst in.
func host1Admits(dst netip.Prefix) bool {
	for _, im := range host1Imports {
		p, longer := strings.CutSuffix(im, "+")
		r := netip.MustParsePrefix(p)
		if r == dst || longer && dst.Bits() >= r.Bits() && r.Contains(dst.Addr()) {
			return true
		}
	}
	return false
}

// Host1Facts are what the analysis of host1's table reads: the nodes
// and their blocks, the pools and the BGP configuration, and host1's
// import filter.
func (s *State) Host1Facts() netview.Host1Facts {
	f := s.Facts("", "")
	return netview.Host1Facts{Facts: f, Resources: s.Resources(), Imports: slices.Clone(host1Imports)}
}

// Host1 snapshots host1's namespace (--host1), with the facts its
// analysis reads; an error that says how to build one when the sandbox
// has no host1.
func (l *Lab) Host1(ctx context.Context) (*netview.Snapshot, netview.Host1Facts, error) {
	st := l.State()
	if now, err := readState(l.opts); err == nil && now != nil {
		st = now
	}
	ns := st.Host1NS()
	if ns == "" {
		return nil, netview.Host1Facts{}, fmt.Errorf("sandbox %q has no host1: run sudo podlab sandbox apply %s", st.Prefix, ActPeerHost1)
	}
	s, err := lab.Collect(ctx, lab.NSRef{Name: ns})
	if err != nil {
		return nil, netview.Host1Facts{}, fmt.Errorf("host1: %w", err)
	}
	// As a node's: the fabric's far side has no name on a real host1.
	forgetNames(s, st.FabricNS())
	f := st.Host1Facts()
	f.Sanitize()
	return s, f, nil
}

// Host1Describe says in one line where host1 is.
func (l *Lab) Host1Describe() string {
	st := l.State()
	return netview.Clean(fmt.Sprintf("sandbox %s (%s): host1 %s in %s", st.Prefix, modeLine(st), host1IP, st.Host1NS()))
}

// Resources are the Calico objects the sandbox stands for (its pools,
// host1 as a BGPPeer, the BGPConfiguration), as a cluster would list
// them, cleaned as everything entering netview is.
func (l *Lab) Resources() netview.Resources {
	r := l.State().Resources()
	r.Sanitize()
	return r
}
