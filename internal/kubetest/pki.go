package kubetest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"time"
)

const (
	caCertFile    = "client-ca.crt"
	tokenFile     = "tokens.csv"
	saPublicFile  = "sa.pub"
	saPrivateFile = "sa.key"
)

// authority signs the client certificates of restricted identities, so a
// test can ask for any user and groups after the server has started (a
// static token file is read only once, at startup).
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// writeCredentials writes what kube-apiserver needs to authenticate clients
// and sign service-account tokens: the client CA, the static token file
// with the admin, and the service-account key pair.
func (s *Server) writeCredentials() error {
	ca, err := newAuthority()
	if err != nil {
		return err
	}
	s.ca = ca
	if err := os.WriteFile(s.path(caCertFile), pemBlock("CERTIFICATE", ca.cert.Raw), 0o600); err != nil {
		return fmt.Errorf("write the client CA: %w", err)
	}

	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return fmt.Errorf("make the admin token: %w", err)
	}
	s.adminToken = hex.EncodeToString(tok)
	// token,user,uid,"group,group"
	line := fmt.Sprintf("%s,podlab-admin,podlab-admin,\"system:masters\"\n", s.adminToken)
	if err := os.WriteFile(s.path(tokenFile), []byte(line), 0o600); err != nil {
		return fmt.Errorf("write the token file: %w", err)
	}

	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("make the service-account key: %w", err)
	}
	priv, err := x509.MarshalPKCS8PrivateKey(saKey)
	if err != nil {
		return fmt.Errorf("encode the service-account key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return fmt.Errorf("encode the service-account public key: %w", err)
	}
	if err := os.WriteFile(s.path(saPrivateFile), pemBlock("PRIVATE KEY", priv), 0o600); err != nil {
		return fmt.Errorf("write the service-account key: %w", err)
	}
	if err := os.WriteFile(s.path(saPublicFile), pemBlock("PUBLIC KEY", pub), 0o600); err != nil {
		return fmt.Errorf("write the service-account public key: %w", err)
	}
	return nil
}

func newAuthority() (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("make the client CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "podlab kubetest client CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("sign the client CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse the client CA: %w", err)
	}
	return &authority{cert: cert, key: key}, nil
}

// issue returns a PEM client certificate and key for user: kube-apiserver
// takes the user from the common name and the groups from the organizations.
func (a *authority) issue(user string, groups []string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("make a key for %q: %w", user, err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, fmt.Errorf("make a serial for %q: %w", user, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: user, Organization: groups},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return nil, nil, fmt.Errorf("sign a certificate for %q: %w", user, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode the key for %q: %w", user, err)
	}
	return pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", keyDER), nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
