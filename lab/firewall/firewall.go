// Package firewall reads kube-proxy's NAT rules, with their counters, in
// a network namespace: the nat table through the installed
// iptables-save (legacy or nft backend, whichever it is), and
// kube-proxy's nftables table through netlink. It only reads.
package firewall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"time"

	"podlab/kubeproxy"
	"podlab/lab"
	"podlab/netview"
)

// MaxOutput bounds what iptables-save may print: 5,000 services with
// 20,000 endpoints are about 20 MiB.
const MaxOutput = 256 << 20

// Timeout is how long a read may take when the caller's context sets no
// deadline.
const Timeout = 30 * time.Second

// saveArgv is the one command run: no shell, no input.
var saveArgv = []string{"iptables-save", "-c", "-t", "nat"}

// ReadIPTables runs `iptables-save -c -t nat` in the namespace r and
// parses what it prints, as it prints it (a large table is never held
// whole).
func ReadIPTables(ctx context.Context, r lab.NSRef) (*kubeproxy.Table, error) {
	return readIPTables(ctx, r, saveArgv, MaxOutput, kubeproxy.DefaultLimits)
}

func readIPTables(ctx context.Context, r lab.NSRef, argv []string, max int64, lim kubeproxy.Limits) (*kubeproxy.Table, error) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, fmt.Errorf("%s is not installed: install iptables (apt-get install iptables) to read kube-proxy's rules", argv[0])
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, Timeout)
		defer cancel()
	}
	var t *kubeproxy.Table
	err = lab.InNS(r, func() error {
		// Started on this thread, the child is born in the namespace
		// the thread joined.
		cmd := exec.CommandContext(ctx, path, argv[1:]...)
		cmd.Env = []string{"LC_ALL=C"}
		cmd.WaitDelay = time.Second
		var stderr bytes.Buffer
		cmd.Stderr = &capped{b: &stderr, n: 4 << 10}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("running %s: %s", argv[0], netview.FirstLine(err.Error()))
		}
		lr := &bounded{r: out, n: max}
		t, err = kubeproxy.ParseSave(lr, lim)
		if err != nil {
			_, _ = io.Copy(io.Discard, out)
		}
		werr := cmd.Wait()
		switch {
		case lr.over:
			return fmt.Errorf("%s printed more than %s: podlab reads at most that much", argv[0], size(max))
		case ctx.Err() != nil:
			return fmt.Errorf("%s took longer than podlab waits (%v): %w", argv[0], ctxBudget(ctx), ctx.Err())
		case err != nil:
			return err
		case werr != nil:
			msg := netview.Clean(netview.FirstLine(stderr.String()))
			if msg == "" {
				msg = netview.FirstLine(werr.Error())
			}
			return fmt.Errorf("%s -t nat failed: %s", argv[0], msg)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

func size(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

func ctxBudget(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return time.Until(d).Round(time.Second)
	}
	return 0
}

// bounded reads at most n bytes of r, then fails: a reader past its bound
// stops the parse instead of filling memory.
type bounded struct {
	r    io.Reader
	n    int64
	over bool
}

var errTooMuch = errors.New("output past its bound")

func (b *bounded) Read(p []byte) (int, error) {
	if b.n <= 0 {
		b.over = true
		return 0, errTooMuch
	}
	if int64(len(p)) > b.n {
		p = p[:b.n+1] // one byte past tells "more" from "exactly n"
	}
	k, err := b.r.Read(p)
	b.n -= int64(k)
	if b.n < 0 {
		b.over = true
		return k, errTooMuch
	}
	return k, err
}

// capped keeps the first n bytes written to it and drops the rest.
type capped struct {
	b *bytes.Buffer
	n int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.n - c.b.Len(); room > 0 {
		c.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
