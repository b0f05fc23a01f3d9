package class

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Backoff bounds between reconnections.
var (
	minBackoff = 250 * time.Millisecond
	maxBackoff = 4 * time.Second
)

// heartbeat is how often a follower repeats its report, so the roster
// knows it is still there.
const heartbeat = 15 * time.Second

// Follower is a student's side: it follows the presenter's stream and
// reports the student's own step.
type Follower struct {
	base   *url.URL
	token  string
	name   string
	report bool
	stream *http.Client
	post   *http.Client

	mu      sync.Mutex
	last    *Report
	pending chan struct{}
}

// NewFollower checks the presenter's URL (http://HOST:PORT, optionally
// with ?token=T, which the presenter prints) and returns a follower. The
// token comes from the URL when not given. report false (--no-report)
// sends nothing about the student.
func NewFollower(rawURL, token, name string, report bool) (*Follower, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--follow %q: want the presenter's URL, like http://10.0.0.5:7777", rawURL)
	}
	if t := u.Query().Get("token"); token == "" {
		token = t
	}
	if token == "" {
		return nil, errors.New("--follow needs the class token: --class-token TOKEN, PODLAB_CLASS_TOKEN, or the URL the presenter shows (…?token=…)")
	}
	u.RawQuery, u.Fragment, u.Path = "", "", strings.TrimSuffix(u.Path, "/")
	dial := &net.Dialer{Timeout: 5 * time.Second}
	return &Follower{
		base:    u,
		token:   token,
		name:    name,
		report:  report,
		stream:  &http.Client{Transport: &http.Transport{DialContext: dial.DialContext, ResponseHeaderTimeout: 5 * time.Second}},
		post:    &http.Client{Timeout: 5 * time.Second},
		pending: make(chan struct{}, 1),
	}, nil
}

// URL is the presenter's address, without the token.
func (f *Follower) URL() string { return f.base.String() }

// Report notes the student's step and answered questions; the latest is
// sent soon after, and repeated now and then. It never blocks.
func (f *Follower) Report(section, step int, answered []string) {
	if !f.report {
		return
	}
	f.mu.Lock()
	f.last = &Report{Name: f.name, Section: section, Step: step, Answered: answered}
	f.mu.Unlock()
	select {
	case f.pending <- struct{}{}:
	default:
	}
}

// Follow follows the presenter until ctx ends, reconnecting with backoff
// when the stream fails. update gets each step the presenter shows
// (section > 0) and each change of the link's state in words (section
// 0); live says a stream is open.
func (f *Follower) Follow(ctx context.Context, update func(section, step int, status string, live bool)) {
	if f.report {
		go f.reporter(ctx)
	}
	wait := minBackoff
	for ctx.Err() == nil {
		opened, err := f.once(ctx, update)
		if ctx.Err() != nil {
			return
		}
		if opened {
			wait = minBackoff
		}
		update(0, 0, fmt.Sprintf("%s; trying again in %s", describe(err), wait.Round(100*time.Millisecond)), false)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, maxBackoff)
	}
}

// errRefused is the presenter saying no to the token.
var errRefused = errors.New("the presenter refused the class token: ask for the right one (--class-token or PODLAB_CLASS_TOKEN)")

// once reads one stream to its end. opened says the stream was open.
func (f *Follower) once(ctx context.Context, update func(int, int, string, bool)) (opened bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.base.String()+"/v1/steps", nil)
	if err != nil {
		return false, err
	}
	req.Header.Set(TokenHeader, f.token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := f.stream.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return false, errRefused
	case resp.StatusCode != http.StatusOK:
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return false, fmt.Errorf("the presenter answered %s: %s", resp.Status, CleanName(string(msg)))
	}
	update(0, 0, "following "+f.base.Host, true)
	if f.report {
		select { // tell the roster at once
		case f.pending <- struct{}{}:
		default:
		}
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1024), 4096)
	var seq uint64
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var p Position
		if json.Unmarshal([]byte(data), &p) != nil || p.Section < 1 || p.Step < 1 || p.Seq < seq {
			continue
		}
		seq = p.Seq
		update(p.Section, p.Step, "following "+f.base.Host, true)
	}
	if err := sc.Err(); err != nil {
		return true, err
	}
	return true, io.EOF
}

// describe says in words why the link is down.
func describe(err error) string {
	switch {
	case errors.Is(err, errRefused):
		return err.Error()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "lost the presenter"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "the presenter is not serving"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "the presenter does not answer"
	}
	return "cannot reach the presenter"
}

// reporter sends the latest report when there is one, at most one a
// reportEvery, and repeats it every heartbeat.
func (f *Follower) reporter(ctx context.Context) {
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.pending:
		case <-beat.C:
		}
		f.mu.Lock()
		r := f.last
		f.mu.Unlock()
		if r != nil {
			f.send(ctx, *r)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(reportEvery + 50*time.Millisecond):
		}
	}
}

func (f *Follower) send(ctx context.Context, r Report) {
	b, _ := json.Marshal(r)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.base.String()+"/v1/report", bytes.NewReader(b))
	if err != nil {
		return
	}
	req.Header.Set(TokenHeader, f.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.post.Do(req)
	if err != nil {
		return // the stream says what is wrong with the link
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1024))
	resp.Body.Close()
}
