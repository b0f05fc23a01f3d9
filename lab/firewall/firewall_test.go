package firewall

import (
	"bytes"
	"context"
	"errors"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"podlab/internal/hostile"
	"podlab/internal/kpgen"
	"podlab/internal/netnstest"
	"podlab/kubeproxy"
	"podlab/lab"
)

// restore loads rules into the namespace with the installed
// iptables-restore (or nft -f when nft is set).
func restore(t *testing.T, ns string, nft bool, write func(*bytes.Buffer) error) {
	t.Helper()
	cmd := "iptables-restore"
	if nft {
		cmd = "nft"
	}
	restoreWith(t, ns, cmd, write)
}

// restoreWith loads rules with cmd: nft (-f), or an iptables-restore.
func restoreWith(t *testing.T, ns, cmd string, write func(*bytes.Buffer) error) {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "rules")
	if err := os.WriteFile(f, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if cmd == "nft" {
		netnstest.Run(t, ns, "nft", "-f", f)
	} else {
		netnstest.Run(t, ns, cmd, f)
	}
}

func iptablesNS(t *testing.T) string {
	t.Helper()
	ns := netnstest.New(t, "plfw")
	netnstest.RequireCommand(t, "iptables-save", "apt-get install iptables")
	return ns
}

var summary = kpgen.Summary(2).Port

// The lesson's rules as kube-proxy writes them, loaded into a real
// namespace and read back: the walk finds the summary service's chain
// by its computed name, both endpoints with 0.5 then the rest, and
// endpoint chains named as kube-proxy names them. Then the summary
// deployment scales to three (kube-proxy rewrites the table) and the
// walk shows 0.333…, 0.5 and the rest. Through the installed
// iptables-save, and through each backend's own (kube-proxy's iptables
// mode writes with whichever the node's iptables is).
func TestReadIPTablesYaobank(t *testing.T) {
	for _, backend := range []string{"iptables", "iptables-legacy", "iptables-nft"} {
		t.Run(backend, func(t *testing.T) {
			ns := iptablesNS(t)
			netnstest.RequireCommand(t, backend+"-save", "apt-get install iptables")
			read := func() (*kubeproxy.Table, error) {
				if backend == "iptables" {
					return ReadIPTables(context.Background(), lab.NSRef{Name: ns})
				}
				return readIPTables(context.Background(), lab.NSRef{Name: ns}, []string{backend + "-save", "-c", "-t", "nat"}, MaxOutput, kubeproxy.DefaultLimits)
			}
			testYaobank(t, ns, backend+"-restore", read)
		})
	}
}

func testYaobank(t *testing.T, ns, restoreCmd string, read func() (*kubeproxy.Table, error)) {
	t.Helper()
	for _, tt := range []struct {
		endpoints int
		probs     []string
	}{
		{2, []string{"0.50000000000", ""}},
		{3, []string{"0.33333333349", "0.50000000000", ""}},
	} {
		restoreWith(t, ns, restoreCmd, func(b *bytes.Buffer) error { return kpgen.WriteIPTables(b, kpgen.Yaobank(tt.endpoints)) })
		tab, err := read()
		if err != nil {
			t.Fatal(err)
		}
		w := kubeproxy.WalkService(tab, summary)
		if !w.Found || w.SVC != "KUBE-SVC-OIQIZJVJK6E34BR4" || len(w.Entries) != 1 {
			t.Fatalf("%d endpoints: walk %+v", tt.endpoints, w)
		}
		want := kpgen.Summary(tt.endpoints)
		if len(w.Hops) != len(tt.probs) {
			t.Fatalf("%d endpoints: %d hops", tt.endpoints, len(w.Hops))
		}
		for i, h := range w.Hops {
			if h.Probability != tt.probs[i] || h.ToDest != kubeproxy.Endpoint(want.Endpoints[i], 80) || !h.Named {
				t.Errorf("%d endpoints, hop %d: %q %q named %v", tt.endpoints, i, h.Probability, h.ToDest, h.Named)
			}
			if math.Abs(h.Share-1/float64(tt.endpoints)) > 1e-6 {
				t.Errorf("%d endpoints, hop %d: share %v", tt.endpoints, i, h.Share)
			}
		}
	}
}

