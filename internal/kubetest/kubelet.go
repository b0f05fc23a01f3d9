package kubetest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"
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
