package kubetest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"
)

// ExecFunc is a command run by a kubelet stand-in: it writes the output to
// stdout and stderr and returns when the command ends. stop closes when
// the API server hangs up; a command that never ends waits for it.
type ExecFunc func(command []string, stdout, stderr io.Writer, stop <-chan struct{})

// AddKubelet registers node name with a kubelet stand-in: an https server
// on 127.0.0.1 that the API server reaches for the exec subresource of
// the node's pods (kubectl exec), and that runs exec for each command.
// It speaks the kubelet's side of the exec protocol over SPDY, as the API
// server expects of a kubelet. The node's only address is 127.0.0.1, so
// the API server dials that, at the stand-in's port.
func (s *Server) AddKubelet(t testing.TB, name string, exec ExecFunc) *corev1.Node {
	t.Helper()
	var (
		mu     sync.Mutex
		closed bool
		conns  []httpstream.Connection
		wg     sync.WaitGroup
	)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// /exec/{namespace}/{pod}/{container}?command=…&output=1&error=1
		if !strings.HasPrefix(r.URL.Path, "/exec/") {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		if closed {
			mu.Unlock()
			http.Error(w, "kubelet stand-in stopped", http.StatusServiceUnavailable)
			return
		}
		wg.Add(1)
		mu.Unlock()
		defer wg.Done()
		serveExec(w, r, exec, func(c httpstream.Connection) bool {
			mu.Lock()
			defer mu.Unlock()
			conns = append(conns, c)
			return !closed
		})
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
	port, err := strconv.Atoi(srv.URL[strings.LastIndexByte(srv.URL, ':')+1:])
	if err != nil {
		t.Fatalf("kubetest: kubelet stand-in port: %v", err)
	}

	node := s.AddNode(t, name, "127.0.0.1")
	ctx := opContext(t)
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}}
	node.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(port)
	updated, err := s.Client(t).CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("kubetest: write the kubelet endpoint of node %s: %v", name, err)
	}
	return updated
}

// serveExec upgrades to SPDY, takes the streams the API server opens
// (error, stdout, stderr), runs exec, and closes them. track records the
// connection for cleanup and says whether to go on.
func serveExec(w http.ResponseWriter, r *http.Request, exec ExecFunc, track func(httpstream.Connection) bool) {
	if _, err := httpstream.Handshake(r, w, []string{"v5.channel.k8s.io", "v4.channel.k8s.io"}); err != nil {
		return // Handshake has answered
	}
	q := r.URL.Query()
	want := 1 // the error stream
	for _, k := range []string{"output", "error", "input"} {
		if q.Get(k) == "1" {
			want++
		}
	}
	streams := make(chan httpstream.Stream, want+2)
	conn := spdy.NewResponseUpgrader().UpgradeResponse(w, r, func(st httpstream.Stream, _ <-chan struct{}) error {
		streams <- st
		return nil
	})
	if conn == nil {
		return
	}
	defer conn.Close()
	if !track(conn) {
		return
	}
	byType := map[string]httpstream.Stream{}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	for len(byType) < want {
		select {
		case st := <-streams:
			byType[st.Headers().Get(corev1.StreamType)] = st
		case <-conn.CloseChan():
			return
		case <-ctx.Done():
			return
		}
	}
	stop := make(chan struct{})
	go func() {
		<-conn.CloseChan()
		close(stop)
	}()
	stdout, stderr := io.Discard, io.Discard
	if st := byType[corev1.StreamTypeStdout]; st != nil {
		stdout = st
	}
	if st := byType[corev1.StreamTypeStderr]; st != nil {
		stderr = st
	}
	exec(q["command"], stdout, stderr, stop)
	// Closing the streams, the error stream last and empty, is a command
	// that exited 0.
	for _, t := range []string{corev1.StreamTypeStdout, corev1.StreamTypeStderr, corev1.StreamTypeStdin, corev1.StreamTypeError} {
		if st := byType[t]; st != nil {
			st.Close()
		}
	}
}
