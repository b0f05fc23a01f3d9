package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/klog/v2"

	"podlab/internal/kubetest"
	"podlab/netview"
)

// Channels of the exec protocol (v5.channel.k8s.io): each message starts
// with the stream it belongs to.
const (
	chanStdout = 1
	chanStderr = 2
)

// execEndpoint is an HTTP server on loopback that answers the exec API's
// websocket upgrade, as the API server does for kubectl exec, and then
// runs fault on the connection: what a hung or runaway command in the pod
// looks like from podlab's side.
func execEndpoint(t *testing.T, fault func(c *websocket.Conn)) *rest.Config {
	t.Helper()
	up := websocket.Upgrader{
		Subprotocols: []string{"v5.channel.k8s.io"},
		CheckOrigin:  func(*http.Request) bool { return true },
	}
	var (
		mu     sync.Mutex
		closed bool
		conns  []*websocket.Conn
		wg     sync.WaitGroup
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/exec") {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		if closed {
			mu.Unlock()
			return
		}
		wg.Add(1)
		mu.Unlock()
		defer wg.Done()
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		mu.Lock()
		conns = append(conns, c)
		if closed {
			c.Close()
		}
		mu.Unlock()
		fault(c)
	}))
	t.Cleanup(func() {
		mu.Lock()
		closed = true
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		srv.CloseClientConnections()
		srv.Close()
		wg.Wait()
	})
	return &rest.Config{Host: srv.URL}
}

// drain reads until the client goes: the connection stays alive (pings
// are answered) but the command never ends.
func drain(c *websocket.Conn) {
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			return
		}
	}
}

// flood sends on channel ch until the client goes.
func flood(ch byte) func(c *websocket.Conn) {
	return func(c *websocket.Conn) {
		go drain(c)
		msg := append([]byte{ch}, bytes.Repeat([]byte("podlab-flood\n"), 2500)...)
		for {
			if err := c.WriteMessage(websocket.BinaryMessage, msg); err != nil {
				return
			}
		}
	}
}

// execLab is a Lab that execs through config into the lesson's customer
// pod, collecting its host side here (our own namespace needs no root).
func execLab(t *testing.T, config *rest.Config, timeout time.Duration) *Lab {
	t.Helper()
	client, err := newCoreClient(config)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Timeout: timeout}
	o.setDefaults()
	l := &Lab{opts: o, config: config, client: client, context: "test", server: config.Host, where: OnNodeNoRoot, container: "customer"}
	l.facts.Node = "node1"
	l.facts.Pod = netview.PodFact{Namespace: "yaobank", Name: customer, IP: netip.MustParseAddr("198.19.22.132"), Node: "node1", Phase: "Running"}
	return l
}

// TestExecFaults: an exec stream that never closes, or floods, ends
// within its bound with one line saying what to do; Collect, which the
// terminal UI calls, returns that error, so the UI shows it and goes on.
func TestExecFaults(t *testing.T) {
	const bound = time.Minute
	cases := []struct {
		name    string
		fault   func(c *websocket.Conn)
		timeout time.Duration
		want    string
	}{
		{"never closes", drain, time.Second,
			"exec ip -j addr in pod yaobank/" + customer + " gave no complete answer in "},
		{"output, then nothing", func(c *websocket.Conn) {
			c.WriteMessage(websocket.BinaryMessage, append([]byte{chanStdout}, `[{"ifindex":1,`...))
			drain(c)
		}, time.Second,
			"exec ip -j addr in pod yaobank/" + customer + " gave no complete answer in "},
		// The timeouts are far above the time to send 4 MiB over
		// loopback: only the limit can end these.
		{"flood", flood(chanStdout), bound,
			"exec ip -j addr in pod yaobank/" + customer + " printed more than 4 MiB: "},
		{"flood on stderr", flood(chanStderr), bound,
			"exec ip -j addr in pod yaobank/" + customer + " printed more than 64 KiB of errors: "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := execLab(t, execEndpoint(t, c.fault), c.timeout)
			ctx, cancel := context.WithTimeout(context.Background(), 2*bound)
			defer cancel()
			returnsWithin(t, bound, func() {
				_, err := l.Collect(ctx)
				checkOneLine(t, err, c.want, "or run podlab on node1 with sudo instead")
			})
		})
	}
}

// hungServer is a TCP listener on loopback that accepts connections and
// never answers: an API server that has stopped answering.
func hungServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "https://" + ln.Addr().String()
}

