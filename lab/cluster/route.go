package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"podlab/lab/iproute"
	"podlab/netview"
)

// Route is the kernel's own answer, in the node's host namespace, for the
// route to dst (`ip route get`). The kernel refuses the question for a
// destination a blackhole or unreachable route covers; the answer is then
// that route, found by longest prefix match in a fresh snapshot.
func (l *Lab) Route(ctx context.Context, dst netip.Addr) (netview.Route, error) {
	// A zone (fe80::1%eth0) is free text that would follow the address
	// onto the node's command line; the lesson's addresses have none.
	if !dst.IsValid() || dst.Zone() != "" {
		return netview.Route{}, &Error{Msg: fmt.Sprintf("%q is not an address podlab looks up: give an IPv4 or IPv6 address without a zone (%%…)", dst.String())}
	}
	var (
		stdout []byte
		stderr string
		err    error
	)
	if l.where == Remote {
		// dst is validated above, so its text is hex digits, dots and
		// colons; it is quoted as well, so it stays one word for the
		// node's shell whatever the address's text.
		stdout, stderr, err = l.ssh(ctx, l.opts.Timeout, maxOutput, "ip -j route get "+shQuote(dst.String()))
	} else {
		stdout, stderr, err = l.routeHere(ctx, dst)
	}
	if e := (*Error)(nil); errors.As(err, &e) {
		return netview.Route{}, err // already one line: timeout, limit, bad destination
	}
	if err != nil {
		msg := lastLine(stderr)
		if strings.Contains(msg, "Invalid argument") || strings.Contains(msg, "unreachable") || strings.Contains(msg, "prohibited") {
			return l.lookup(ctx, dst)
		}
		if msg == "" {
			msg = err.Error()
		}
		return netview.Route{}, errorf(err, "route get %s on %s: %s", dst, l.facts.Node, msg)
	}
	r, err := iproute.ParseRouteGet(stdout)
	if err != nil {
		return netview.Route{}, errorf(err, "route get %s on %s: %v", dst, l.facts.Node, err)
	}
	return r, nil
}

// routeHere asks ip in the host namespace on this machine.
func (l *Lab) routeHere(ctx context.Context, dst netip.Addr) (stdout []byte, stderr string, err error) {
	ref, err := l.hostRef()
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	get := []string{"ip", "-j", "route", "get", dst.String()}
	switch {
	case ref.Name != "":
		get = append([]string{"ip", "-n", ref.Name}, get[1:]...)
	case ref.Path != "":
		get = append([]string{"nsenter", "--net=" + ref.Path}, get...)
	case ref.Pid != 0:
		get = append([]string{"nsenter", "-t", strconv.Itoa(ref.Pid), "-n"}, get...)
	}
	cmd := exec.CommandContext(ctx, get[0], get[1:]...)
	cmd.WaitDelay = time.Second
	out := &cappedBuffer{max: maxOutput, stop: cancel}
	errOut := &cappedBuffer{max: maxErrOutput, stop: cancel}
	cmd.Stdout, cmd.Stderr = out, errOut
	err = cmd.Run()
	if out.Over() || errOut.Over() {
		return nil, "", &Error{Msg: fmt.Sprintf("ip route get %s printed more than %s: check the ip command here", dst, sizeName(maxOutput)), Err: errOutputLimit}
	}
	return out.Bytes(), errOut.String(), err
}

// lookup answers from a snapshot when the kernel will not.
func (l *Lab) lookup(ctx context.Context, dst netip.Addr) (netview.Route, error) {
	p, err := l.Collect(ctx)
	if err != nil {
		return netview.Route{}, err
	}
	r, ok := netview.Lookup(&p.Host, dst)
	if !ok {
		return netview.Route{}, fmt.Errorf("no route to %s on %s", dst, l.facts.Node)
	}
	return r, nil
}
