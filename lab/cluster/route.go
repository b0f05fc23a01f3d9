package cluster

import (
	"bytes"
	"context"
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
	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	var cmd *exec.Cmd
	if l.where == Remote {
		args := []string{"-o", "BatchMode=yes", "-o", "ConnectTimeout=5"}
		if l.opts.SSHConfig != "" {
			args = append(args, "-F", l.opts.SSHConfig)
		}
		args = append(args, l.sshTarget(), "ip -j route get "+dst.String())
		cmd = exec.CommandContext(ctx, "ssh", args...)
	} else {
		ref, err := l.hostRef()
		if err != nil {
			return netview.Route{}, err
		}
		get := []string{"ip", "-j", "route", "get", dst.String()}
		switch {
		case ref.Name != "":
			get = append([]string{"ip", "-n", ref.Name}, get[1:]...)
		case ref.Path != "":
			get = append([]string{"nsenter", "--net=" + ref.Path}, get...)
		case ref.Pid != 0:
			get = append([]string{"nsenter", "-t", strconv.Itoa(ref.Pid), "-n"}, get...)
		}
		cmd = exec.CommandContext(ctx, get[0], get[1:]...)
	}
	ownGroup(cmd)
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := lastLine(stderr.String())
		if strings.Contains(msg, "Invalid argument") || strings.Contains(msg, "unreachable") || strings.Contains(msg, "prohibited") {
			return l.lookup(ctx, dst)
		}
		if msg == "" {
			msg = err.Error()
		}
		return netview.Route{}, oneLine(err, "route get %s on %s: %s", dst, l.facts.Node, msg)
	}
	r, err := iproute.ParseRouteGet(stdout.Bytes())
	if err != nil {
		return netview.Route{}, oneLine(err, "route get %s on %s: %v", dst, l.facts.Node, err)
	}
	return r, nil
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
