package bird

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// Limits bound what one read takes from BIRD. A node's answer is a
// couple of KiB a protocol; the defaults hold thousands of peers.
type Limits struct {
	// Bytes is all of the answers together, greeting included.
	Bytes int
	// Lines is the number of lines, and Line the bytes of one.
	Lines, Line int
	// Protocols is the number of protocols, and Channels of one's channels.
	Protocols, Channels int
}

// DefaultLimits are the bounds of Read.
var DefaultLimits = Limits{Bytes: 8 << 20, Lines: 256 << 10, Line: 4 << 10, Protocols: 4096, Channels: 16}

// LimitError is an answer over one of the Limits; it names the bound.
type LimitError struct{ What string }

func (e *LimitError) Error() string { return "its answer has " + e.What }

// errNotBird is behind a line that is not of BIRD's control protocol.
var errNotBird = errors.New("not BIRD's control protocol")

// replyReader reads BIRD's replies one line at a time. A reply line is a
// four-digit code and '-' (more follows) or ' ' (the reply's last line),
// then text; a line that starts with a space continues the code before
// it; '+' starts a spontaneous printout, which is not part of a reply.
// Codes 8xxx and 9xxx are errors (BIRD's doc/reply_codes).
type replyReader struct {
	r          *bufio.Reader
	lim        Limits
	bytes      int
	lines      int
	code       int
	inProgress bool
}

func newReplyReader(r io.Reader, lim Limits) *replyReader {
	// ReadSlice's buffer is the line bound: a longer line fills it.
	return &replyReader{r: bufio.NewReaderSize(r, lim.Line+1), lim: lim}
}

// next is the next line of the current reply: its code, its text, and
// whether it ends the reply.
func (rr *replyReader) next() (code int, text string, last bool, err error) {
	for {
		b, err := rr.r.ReadSlice('\n')
		rr.bytes += len(b)
		switch {
		case rr.bytes > rr.lim.Bytes:
			return 0, "", false, &LimitError{fmt.Sprintf("more than %s", sizeName(rr.lim.Bytes))}
		case errors.Is(err, bufio.ErrBufferFull):
			return 0, "", false, &LimitError{fmt.Sprintf("a line longer than %s", sizeName(rr.lim.Line))}
		case errors.Is(err, io.EOF):
			return 0, "", false, io.ErrUnexpectedEOF
		case err != nil:
			return 0, "", false, err
		}
		rr.lines++
		if rr.lines > rr.lim.Lines {
			return 0, "", false, &LimitError{fmt.Sprintf("more than %d lines", rr.lim.Lines)}
		}
		line := string(b[:len(b)-1])
		switch {
		case line != "" && line[0] == '+':
			continue
		case line != "" && line[0] == ' ':
			if !rr.inProgress {
				return 0, "", false, errNotBird
			}
			return rr.code, line[1:], false, nil
		}
		code, ok := LineCode(line)
		if !ok {
			return 0, "", false, errNotBird
		}
		rr.code = code
		rr.inProgress = line[4] == '-'
		return code, line[5:], !rr.inProgress, nil
	}
}

// LineCode is the four-digit code a reply line of BIRD's control
// socket starts with, followed by '-' (more follows) or ' ' (the last).
func LineCode(line string) (int, bool) {
	if len(line) < 5 || line[4] != '-' && line[4] != ' ' {
		return 0, false
	}
	n := 0
	for _, c := range []byte(line[:4]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// isError says whether a code is one of BIRD's errors: run-time (8xxx)
// or parse-time (9xxx).
func isError(code int) bool { return code >= 8000 }

// sizeName says a limit in bytes, KiB or MiB.
func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