// TestHungAPIServer: an API server that accepts and never answers makes
// Open, and exec, fail within the timeout with one line saying what to do.
func TestHungAPIServer(t *testing.T) {
	const bound = time.Minute
	server := hungServer(t)
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["hung"] = &clientcmdapi.Cluster{Server: server, InsecureSkipTLSVerify: true}
	cfg.AuthInfos["student"] = &clientcmdapi.AuthInfo{Token: "podlab-test"}
	cfg.Contexts["hung"] = &clientcmdapi.Context{Cluster: "hung", AuthInfo: "student"}
	cfg.CurrentContext = "hung"
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, kubeconfig); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*bound)
	defer cancel()

	t.Run("open", func(t *testing.T) {
		returnsWithin(t, bound, func() {
			_, err := Open(ctx, Options{Kubeconfig: kubeconfig, Timeout: time.Second})
			checkOneLine(t, err, "the API server at "+server+" did not answer in time: check that the cluster is up and reachable from here (kubectl get nodes)")
		})
	})
	t.Run("exec", func(t *testing.T) {
		config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			t.Fatal(err)
		}
		l := execLab(t, config, time.Second)
		returnsWithin(t, bound, func() {
			_, err := l.Collect(ctx)
			checkOneLine(t, err, "exec ip -j addr in pod yaobank/"+customer+" gave no complete answer in ", "the API server")
		})
	})
}

// TestClientGoQuiet: client-go's log lines (klog) reach no stderr, where
// they would draw over the terminal UI; a flooding exec, which makes
// client-go log, writes nothing there either. The test runs itself in a
// child process, whose stderr is its own.
func TestClientGoQuiet(t *testing.T) {
	if os.Getenv("PODLAB_QUIET_CHILD") == "1" {
		if _, err := Open(context.Background(), Options{Kubeconfig: filepath.Join(t.TempDir(), "none")}); err == nil {
			t.Fatal("Open without a kubeconfig succeeded")
		}
		klog.ErrorS(errors.New("probe"), "podlab-quiet-probe")
		l := execLab(t, execEndpoint(t, flood(chanStdout)), time.Minute)
		if _, err := l.Collect(context.Background()); !errors.Is(err, errOutputLimit) {
			t.Fatalf("flood: %v", err)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestClientGoQuiet$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PODLAB_QUIET_CHILD=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "PASS") {
		t.Fatalf("child did not pass:\n%s", stdout.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("client-go wrote to stderr:\n%s", stderr.String())
	}
}

// TestExecThroughAPIServer: exec through the real API server to a
// kubelet stand-in: a command that answers, one that never ends, and one
// that floods. The last two end within their bound with one line.
func TestExecThroughAPIServer(t *testing.T) {
	s := kubetest.Start(t)
	const bound = time.Minute
	never := func(_ []string, _, _ io.Writer, stop <-chan struct{}) { <-stop }
	cases := []struct {
		name    string
		exec    kubetest.ExecFunc
		timeout time.Duration
		want    string // error prefix; empty for success
	}{
		{"answers", func(cmd []string, stdout, _ io.Writer, _ <-chan struct{}) {
			io.WriteString(stdout, strings.Join(cmd, " "))
		}, bound, ""},
		{"never ends", never, 2 * time.Second, "exec ip -j addr in pod yaobank/exec-test gave no complete answer in "},
		{"output, then nothing", func(_ []string, stdout, _ io.Writer, stop <-chan struct{}) {
			io.WriteString(stdout, `[{"ifindex":1,`)
			<-stop
		}, 2 * time.Second, "exec ip -j addr in pod yaobank/exec-test gave no complete answer in "},
		// The timeout is far above the time to pass 4 MiB through the API
		// server: only the limit can end this.
		{"flood", func(_ []string, stdout, _ io.Writer, _ <-chan struct{}) {
			line := bytes.Repeat([]byte("podlab-flood\n"), 2500)
			for {
				if _, err := stdout.Write(line); err != nil {
					return
				}
			}
		}, bound, "exec ip -j addr in pod yaobank/exec-test printed more than 4 MiB: "},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			node := fmt.Sprintf("kubelet%d", i)
			s.AddKubelet(t, node, c.exec)
			s.AddPod(t, "yaobank", "exec-test", node, "198.19.30.5", map[string]string{"app": "exec-test"}, corev1.PodRunning)
			l, err := open(t, Options{Kubeconfig: s.Kubeconfig, Pod: "exec-test", Timeout: c.timeout})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*bound)
			defer cancel()
			returnsWithin(t, bound, func() {
				out, err := l.exec(ctx, []string{"ip", "-j", "addr"})
				if c.want == "" {
					if err != nil || string(out) != "ip -j addr" {
						t.Errorf("exec: %q, %v; want the command echoed", out, err)
					}
					return
				}
				checkOneLine(t, err, c.want, "or run podlab on "+node+" with sudo instead")
			})
		})
	}
}
