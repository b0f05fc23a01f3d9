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
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

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
	path, err := lookPath(argv[0])
	if err != nil {
		return nil, fmt.Errorf("%s is not installed: install iptables (apt-get install iptables) to read kube-proxy's rules", argv[0])
	}
	budget := Timeout
	if d, ok := ctx.Deadline(); ok {
		budget = time.Until(d).Round(time.Millisecond)
	} else {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, Timeout)
		defer cancel()
	}
	out, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer out.Close()
	// A pipe of 1 MiB rather than 64 KiB: iptables-save then writes a
	// large table in fewer turns of the two processes.
	_, _ = unix.FcntlInt(w.Fd(), unix.F_SETPIPE_SZ, 1<<20)
	cmd := exec.CommandContext(ctx, path, argv[1:]...)
	cmd.Env = []string{"LC_ALL=C"}
	cmd.WaitDelay = time.Second
	cmd.Stdout = w
	var stderr bytes.Buffer
	cmd.Stderr = &capped{b: &stderr, n: 4 << 10}
	// Only the start happens on the namespace's thread: the child is
	// born in the namespace the thread joined. The parse runs here, on
	// an ordinary goroutine: a goroutine locked to its thread pays a
	// thread hand-off each time it waits on the pipe, which cost more
	// than the parse itself.
	err = lab.InNS(r, cmd.Start)
	w.Close()
	if err != nil {
		if errors.Is(err, lab.ErrNeedRoot) || errors.Is(err, lab.ErrNamespaceGone) {
			return nil, err
		}
		return nil, fmt.Errorf("running %s: %s", argv[0], netview.FirstLine(err.Error()))
	}
	lr := &bounded{r: out, n: max}
	t, perr := kubeproxy.ParseSave(lr, lim)
	if perr != nil {
		// Stop it rather than read on: past a bound, the rest is not
		// wanted, and may be endless.
		_ = cmd.Process.Kill()
	}
	werr := cmd.Wait()
	switch {
	case lr.over:
		return nil, fmt.Errorf("%s printed more than %s: podlab reads at most that much", argv[0], size(max))
	case ctx.Err() != nil:
		return nil, fmt.Errorf("%s took longer than podlab waits (%v): %w", argv[0], budget, ctx.Err())
	case perr != nil:
		return nil, perr
	case werr != nil:
		msg := netview.Clean(netview.FirstLine(stderr.String()))
		if msg == "" {
			msg = netview.FirstLine(werr.Error())
		}
		return nil, fmt.Errorf("%s -t nat failed: %s", argv[0], msg)
	}
	return t, nil
}

// lookPath finds a program in the system's own directories first: podlab
// runs it as root, and a PATH is the caller's (a plain user's lacks
// /usr/sbin, where iptables-save lives).
func lookPath(name string) (string, error) {
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return exec.LookPath(name)
}

func size(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
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

// ReadNAT reads the NAT rules kube-proxy wrote in the namespace, in
// whichever mode it runs: its nftables table when there is one, else the
// iptables nat table.
func ReadNAT(ctx context.Context, r lab.NSRef) (*kubeproxy.Table, error) {
	t, nerr := ReadNFT(ctx, r)
	if nerr == nil {
		return t, nil
	}
	if errors.Is(nerr, lab.ErrNeedRoot) || errors.Is(nerr, lab.ErrNamespaceGone) {
		return nil, nerr
	}
	return ReadIPTables(ctx, r)
}