// synTo sends n TCP SYNs from inside the namespace to dst: a connect
// that is never answered, closed at once. The nat table sees each
// connection's first packet once.
func synTo(t *testing.T, ns string, dst netip.AddrPort, n int) {
	t.Helper()
	err := lab.InNS(lab.NSRef{Name: ns}, func() error {
		for range n {
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return err
			}
			err = unix.Connect(fd, &unix.SockaddrInet4{Port: int(dst.Port()), Addr: dst.Addr().As4()})
			unix.Close(fd)
			if !errors.Is(err, unix.EINPROGRESS) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("connecting to %s in %s: %v", dst, ns, err)
	}
}

// Requests to the service's cluster IP move exactly the counters of the
// rules they take: the KUBE-SERVICES entry once per connection, and of
// the endpoint rules, in all, once per connection.
func TestReadIPTablesCountersMove(t *testing.T) {
	ns := iptablesNS(t)
	// A way out, so that connect() sends its SYN.
	netnstest.Run(t, ns, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "fab0")
	netnstest.Run(t, ns, "ip", "addr", "add", "198.19.0.2/20", "dev", "eth0")
	netnstest.Run(t, ns, "ip", "link", "set", "eth0", "up")
	netnstest.Run(t, ns, "ip", "link", "set", "fab0", "up")
	netnstest.Run(t, ns, "ip", "route", "add", "default", "dev", "eth0")
	restore(t, ns, false, func(b *bytes.Buffer) error { return kpgen.WriteIPTables(b, kpgen.Yaobank(2)) })

	read := func() kubeproxy.Walk {
		t.Helper()
		tab, err := ReadIPTables(context.Background(), lab.NSRef{Name: ns})
		if err != nil {
			t.Fatal(err)
		}
		return kubeproxy.WalkService(tab, summary)
	}
	before := read()
	if before.Entries[0].Rule.Packets != 0 {
		t.Fatalf("counters before: %+v", before.Entries[0].Rule)
	}
	const n = 20
	synTo(t, ns, netip.MustParseAddrPort(kpgen.Summary(2).ClusterIP+":80"), n)
	after := read()
	if got := after.Entries[0].Rule.Packets; got != n {
		t.Errorf("the KUBE-SERVICES entry counted %d packets, want %d", got, n)
	}
	var picked, dnat uint64
	for _, h := range after.Hops {
		picked += h.Rule.Packets
		dnat += h.DNAT.Packets
		if h.Rule.Packets != h.DNAT.Packets {
			t.Errorf("%s: picked %d, DNAT %d", h.Chain, h.Rule.Packets, h.DNAT.Packets)
		}
	}
	if picked != n || dnat != n {
		t.Errorf("endpoint rules counted %d picks and %d DNATs, want %d each", picked, dnat, n)
	}
}

// A rule with a hostile comment reads back clean: iptables keeps any
// byte but a newline in a comment, and the reader runs as root.
func TestReadIPTablesHostileComment(t *testing.T) {
	ns := iptablesNS(t)
	evil := strings.NewReplacer("\n", "", "\x00", "", `\`, `\\`, `"`, `\"`).Replace(hostile.Text)
	restore(t, ns, false, func(b *bytes.Buffer) error {
		b.WriteString("*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -m comment --comment \"" + evil + "\" -j RETURN\nCOMMIT\n")
		return nil
	})
	tab, err := ReadIPTables(context.Background(), lab.NSRef{Name: ns})
	if err != nil {
		t.Fatal(err)
	}
	if dirty := hostile.Unclean(tab); len(dirty) > 0 {
		t.Errorf("control characters in %v", dirty)
	}
	if c := tab.Chain(kubeproxy.ChainServices); c == nil || len(c.Rules) != 1 || !strings.Contains(c.Rules[0].Match().Comment, `\x1b]52;`) {
		t.Errorf("the comment reads as %+v", c)
	}
}

// Each bound of the reader is a one-line error that names it.
func TestReadIPTablesBounds(t *testing.T) {
	ns := iptablesNS(t)
	restore(t, ns, false, func(b *bytes.Buffer) error { return kpgen.WriteIPTables(b, kpgen.Yaobank(2)) })
	ref := lab.NSRef{Name: ns}
	short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	for _, tt := range []struct {
		name string
		ctx  context.Context
		argv []string
		max  int64
		lim  kubeproxy.Limits
		want string
	}{
		{"output", context.Background(), saveArgv, 1000, kubeproxy.DefaultLimits, "iptables-save printed more than 1000 bytes"},
		{"rules", context.Background(), saveArgv, MaxOutput, kubeproxy.Limits{Lines: 1000, Rules: 5, LineBytes: 4096}, "more than 5 rules"},
		{"time", short, []string{"sleep", "30"}, MaxOutput, kubeproxy.DefaultLimits, "sleep took longer than podlab waits"},
		{"missing", context.Background(), []string{"podlab-no-such-iptables-save"}, MaxOutput, kubeproxy.DefaultLimits, "podlab-no-such-iptables-save is not installed"},
		{"fails", context.Background(), []string{"iptables-save", "-t", "no-such-table"}, MaxOutput, kubeproxy.DefaultLimits, "iptables-save -t nat failed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readIPTables(tt.ctx, ref, tt.argv, tt.max, tt.lim)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v, want one line with %q", err, tt.want)
			}
		})
	}
}

