package class

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"podlab/content"
	"podlab/netview"
)

// Backoff bounds between reconnections.
var (
	minBackoff = 250 * time.Millisecond
	maxBackoff = 4 * time.Second
)

const (
	// heartbeat is how often a follower repeats its report, so the roster
	// knows it is still there.
	heartbeat = 15 * time.Second
	// silentAfter is how long a stream may say nothing before the
	// presenter counts as gone: three of its pings.
	silentAfter = 3 * 15 * time.Second
	// linesPerSecond bounds what a follower reads of the stream: an
	// event is two lines, and a presenter moves a few steps a second at
	// most. A stream that sends more waits for the follower (TCP holds
	// the rest back), so a flood costs the follower next to nothing.
	linesPerSecond = 40
)

// Follower is a student's side: it follows the presenter's stream and
// reports the student's own step.
type Follower struct {
	base   *url.URL
	token  string
	name   string
	report bool
	// pack is the student's lesson pack, "name@version"; "" names none.
	pack   string
	stream *http.Client
	post   *http.Client
	// silence, now and sleep are silentAfter and the clock; tests
	// change them.
	silence time.Duration
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error

	mu      sync.Mutex
	last    *Report
	secret  string // the presenter's secret for this follower
	problem string // why the presenter refused the last report
	link    string // the link's state in words
	live    bool
	update  func(at content.StepID, status string, live bool)
	pending chan struct{}
}

// NewFollower checks the presenter's URL (http://HOST:PORT, optionally
// with ?token=T, which the presenter prints) and returns a follower. The
// token comes from the URL when not given. report false (--no-report)
// sends nothing about the student.
func NewFollower(rawURL, token, name string, report bool) (*Follower, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--follow %q: want the presenter's URL, like http://10.0.0.5:7777", netview.RedactURL(rawURL))
	}
	if t := u.Query().Get("token"); token == "" {
		token = t
	}
	if token == "" {
		return nil, errors.New("--follow needs the class token: --class-token TOKEN, PODLAB_CLASS_TOKEN, or the URL the presenter shows (…?token=…)")
	}
	u.RawQuery, u.Fragment, u.Path = "", "", strings.TrimSuffix(u.Path, "/")
	dial := &net.Dialer{Timeout: 5 * time.Second}
	f := &Follower{
		base:    u,
		token:   token,
		name:    name,
		report:  report,
		silence: silentAfter,
		now:     time.Now,
		sleep:   sleepCtx,
		pending: make(chan struct{}, 1),
	}
	f.stream = &http.Client{
		Transport:     &http.Transport{DialContext: dial.DialContext, ResponseHeaderTimeout: 5 * time.Second},
		CheckRedirect: f.sameHost,
	}
	f.post = &http.Client{Timeout: 5 * time.Second, CheckRedirect: f.sameHost}
	return f, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// errRedirect is the presenter's address sending the follower elsewhere.
var errRedirect = errors.New("the presenter's address redirects to another host")

// sameHost follows a redirect only to the presenter's own scheme and
// host: the class token and the follower's secret go nowhere else.
func (f *Follower) sameHost(req *http.Request, via []*http.Request) error {
	if req.URL.Scheme != f.base.Scheme || req.URL.Host != f.base.Host {
		return fmt.Errorf("%w (%s)", errRedirect, CleanName(req.URL.Host))
	}
	if len(via) >= 3 {
		return errors.New("the presenter's address redirects too often")
	}
	return nil
}

// URL is the presenter's address, without the token or a password.
func (f *Follower) URL() string { return f.base.Redacted() }

// Report notes the student's step and answered questions; the latest is
// sent soon after, and repeated now and then. It never blocks.
func (f *Follower) Report(at content.StepID, answered []string) {
	if !f.report {
		return
	}
	f.mu.Lock()
	f.last = &Report{Name: f.name, Section: at.Section, Step: at.Step, Answered: answered}
	f.mu.Unlock()
	f.kick()
}

func (f *Follower) kick() {
	select {
	case f.pending <- struct{}{}:
	default:
	}
}

