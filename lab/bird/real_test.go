package bird

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"podlab/internal/netnstest"
)

// startBird runs a real BIRD 2 in a throw-away namespace with conf, and
// stops it (by its pid) when the test ends. It returns the control
// socket.
func startBird(t *testing.T, conf string) string {
	t.Helper()
	netnstest.RequireRoot(t)
	bin := "/usr/sbin/bird"
	if p, err := exec.LookPath("bird"); err == nil {
		bin = p
	} else if _, err := os.Stat(bin); err != nil {
		netnstest.RequireCommand(t, "bird", "apt-get install bird2")
	}
	ns := netnstest.New(t, "pb")
	dir := t.TempDir()
	confPath, sock, pidPath := filepath.Join(dir, "bird.conf"), filepath.Join(dir, "bird.ctl"), filepath.Join(dir, "bird.pid")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ip", "netns", "exec", ns, bin, "-c", confPath, "-s", sock, "-P", pidPath).CombinedOutput(); err != nil {
		t.Fatalf("bird: %v: %s", err, out)
	}
	var pid int
	deadline := time.Now().Add(30 * time.Second)
	for pid == 0 {
		if b, err := os.ReadFile(pidPath); err == nil {
			pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		if pid == 0 && time.Now().After(deadline) {
			t.Fatal("bird wrote no pid file")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() {
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
			t.Errorf("stop bird (pid %d): %v", pid, err)
		}
	})
	return sock
}

// TestRealBirdReadOnly reads a real BIRD 2: a BGP session to a peer that
// is not there reads as not Established with its neighbor, AS and
// BIRD's own info; and the session podlab opens is restricted, as birdc
// -r's: BIRD refuses to change anything on it.
func TestRealBirdReadOnly(t *testing.T) {
	sock := startBird(t, `router id 192.0.2.1;
protocol device { }
protocol static { ipv4; route 192.0.2.128/26 blackhole; }
protocol bgp Mesh_192_0_2_9 {
  local 192.0.2.1 as 64512;
  neighbor 192.0.2.9 as 64512;
  direct;
  ipv4 { import all; export all; };
}
`)
	ps, err := Protocols(context.Background(), sock)
	if err != nil {
		t.Fatal(err)
	}
	p := ps.Find("Mesh_192_0_2_9")
	if p == nil {
		t.Fatalf("no session among %+v", ps)
	}
	if p.Established() || p.Proto != "BGP" || p.State == "up" || p.BGP == nil || p.BGP.NeighborAddr.String() != "192.0.2.9" ||
		p.BGP.NeighborAS != 64512 || p.BGP.LocalAS != 64512 || !strings.HasPrefix(p.Info, p.BGP.State) {
		t.Errorf("session read as %+v %+v", p, p.BGP)
	}
	if s := ps.Find("static1"); s == nil || s.Routes.Imported != 1 || len(s.Channels) != 1 || s.Channels[0].Table != "master4" {
		t.Errorf("static protocol read as %+v", s)
	}

	// The same handshake as Protocols', then a command that would
	// change BIRD.
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	ask := func(cmd string) string {
		t.Helper()
		if cmd != "" {
			fmt.Fprintf(c, "%s\n", cmd)
		}
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("%q: %v", cmd, err)
		}
		return line
	}
	ask("")
	if got := ask(cmdRestrict); !strings.HasPrefix(got, "0016 ") {
		t.Fatalf("restrict answered %q", got)
	}
	if got := ask("disable Mesh_192_0_2_9"); !strings.HasPrefix(got, "8007 ") {
		t.Errorf("a restricted session may disable a protocol: %q", got)
	}
	after, err := Protocols(context.Background(), sock)
	if s := after.Find("Mesh_192_0_2_9"); err != nil || s == nil || s.State == "down" {
		t.Errorf("the session is disabled after all: %v %+v", err, s)
	}
}