// nftables mode: kube-proxy's table read over netlink, the service-ips
// map to the summary's service- chain (named as kube-proxy names it),
// and its numgen map giving each endpoint 1/n.
func TestReadNFTYaobank(t *testing.T) {
	ns := netnstest.New(t, "plfw")
	netnstest.RequireCommand(t, "nft", "apt-get install nftables")
	if _, err := ReadNFT(context.Background(), lab.NSRef{Name: ns}); err == nil || !strings.Contains(err.Error(), "no nftables table ip kube-proxy") {
		t.Errorf("an empty namespace reads as %v", err)
	}
	for _, n := range []int{2, 3} {
		// kube-proxy rewrites its table; here the test starts it anew.
		exec.Command("ip", "netns", "exec", ns, "nft", "delete", "table", "ip", "kube-proxy").Run()
		restore(t, ns, true, func(b *bytes.Buffer) error { return kpgen.WriteNFT(b, kpgen.Yaobank(n)) })
		tab, err := ReadNFT(context.Background(), lab.NSRef{Name: ns})
		if err != nil {
			t.Fatal(err)
		}
		if dirty := hostile.Unclean(tab); len(dirty) > 0 {
			t.Errorf("control characters in %v", dirty)
		}
		w := kubeproxy.WalkService(tab, summary)
		svc := kpgen.Summary(n)
		if !w.Found || w.SVC != kubeproxy.NFTServiceChain(summary) || len(w.Entries) != 1 ||
			strings.Join(tab.Map(kubeproxy.NFTServiceIPsMap).Elems[w.Entries[0].Index].Key, " ") != svc.ClusterIP+" tcp 80" {
			t.Fatalf("%d endpoints: walk %+v", n, w)
		}
		if len(w.Hops) != n {
			t.Fatalf("%d endpoints: %d hops", n, len(w.Hops))
		}
		for i, h := range w.Hops {
			if h.ToDest != kubeproxy.Endpoint(svc.Endpoints[i], 80) || math.Abs(h.Share-1/float64(n)) > 1e-9 || h.Want != kubeproxy.NFTEndpointChain(summary, h.ToDest) {
				t.Errorf("%d endpoints, hop %d: %+v", n, i, h)
			}
		}
		if !strings.Contains(w.Hops[0].Rule.Text, "numgen random mod") {
			t.Errorf("the rule reads as %q", w.Hops[0].Rule.Text)
		}
	}
	customer := kubeproxy.ServicePort{Namespace: "yaobank", Name: "customer", Port: "http", Protocol: "tcp"}
	tab, err := ReadNFT(context.Background(), lab.NSRef{Name: ns})
	if err != nil {
		t.Fatal(err)
	}
	w := kubeproxy.WalkService(tab, customer)
	if len(w.Entries) != 2 || w.Entries[1].Kind != "node port" || w.Entries[1].Target != kubeproxy.NFTExternalChain(customer) {
		t.Errorf("customer's entries %+v", w.Entries)
	}
	if len(w.Hops) != 1 || w.Hops[0].ToDest != "198.19.22.132:80" || w.Hops[0].Share != 1 {
		t.Errorf("customer's hops %+v", w.Hops)
	}
}

