package cluster

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// checkNodeName accepts what Kubernetes accepts as a node name (a DNS-1123
// subdomain): lowercase letters, digits, '-' and '.', starting and ending
// with a letter or digit, so never an ssh option or a shell word.
func checkNodeName(name string) error {
	if name == "" {
		return errors.New("which is empty")
	}
	if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
		return errors.New("which is not a valid node name (DNS-1123)")
	}
	return nil
}

// sshUser is a login name as useradd allows it.
var sshUser = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// checkSSHDest accepts [user@]host where host is a DNS name (ssh lowers
// its case) or an IP address without a zone: nothing ssh could read as an
// option, or a ProxyCommand's %h could hand a shell.
func checkSSHDest(dest string) error {
	host := dest
	if user, h, ok := strings.Cut(dest, "@"); ok {
		if !sshUser.MatchString(user) {
			return fmt.Errorf("the user %q is not a login name", user)
		}
		host = h
	}
	if host == "" {
		return errors.New("no host")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return errors.New("an address with a zone (%…) is not accepted")
		}
		return nil
	}
	if msgs := validation.IsDNS1123Subdomain(strings.ToLower(host)); len(msgs) > 0 {
		return fmt.Errorf("the host %q is neither a DNS name nor an IP address", host)
	}
	return nil
}
