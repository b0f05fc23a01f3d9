package kubetest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
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

// Files of the API server's side of the kubelet connection: its client
// certificate for the kubelet API, signed by the client CA that the
// kubelet stand-ins also trust.
const (
	kubeletClientCertFile = "kubelet-client.crt"
	kubeletClientKeyFile  = "kubelet-client.key"
)

// writeKubeletClient writes the certificate kube-apiserver presents to
// kubelets, as a member of system:masters like kubeadm's
// apiserver-kubelet-client.
func (s *Server) writeKubeletClient() error {
	cert, key, err := s.ca.issue("kube-apiserver-kubelet-client", []string{"system:masters"})
	if err != nil {
		return err
	}
	if err := os.WriteFile(s.path(kubeletClientCertFile), cert, 0o600); err != nil {
		return fmt.Errorf("write the kubelet client certificate: %w", err)
	}
	if err := os.WriteFile(s.path(kubeletClientKeyFile), key, 0o600); err != nil {
		return fmt.Errorf("write the kubelet client key: %w", err)
	}
	return nil
}

// KubeletTLS returns the TLS configuration of a kubelet stand-in serving
// on ips: a serving certificate the API server trusts, and a demand for
// the API server's client certificate (no one else may exec).
func (s *Server) KubeletTLS(t testing.TB, ips ...netip.Addr) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("kubetest: kubelet key: %v", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatalf("kubetest: kubelet serial: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "podlab-test-kubelet"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, ip := range ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(ip.AsSlice()))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.ca.cert, &key.PublicKey, s.ca.key)
	if err != nil {
		t.Fatalf("kubetest: sign the kubelet certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(s.ca.cert)
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}
}

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
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	// The API server checks a kubelet's certificate against the test CA.
	srv.TLS = s.KubeletTLS(t, netip.MustParseAddr("127.0.0.1"))
	srv.StartTLS()
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
