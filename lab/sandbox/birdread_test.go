package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"podlab/netview"
)

// TestBirdProtocolsFromSocket reads node1's sessions from its real BIRD:
// the mesh sessions to control and node2 Established with their
// addresses and AS; once node2's BIRD is stopped, its session reads as
// not Established, in BIRD's own words. The wait is bounded, not timed.
func TestBirdProtocolsFromSocket(t *testing.T) {
	requireSandbox(t, true)
	o := testOptions(t, "bgp")
	sb := up(t, o)
	ctx := context.Background()
	l, err := Open(ctx, o, false)
	if err != nil {
		t.Fatal(err)
	}
	node1, _ := sb.State.Node("node1")
	var peers []NodeInfo
	for _, n := range sb.State.Nodes {
		if n.Name != "node1" {
			peers = append(peers, n)
		}
	}
	if len(peers) != 2 {
		t.Fatalf("peers of node1: %+v", peers)
	}
	ps, err := l.BirdProtocols(ctx, "node1")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range peers {
		p := ps.Find(meshName(n.IP.String()))
		if p == nil {
			t.Fatalf("no session %s among %d protocols", meshName(n.IP.String()), len(ps))
		}
		if !p.Established() || p.Info != netview.BirdEstablished || p.State != "up" || p.Proto != "BGP" {
			t.Errorf("%s: proto %s state %s info %q, want an Established BGP session", p.Name, p.Proto, p.State, p.Info)
		}
		if p.BGP == nil || p.BGP.NeighborAddr != n.IP || p.BGP.NeighborAS != asNumber || p.BGP.LocalAS != asNumber || p.BGP.SourceAddr != node1.IP {
			t.Fatalf("%s: BGP %+v, want neighbor %s AS %d from %s", p.Name, p.BGP, n.IP, asNumber, node1.IP)
		}
		// Each peer announces its own block: one route imported, and
		// node1's block exported to it.
		if p.Routes.Imported < 1 || p.Routes.Exported < 1 || p.Since == "" {
			t.Errorf("%s: routes %+v since %q", p.Name, p.Routes, p.Since)
		}
		if len(p.Channels) != 1 || p.Channels[0].Name != "ipv4" || p.Channels[0].ExportFilter != "calico_export_to_bgp_peers" {
			t.Errorf("%s: channels %+v", p.Name, p.Channels)
		}
	}
	if k := ps.Find("kernel1"); k == nil || k.Proto != "Kernel" || k.IsBGP() {
		t.Errorf("kernel protocol: %+v", k)
	}

	i := slices.IndexFunc(sb.State.Processes, func(p Process) bool { return p.Node == "node2" })
	if err := stopProcess(o, sb.State.Processes[i]); err != nil {
		t.Fatal(err)
	}
	name := meshName(peers[1].IP.String())
	if peers[1].Name != "node2" {
		name = meshName(peers[0].IP.String())
	}
	var p *netview.BirdProtocol
	deadline := time.Now().Add(90 * time.Second)
	for {
		ps, err := BirdProtocols(ctx, o, "node1")
		if err != nil {
			t.Fatal(err)
		}
		if p = ps.Find(name); p != nil && !p.Established() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still reads as %+v after node2's bird stopped", name, p)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("%s after node2's bird stopped: %s %s %q", name, p.State, p.Since, p.Info)
	// BIRD's words: the row's info starts with the session's state, and
	// the protocol is no longer up.
	if p.BGP == nil || p.BGP.State == "" || p.BGP.State == netview.BirdEstablished || !strings.HasPrefix(p.Info, p.BGP.State) || p.State == "up" {
		t.Errorf("%s: state %s info %q BGP %+v, want a session BIRD says is down", name, p.State, p.Info, p.BGP)
	}
	if _, err := BirdProtocols(ctx, o, "node2"); err == nil || !strings.Contains(err.Error(), "node2: cannot reach bird at") {
		t.Errorf("node2's stopped bird read as %v", err)
	}
	if _, err := BirdProtocols(ctx, o, "nosuch"); err == nil || !strings.Contains(err.Error(), `has no node "nosuch"`) {
		t.Errorf("unknown node: %v", err)
	}
}

// TestMeshEstablishedBounded: the build's wait for the mesh reads BIRD's
// socket within bounds: a socket that sends a line without end is
// refused at the line bound, not read into memory until a timeout.
func TestMeshEstablishedBounded(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "bird.ctl")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte("0001 BIRD 2.0.12 ready.\n"))
		r := bufio.NewReader(c)
		r.ReadString('\n')
		// Whatever was asked, the answer's first line never ends.
		c.Write([]byte("1002-"))
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for range 256 { // 16 MiB, then silence
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
		c.SetReadDeadline(time.Now().Add(time.Minute))
		c.Read(make([]byte, 1))
	}()
	_, err = meshEstablished(sock, []birdPeer{{Name: "Mesh_198_19_0_1"}})
	if err == nil || !strings.Contains(err.Error(), "a line longer than") {
		t.Fatalf("err %v, want the line bound", err)
	}
}
