package cluster

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"

	"podlab/netview"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Error is a one-line message for the user that still carries the error
// behind it, for callers that inspect it (errors.Is, apierrors.IsForbidden).
type Error struct {
	Msg string
	Err error
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// errorf words err for the user, in one line.
func errorf(err error, format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...), Err: err}
}

// request names one API call, for messages: verb "list", resource "pods",
// namespace "" for cluster-wide.
type request struct {
	verb, resource, namespace string
}

func (r request) String() string {
	if r.namespace == "" {
		return r.verb + " " + r.resource
	}
	return r.verb + " " + r.resource + " in namespace " + r.namespace
}

// ask is what to ask an administrator for.
func (r request) ask() string {
	if r.namespace == "" {
		return fmt.Sprintf("%q", r.verb+" "+r.resource)
	}
	return fmt.Sprintf("%q in namespace %s", r.verb+" "+r.resource, r.namespace)
}

// transportError turns a failure to talk to the API server at all into one
// line saying what to do; ok is false when err is not such a failure.
func transportError(err error, server string) (*Error, bool) {
	var uerr *url.Error
	var cerr *x509.UnknownAuthorityError
	var herr x509.HostnameError
	var derr *net.DNSError
	var nerr net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return errorf(err, "cannot reach the API server at %s (connection refused): check that the cluster is up and that --kubeconfig/--context point at it, or use --lab sandbox", server), true
	case errors.As(err, &derr):
		return errorf(err, "cannot reach the API server at %s (no such host %s): check --kubeconfig/--context", server, derr.Name), true
	case errors.As(err, &cerr), errors.As(err, &herr):
		return errorf(err, "the API server at %s has a certificate the kubeconfig does not trust: check --context, or refresh the kubeconfig from the cluster", server), true
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr) && nerr.Timeout():
		return errorf(err, "the API server at %s did not answer in time: check that the cluster is up and reachable from here (kubectl get nodes)", server), true
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return errorf(err, "cannot reach the API server at %s (no route to it): check the network, or --kubeconfig/--context", server), true
	case errors.As(err, &uerr):
		return errorf(err, "cannot reach the API server at %s: %s: check --kubeconfig/--context", server, netview.FirstLine(uerr.Err.Error())), true
	}
	return nil, false
}

// apiError turns the error of request r into one line. ok is false when
// the error is not one this package explains (the caller decides).
func apiError(err error, r request, server string) *Error {
	if e, ok := transportError(err, server); ok {
		return e
	}
	switch {
	case apierrors.IsUnauthorized(err):
		return errorf(err, "the API server at %s refused the kubeconfig's credentials (401 Unauthorized): log in again or pick another --context", server)
	case apierrors.IsForbidden(err):
		return errorf(err, "forbidden: cannot %s: ask for %s", r, r.ask())
	}
	return errorf(err, "cannot %s: %s", r, netview.FirstLine(err.Error()))
}