// The kernel takes any bytes in an nftables name or comment, which nft
// never wrote but a program over netlink can: read back, none reaches
// the model unclean. And each bound of the nftables reader is an error
// that names it.
func TestReadNFTHostileAndBounds(t *testing.T) {
	ns := netnstest.New(t, "plfw")
	evil := strings.ReplaceAll(hostile.Text, "\x00", "")
	err := lab.InNS(lab.NSRef{Name: ns}, func() error {
		c, err := nftables.New()
		if err != nil {
			return err
		}
		tab := c.AddTable(&nftables.Table{Family: nftables.TableFamilyIPv4, Name: kubeproxy.NFTTable})
		svc := c.AddChain(&nftables.Chain{Name: "service-" + evil, Table: tab})
		ud := append([]byte{0, byte(len(evil) + 1)}, evil+"\x00"...)
		for range 4 {
			c.AddRule(&nftables.Rule{Table: tab, Chain: svc, UserData: ud, Exprs: []expr.Any{
				&expr.Counter{},
				&expr.Verdict{Kind: expr.VerdictJump, Chain: "service-" + evil},
			}})
		}
		return c.Flush()
	})
	if err != nil {
		t.Fatalf("writing the hostile table: %v", err)
	}
	tab, err := ReadNFT(context.Background(), lab.NSRef{Name: ns})
	if err != nil {
		t.Fatal(err)
	}
	if dirty := hostile.Unclean(tab); len(dirty) > 0 {
		t.Errorf("control characters in %v", dirty)
	}
	if len(tab.Chains) != 1 || len(tab.Chains[0].Rules) != 4 || !strings.Contains(tab.Chains[0].Rules[0].Match().Comment, `\x1b]52;`) {
		t.Errorf("the table reads as %+v", tab.Chains)
	}
	_, err = readNFT(context.Background(), lab.NSRef{Name: ns}, kubeproxy.Limits{Lines: 100, Rules: 3, LineBytes: 4096})
	if err == nil || !strings.Contains(err.Error(), "holds more than 3 rules") || strings.Contains(err.Error(), "\n") {
		t.Errorf("past the rule bound: %v", err)
	}
}

// A service with session affinity: kube-proxy's nftables mode makes an
// endpoint- chain per endpoint, and the service chain goes to one
// through a numgen vmap. The walk follows each to its DNAT, under the
// endpoint chain's computed name.
func TestReadNFTAffinity(t *testing.T) {
	ns := netnstest.New(t, "plfw")
	netnstest.RequireCommand(t, "nft", "apt-get install nftables")
	s := kpgen.Summary(2)
	svc := kubeproxy.NFTServiceChain(s.Port)
	var eps []string
	var b strings.Builder
	b.WriteString("add table ip kube-proxy\nadd map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }\n")
	b.WriteString("add chain ip kube-proxy " + svc + "\n")
	for i, ip := range s.Endpoints {
		ep := kubeproxy.NFTEndpointChain(s.Port, kubeproxy.Endpoint(ip, 80))
		eps = append(eps, strconv.Itoa(i)+" : goto "+ep)
		b.WriteString("add chain ip kube-proxy " + ep + "\n")
		b.WriteString("add rule ip kube-proxy " + ep + " meta l4proto tcp dnat to " + ip + ":80\n")
	}
	b.WriteString("add rule ip kube-proxy " + svc + " numgen random mod 2 vmap { " + strings.Join(eps, ", ") + " }\n")
	b.WriteString("add element ip kube-proxy service-ips { " + s.ClusterIP + " . tcp . 80 : goto " + svc + " }\n")
	restore(t, ns, true, func(buf *bytes.Buffer) error { buf.WriteString(b.String()); return nil })
	tab, err := ReadNFT(context.Background(), lab.NSRef{Name: ns})
	if err != nil {
		t.Fatal(err)
	}
	w := kubeproxy.WalkService(tab, s.Port)
	if !w.Found || len(w.Entries) != 1 || len(w.Hops) != 2 {
		t.Fatalf("%+v", w)
	}
	for i, h := range w.Hops {
		if !h.Named || h.ToDest != kubeproxy.Endpoint(s.Endpoints[i], 80) || h.Share != 0.5 || h.DNAT.Target != "DNAT" {
			t.Errorf("hop %d: %+v", i, h)
		}
	}
}
