package kubetest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// credentials is how a kubeconfig user authenticates: a bearer token, or a
// client certificate and key.
type credentials struct {
	token         string
	cert, certKey []byte
}

// writeKubeconfig writes a one-cluster, one-user kubeconfig whose current
// context is named after the user, the shape a student's file has.
func writeKubeconfig(path, server string, caPEM []byte, user string, cred credentials) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["podlab-test"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{
		Token:                 cred.token,
		ClientCertificateData: cred.cert,
		ClientKeyData:         cred.certKey,
	}
	cfg.Contexts[user] = &clientcmdapi.Context{Cluster: "podlab-test", AuthInfo: user}
	cfg.CurrentContext = user
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	return nil
}

// KubeconfigFor writes a kubeconfig for user in groups, authenticated by a
// client certificate, into the test's temporary directory and returns its
// path. The identity has only what RBAC grants it: by default that is
// discovery, so most requests fail with Forbidden. See Allow.
func (s *Server) KubeconfigFor(t testing.TB, user string, groups ...string) string {
	t.Helper()
	caPEM, err := os.ReadFile(filepath.Join(s.dir, "certs", "apiserver.crt"))
	if err != nil {
		t.Fatalf("kubetest: read the serving certificate: %v", err)
	}
	cert, key, err := s.ca.issue(user, groups)
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	path := filepath.Join(t.TempDir(), fileSafe.ReplaceAllString(user, "_")+".kubeconfig")
	if err := writeKubeconfig(path, s.URL, caPEM, user, credentials{cert: cert, certKey: key}); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	return path
}

var fileSafe = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// configFor is KubeconfigFor loaded as a client configuration.
func (s *Server) configFor(t testing.TB, user string, groups ...string) *rest.Config {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", s.KubeconfigFor(t, user, groups...))
	if err != nil {
		t.Fatalf("kubetest: load the kubeconfig of %q: %v", user, err)
	}
	return cfg
}

// ClientFor returns a clientset acting as user in groups.
func (s *Server) ClientFor(t testing.TB, user string, groups ...string) kubernetes.Interface {
	t.Helper()
	c, err := kubernetes.NewForConfig(s.configFor(t, user, groups...))
	if err != nil {
		t.Fatalf("kubetest: clientset for %q: %v", user, err)
	}
	return c
}