// Follow follows the presenter until ctx ends, reconnecting with backoff
// when the stream fails or falls silent. update gets each step the
// presenter shows (section > 0) and each change of the link's state in
// words (section 0); live says a stream is open. update may be called
// from two goroutines.
func (f *Follower) Follow(ctx context.Context, update func(at content.StepID, status string, live bool)) {
	f.mu.Lock()
	f.update = update
	f.mu.Unlock()
	if f.report {
		go f.reporter(ctx)
	}
	wait := minBackoff
	for ctx.Err() == nil {
		opened, err := f.once(ctx)
		if ctx.Err() != nil {
			return
		}
		if opened {
			wait = minBackoff
		}
		f.setLink(fmt.Sprintf("%s; trying again in %s", describe(err), wait.Round(100*time.Millisecond)), false)
		if f.sleep(ctx, wait) != nil {
			return
		}
		wait = min(wait*2, maxBackoff)
	}
}

// status is the link's state with the roster's refusal, if any.
func (f *Follower) status() (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.link
	if f.live && f.problem != "" {
		s += "; the roster refused the report: " + f.problem
	}
	return s, f.live
}

func (f *Follower) setLink(s string, live bool) {
	f.mu.Lock()
	f.link, f.live = s, live
	up := f.update
	f.mu.Unlock()
	st, l := f.status()
	up(content.StepID{}, st, l)
}

func (f *Follower) setProblem(p string) {
	f.mu.Lock()
	changed := f.problem != p
	f.problem = p
	up := f.update
	f.mu.Unlock()
	if changed && up != nil {
		st, l := f.status()
		up(content.StepID{}, st, l)
	}
}

// errRefused is the presenter saying no to the token.
var errRefused = errors.New("the presenter refused the class token: ask for the right one (--class-token or PODLAB_CLASS_TOKEN)")

// errSilent is a stream that said nothing, not even its ping, for too long.
var errSilent = errors.New("the presenter fell silent")

// once reads one stream to its end. opened says the stream was open.
func (f *Follower) once(ctx context.Context) (opened bool, err error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := f.streamRequest(sctx)
	if err != nil {
		return false, err
	}
	resp, err := f.stream.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if err := f.samePack(resp); err != nil {
		return false, err
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return false, errRefused
	case resp.StatusCode != http.StatusOK:
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return false, fmt.Errorf("the presenter answered %s: %s", CleanName(resp.Status), said(msg))
	}
	if sec := resp.Header.Get(FollowerHeader); sec != "" {
		if _, ok := secretKey(sec); ok {
			f.mu.Lock()
			f.secret = sec
			f.mu.Unlock()
		}
	}
	following := "following " + CleanName(f.base.Host)
	f.setLink(following, true)
	if f.report {
		f.kick() // tell the roster at once
	}
	var silent atomic.Bool
	quiet := time.AfterFunc(f.silence, func() { silent.Store(true); cancel() })
	defer quiet.Stop()
	lim := limiter{now: f.now, sleep: f.sleep, per: linesPerSecond}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1024), 4096)
	var seq uint64
	seen := false
	for sc.Scan() {
		quiet.Reset(f.silence)
		if err := lim.take(sctx); err != nil {
			break
		}
		p, ok := parseEvent(sc.Text())
		if !ok || seen && p.Seq <= seq {
			continue
		}
		seq, seen = p.Seq, true
		st, live := f.status()
		f.mu.Lock()
		up := f.update
		f.mu.Unlock()
		up(content.StepID{Section: p.Section, Step: p.Step}, st, live)
	}
	if silent.Load() {
		return true, errSilent
	}
	if err := sc.Err(); err != nil {
		return true, err
	}
	return true, io.EOF
}

