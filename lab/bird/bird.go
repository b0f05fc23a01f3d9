// Package bird reads BIRD's sessions from BIRD's own control socket, as
// `birdc show protocols all` shows them, without birdc: it speaks the
// socket's line protocol itself, bounded in bytes, lines and time. It
// only reads: the session is restricted first (birdc -r), and the one
// command sent after that is fixed.
package bird

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"podlab/netview"
)

// DefaultTimeout bounds connecting and the whole exchange when the
// context has no earlier deadline. BIRD answers from memory, at once.
const DefaultTimeout = 5 * time.Second

// The commands sent. "restrict" makes the session read-only, as birdc
// -r does: BIRD then refuses configure, enable, disable, restart…
const (
	cmdRestrict = "restrict"
	cmdShow     = "show protocols all"
)

// Protocols reads every protocol of the BIRD whose control socket is
// sock, with DefaultLimits. Its errors are one line.
func Protocols(ctx context.Context, sock string) (netview.BirdProtocols, error) {
	return ProtocolsWithin(ctx, sock, DefaultLimits)
}

// ProtocolsWithin is Protocols with other limits.
func ProtocolsWithin(ctx context.Context, sock string, lim Limits) (netview.BirdProtocols, error) {
	name := netview.Cut(sock, 4096)
	deadline := time.Now().Add(DefaultTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	within := time.Until(deadline).Round(time.Millisecond)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return nil, dialError(name, within, err)
	}
	defer c.Close()
	// A cancelled context ends a read at once; the deadline bounds it.
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := c.SetDeadline(deadline); err != nil {
		return nil, fmt.Errorf("bird at %s: %v", name, err)
	}
	ps, err := exchange(c, lim)
	if err != nil {
		return nil, exchangeError(ctx, name, within, err)
	}
	return ps, nil
}

// exchange greets BIRD, restricts the session and reads `show protocols
// all` from rw. The protocols it returns are sanitised.
func exchange(rw io.ReadWriter, lim Limits) (netview.BirdProtocols, error) {
	rr := newReplyReader(rw, lim)
	if code, _, last, err := rr.next(); err != nil {
		return nil, err
	} else if code != codeHello || !last {
		return nil, errNotBird
	}
	restricted := false
	err := ask(rw, rr, cmdRestrict, func(code int, _ string) error {
		restricted = code == codeRestrict
		if !restricted {
			return errNotBird
		}
		return nil
	})
	if err == nil && !restricted {
		err = errNotBird
	}
	if err != nil {
		var re *replyError
		// A BIRD that does not know restrict (before 2.0) says so with a
		// parse error; the command sent next only reads.
		if !errors.As(err, &re) || re.code/1000 != 9 {
			return nil, err
		}
	}
	p := &protocolsParser{lim: lim, ch: -1}
	err = ask(rw, rr, cmdShow, p.line)
	var re *replyError
	if errors.As(err, &re) && re.code == codeNoMatch {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	p.out.Sanitize()
	return p.out, nil
}

// replyError is BIRD's refusal of a command (a reply code 8xxx or 9xxx).
type replyError struct {
	cmd  string
	code int
	text string
}

func (e *replyError) Error() string {
	return fmt.Sprintf("it refused %q: %04d %s", e.cmd, e.code, netview.Cut(strings.TrimSpace(e.text), 512))
}

// ask sends cmd and hands each line of the reply to line, until the
// reply's last line.
func ask(w io.Writer, rr *replyReader, cmd string, line func(code int, text string) error) error {
	if _, err := io.WriteString(w, cmd+"\n"); err != nil {
		return err
	}
	for {
		code, text, last, err := rr.next()
		if err != nil {
			return err
		}
		if isError(code) {
			return &replyError{cmd: cmd, code: code, text: text}
		}
		if code != codeOK {
			if err := line(code, text); err != nil {
				return err
			}
		}
		if last {
			return nil
		}
	}
}

// dialError words a failed connect: no socket, nobody listening, no right
// to it.
func dialError(name string, within time.Duration, err error) error {
	var errno syscall.Errno
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("cannot reach bird at %s: no such socket: check that bird runs with -s %s", name, name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("cannot reach bird at %s: connection refused: bird is not running there; start it, or see in its log why it stopped", name)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("cannot reach bird at %s: permission denied: read it as root (sudo)", name)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("cannot reach bird at %s within %s: check that bird runs", name, within)
	case errors.As(err, &errno):
		return fmt.Errorf("cannot reach bird at %s: %v", name, errno)
	}
	return fmt.Errorf("cannot reach bird at %s: %s", name, netview.FirstLine(err.Error()))
}

// exchangeError words what went wrong after connecting.
func exchangeError(ctx context.Context, name string, within time.Duration, err error) error {
	var lim *LimitError
	var re *replyError
	var ne net.Error
	switch {
	case errors.As(err, &lim):
		return fmt.Errorf("bird at %s: %v (podlab reads no more): check that this is BIRD's control socket", name, lim)
	case errors.As(err, &re):
		return fmt.Errorf("bird at %s: %v", name, re)
	case errors.Is(err, errNotBird):
		return fmt.Errorf("%s does not speak BIRD's control protocol: check the socket's path", name)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return fmt.Errorf("bird at %s closed the connection before answering: check its log", name)
	case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("bird at %s: %v", name, ctx.Err())
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("bird at %s did not answer within %s: check that it is not stuck (its log)", name, within)
	}
	return fmt.Errorf("bird at %s: %s", name, netview.FirstLine(err.Error()))
}
