package host1

import (
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"podlab/internal/netnstest"

	"k8s.io/client-go/tools/clientcmd"
)

// NodeKubeconfig copies the kubeconfig at path for use inside node's
// namespace: there 127.0.0.1 is the node's own loopback, so a proxy in
// the node's namespace on 127.0.0.1 forwards to the API server on host1's.
// The copy belongs to the student, who may read it on the node too.
func (l *Lab) NodeKubeconfig(t *testing.T, path, node string) string {
	t.Helper()
	n, ok := l.State.Node(node)
	if !ok {
		t.Fatalf("host1: no node %s", node)
	}
	api, err := url.Parse(l.Server.URL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := listenIn(n.NS, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("host1: API proxy on %s: %v", node, err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				proxy(c, api.Host)
			}()
		}
	}()
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatalf("host1: read %s: %v", path, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	for _, c := range cfg.Clusters {
		c.Server = "https://" + netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)).String()
	}
	b, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l.User.WriteFile(t, filepath.Join(".kube", node+"-"+strings.TrimSuffix(filepath.Base(path), ".kubeconfig")+"-"+strconv.Itoa(port)+".kubeconfig"), string(b))
}

// proxy copies c to and from addr until either side closes.
func proxy(c net.Conn, addr string) {
	defer c.Close()
	up, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); up.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(c, up); c.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	<-done
	<-done
}

// OnNode runs argv inside node's network namespace, as root or as the
// student, as if logged in on the node.
func (l *Lab) OnNode(node string, asStudent bool, argv ...string) *exec.Cmd {
	n, _ := l.State.Node(node)
	args := []string{"--net=" + netnstest.Path(n.NS)}
	env := []string{"HOME=/root", "USER=root", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
	if asStudent {
		id := func(i int) string { return strconv.Itoa(i) }
		args = append(args, "-S", id(l.User.UID), "-G", id(l.User.GID))
		env = []string{"HOME=" + l.User.Home, "USER=" + l.User.Name, "LOGNAME=" + l.User.Name, "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"}
	}
	cmd := exec.Command("nsenter", append(append(args, "--"), argv...)...)
	cmd.Env = env
	cmd.Dir = os.TempDir()
	if asStudent {
		cmd.Dir = l.User.Home
	}
	return cmd
}