// streamRequest is the request that opens the step stream. A check
// before the lesson sends the same, so that a presenter counts a
// refused follower once.
func (f *Follower) streamRequest(ctx context.Context) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.base.String()+"/v1/steps", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set(TokenHeader, f.token)
	req.Header.Set("Accept", "text/event-stream")
	f.mu.Lock()
	if f.secret != "" {
		req.Header.Set(FollowerHeader, f.secret)
	}
	f.mu.Unlock()
	if f.report {
		req.Header.Set(NameHeader, url.QueryEscape(f.name))
	}
	if f.pack != "" {
		req.Header.Set(PackHeader, f.pack)
	}
	return req, nil
}

// otherPackError is a presenter teaching another pack than the
// student's.
type otherPackError struct{ msg string }

func (e otherPackError) Error() string { return e.msg }

// samePack says whether the presenter's answer is of another pack: one
// that names its pack and refuses the stream, or names another than
// the student's. A presenter from before packs names none.
func (f *Follower) samePack(resp *http.Response) error {
	theirs := resp.Header.Get(PackHeader)
	if theirs == "" || len(theirs) > 256 {
		return nil
	}
	if resp.StatusCode == http.StatusConflict || f.pack != "" && theirs != f.pack {
		return otherPackError{OtherPack(theirs, f.pack)}
	}
	return nil
}

// Check asks the presenter once, before the lesson starts, whether it
// teaches the student's pack: the refusal when it does not, nil when it
// does or cannot be asked now (following says so later).
func (f *Follower) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := f.streamRequest(ctx)
	if err != nil {
		return nil
	}
	resp, err := f.stream.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	return f.samePack(resp)
}

// limiter paces the lines read to per a second.
type limiter struct {
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
	per   int
	start time.Time
	n     int
}

func (l *limiter) take(ctx context.Context) error {
	now := l.now()
	if now.Sub(l.start) >= time.Second {
		l.start, l.n = now, 0
	}
	if l.n >= l.per {
		if err := l.sleep(ctx, l.start.Add(time.Second).Sub(now)); err != nil {
			return err
		}
		l.start, l.n = l.now(), 0
	}
	l.n++
	return nil
}

// describe says in words why the link is down.
func describe(err error) string {
	switch {
	case errors.Is(err, errRefused):
		return err.Error()
	case errors.Is(err, errRedirect):
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return err.Error() + ": not followed, the class token stays here"
	case errors.As(err, new(otherPackError)):
		return err.Error()
	case errors.Is(err, errSilent):
		return fmt.Sprintf("the presenter fell silent (nothing for %s)", silentAfter)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "lost the presenter"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "the presenter is not serving"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "the presenter does not answer"
	}
	if err != nil && strings.HasPrefix(err.Error(), "the presenter answered") {
		return err.Error()
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
		r, secret := f.last, f.secret
		f.mu.Unlock()
		wait := reportEvery + 50*time.Millisecond
		if r != nil && secret != "" && f.send(ctx, *r, secret) { // the stream brings the secret
			// Over the presenter's rate: again a little later, each
			// follower at its own time.
			wait += time.Duration(rand.Int64N(int64(time.Second)))
			f.kick()
		}
		if f.sleep(ctx, wait) != nil {
			return
		}
	}
}

// send sends a report; again says it was refused for the rate, to be
// sent again.
func (f *Follower) send(ctx context.Context, r Report, secret string) (again bool) {
	b, _ := json.Marshal(r)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.base.String()+"/v1/report", bytes.NewReader(b))
	if err != nil {
		return false
	}
	req.Header.Set(TokenHeader, f.token)
	req.Header.Set(FollowerHeader, secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.post.Do(req)
	if err != nil {
		return false // the stream says what is wrong with the link
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK:
		f.setProblem("")
	case http.StatusConflict, http.StatusBadRequest, http.StatusServiceUnavailable:
		// What the student must act on (a name taken, a full roster);
		// a rate or a stale secret passes by itself.
		f.setProblem(said(msg))
	case http.StatusTooManyRequests:
		return true
	}
	return false
}

// said is what the presenter said, safe for a status line: its first
// line, cleaned.
func said(msg []byte) string {
	return netview.Clean(netview.FirstLine(strings.ToValidUTF8(string(msg), "")))
}
