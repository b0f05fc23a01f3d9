package sandbox

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"podlab/lab/bird"
	"podlab/netview"
)

// Bounds of a configure's answer: BIRD says two lines, or a parse error.
const (
	configureBytes = 64 << 10
	configureLines = 64
	configureLine  = 4 << 10
)

// birdConfigure has the sandbox's own BIRD at sock read its config file
// again, as `birdc configure` does; lab/bird only ever reads, so the
// one command that changes a BIRD is here, sent to BIRDs the sandbox
// started. Its answer is read within bounds all the same.
func birdConfigure(ctx context.Context, sock string) error {
	ctx, cancel := context.WithTimeout(ctx, bird.DefaultTimeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return fmt.Errorf("cannot reach its control socket %s: %s", sock, netview.FirstLine(err.Error()))
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	if err := configure(c); err != nil {
		return fmt.Errorf("configure over %s: %w", sock, err)
	}
	return nil
}

// configure greets BIRD on rw, sends configure, and reads its answer:
// 0003 Reconfigured, 0004 in progress or 0005 queued are done; an error
// code (8xxx, 9xxx: the config does not parse) or 0006 (BIRD is shutting
// down) is not.
func configure(rw io.ReadWriter) error {
	r := bufio.NewReaderSize(io.LimitReader(rw, configureBytes), configureLine+1)
	lines := 0
	// next is the next reply line's code and text, and whether it ends
	// the reply; continuation and asynchronous lines are skipped.
	next := func() (int, string, bool, error) {
		for {
			b, err := r.ReadSlice('\n')
			switch {
			case errors.Is(err, bufio.ErrBufferFull):
				return 0, "", false, fmt.Errorf("BIRD answered a line longer than %d bytes", configureLine)
			case errors.Is(err, io.EOF):
				return 0, "", false, errors.New("BIRD closed the connection before answering (or answered more than 64 KiB)")
			case err != nil:
				return 0, "", false, err
			}
			if lines++; lines > configureLines {
				return 0, "", false, fmt.Errorf("BIRD answered more than %d lines", configureLines)
			}
			line := strings.TrimSuffix(string(b), "\n")
			if line == "" || line[0] == '+' || line[0] == ' ' {
				continue
			}
			code, ok := bird.LineCode(line)
			if !ok {
				return 0, "", false, errors.New("the socket does not speak BIRD's control protocol")
			}
			return code, netview.Clean(line[5:]), line[4] == ' ', nil
		}
	}
	if code, _, last, err := next(); err != nil {
		return err
	} else if code != 1 || !last {
		return errors.New("the socket does not speak BIRD's control protocol")
	}
	if _, err := io.WriteString(rw, "configure\n"); err != nil {
		return err
	}
	for {
		code, text, last, err := next()
		switch {
		case err != nil:
			return err
		case code >= 8000:
			return fmt.Errorf("BIRD refused its config: %s", netview.Cut(text, 512))
		case code == 6:
			return errors.New("BIRD is shutting down")
		case last && (code == 3 || code == 4 || code == 5):
			return nil
		case last:
			return fmt.Errorf("BIRD answered %04d %s", code, netview.Cut(text, 512))
		}
	}
}
