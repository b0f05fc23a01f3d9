package bird

import (
	"bufio"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// listen serves answer on a Unix socket of the test's own, once per
// connection, and hands back what each connection sent before closing.
func listen(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "bird.ctl")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			serve(c)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return sock
}

// TestProtocolsOverASocket: the whole exchange over a real socket, the
// commands sent in order and nothing else.
func TestProtocolsOverASocket(t *testing.T) {
	answer, err := readTestdata("bird2-established.txt")
	if err != nil {
		t.Fatal(err)
	}
	sent := make(chan string, 1)
	sock := listen(t, func(c net.Conn) {
		// BIRD answers each command once it has read it.
		parts := strings.SplitAfter(string(answer), "ready.\n")
		restricted, rest, _ := strings.Cut(parts[1], "\n")
		r := bufio.NewReader(c)
		c.Write([]byte(parts[0]))
		var got []string
		for _, reply := range []string{restricted + "\n", rest} {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			got = append(got, line)
			c.Write([]byte(reply))
		}
		sent <- strings.Join(got, "")
	})
	ps, err := Protocols(context.Background(), sock)
	if err != nil {
		t.Fatal(err)
	}
	if p := ps.Find("Mesh_10_99_0_2"); p == nil || !p.Established() {
		t.Errorf("session read as %+v", p)
	}
	if got := <-sent; got != "restrict\nshow protocols all\n" {
		t.Errorf("sent %q", got)
	}
}

// TestProtocolsErrors: each way of failing is one line that says what
// happened and names the bound.
func TestProtocolsErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plain")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	silent := listen(t, func(c net.Conn) {
		// Says nothing until the client gives up.
		c.SetReadDeadline(time.Now().Add(time.Minute))
		c.Read(make([]byte, 1))
	})
	chatty := listen(t, func(c net.Conn) {
		c.Write([]byte("0001 BIRD ready.\n0016 Access restricted\n1002-"))
		for i := 0; i < 1<<16; i++ {
			if _, err := c.Write([]byte("x")); err != nil {
				return
			}
		}
	})
	tests := []struct {
		name, sock string
		timeout    time.Duration
		want       string
	}{
		{"no socket", filepath.Join(dir, "none.ctl"), 0, "no such socket"},
		{"not a socket", file, 0, "cannot reach bird at " + file},
		{"silent", silent, 200 * time.Millisecond, "did not answer within"},
		{"a line too long", chatty, 0, "a line longer than 4 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			_, err := Protocols(ctx, tt.sock)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err %v, want one line with %q", err, tt.want)
			}
		})
	}
}
