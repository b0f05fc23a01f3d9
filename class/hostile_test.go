package class

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lessonSteps stand for the presenter's lesson.
var lessonSteps = []string{"1.1", "1.2", "2.1", "2.2", "2.3", "2.4", "2.5", "3.1", "4.1"}

// client is an HTTP client whose connections come from the loopback
// address from (127.0.0.0/8 is all this machine's), so a test can play
// a student on another machine.
func client(from string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}, Timeout: 10 * time.Second}
}

// hostile is a student who holds the class token and tries what it
// gives them.
type hostile struct {
	t    *testing.T
	s    *Server
	http *http.Client
}

// open opens a step stream; it stays open until the test ends.
func (h hostile) open(secret string) (got string, status int) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+h.s.Addr()+"/v1/steps", nil)
	req.Header.Set(TokenHeader, "tok")
	if secret != "" {
		req.Header.Set(FollowerHeader, secret)
	}
	tr := h.http.Transport
	resp, err := (&http.Client{Transport: tr}).Do(req) // no timeout: a stream
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { resp.Body.Close() })
	return resp.Header.Get(FollowerHeader), resp.StatusCode
}

func (h hostile) report(secret, body string) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+h.s.Addr()+"/v1/report", strings.NewReader(body))
	req.Header.Set(TokenHeader, "tok")
	if secret != "" {
		req.Header.Set(FollowerHeader, secret)
	}
	resp, err := h.http.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(msg)
}

// closedAfterRefusal sends a request on a connection of its own and
// says whether the server closed the connection after answering it.
func closedAfterRefusal(t *testing.T, addr, request string) (status int, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, request)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// The old server held such a connection for its 60 s idle timeout;
	// a bounded wait tells the two apart without timing anything.
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = br.ReadByte()
	return resp.StatusCode, errors.Is(err, io.EOF)
}

// TestRefusedConnectionClosed: a client refused for its token loses the
// connection with the 401, so token-less requests hold no descriptor.
func TestRefusedConnectionClosed(t *testing.T) {
	s := listen(t, "127.0.0.1:0", "tok")
	for _, tt := range []struct{ name, req string }{
		{"no token", "GET /v1/steps HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"wrong token", "GET /v1/steps HTTP/1.1\r\nHost: x\r\n" + TokenHeader + ": nope\r\n\r\n"},
		{"report without a secret", "POST /v1/report HTTP/1.1\r\nHost: x\r\n" + TokenHeader + ": tok\r\nContent-Length: 2\r\n\r\n{}"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, closed := closedAfterRefusal(t, s.Addr(), tt.req)
			if code != http.StatusUnauthorized || !closed {
				t.Errorf("status %d, connection closed %v; want 401 and closed", code, closed)
			}
		})
	}
}

// TestNameBoundToFollower: a name belongs to the follower that took it;
// another follower holding the class token cannot report as it, and one
// follower puts one name on the roster.
func TestNameBoundToFollower(t *testing.T) {
	s := listenWith(t, "127.0.0.1:0", ServerOptions{Token: "tok", Steps: lessonSteps})
	ana, _, _ := stream(t, s, "tok", "")
	eve, _, _ := stream(t, s, "tok", "")
	if ana == "" || eve == "" || ana == eve {
		t.Fatalf("secrets %q and %q: want two, different", ana, eve)
	}
	tests := []struct {
		name, secret, body string
		want               int
	}{
		{"ana takes her name", ana, `{"name":"ana","section":2,"step":3}`, 204},
		{"eve reports as ana", eve, `{"name":"ana","section":1,"step":1}`, 409},
		{"eve as herself", eve, `{"name":"eve","section":1,"step":1}`, 204},
		{"eve takes a second name", eve, `{"name":"mallory","section":1,"step":1}`, 409},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			time.Sleep(reportEvery) // past the rate of one follower
			if got := post(t, s, "tok", tt.secret, tt.body); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
		})
	}
	r := roster(s)
	if len(r) != 2 || r["ana"].section != 2 || r["ana"].step != 3 {
		t.Errorf("roster %+v: want ana at 2.3 and eve", r)
	}
	// A follower that reconnects with its secret keeps it, and its name.
	again, code, _ := stream(t, s, "tok", ana)
	if code != 200 || again != ana {
		t.Errorf("ana reconnecting got %q (%d), want her secret back", again, code)
	}
	time.Sleep(reportEvery)
	if got := post(t, s, "tok", ana, `{"name":"ana","section":2,"step":4}`); got != 204 {
		t.Errorf("ana after reconnecting: status %d", got)
	}
}

// TestRosterEntriesExpire: an entry not heard from for dropAfter leaves
// the roster, and its name is free again.
func TestRosterEntriesExpire(t *testing.T) {
	s := listen(t, "127.0.0.1:0", "tok")
	ana, _, closeAna := stream(t, s, "tok", "")
	if got := post(t, s, "tok", ana, `{"name":"ana","section":1,"step":1}`); got != 204 {
		t.Fatalf("status %d", got)
	}
	closeAna()
	// The server notices the closed stream in its own time; until then
	// ana's session is open and rightly kept.
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		open := len(s.subs)
		s.mu.Unlock()
		if open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server still holds %d streams 10s after ana closed hers", open)
		}
		time.Sleep(10 * time.Millisecond)
	}
	later := time.Now().Add(dropAfter + time.Minute)
	s.mu.Lock()
	s.now = func() time.Time { return later }
	s.mu.Unlock()
	if r := roster(s); len(r) != 0 {
		t.Errorf("roster %+v after %v without a report", r, dropAfter)
	}
	bo, _, _ := stream(t, s, "tok", "")
	if got := post(t, s, "tok", bo, `{"name":"ana","section":1,"step":1}`); got != 204 {
		t.Errorf("the expired name is not free: status %d", got)
	}
	if got := post(t, s, "tok", ana, `{"name":"ana","section":1,"step":1}`); got != 401 {
		t.Errorf("the expired follower's secret still reports: status %d", got)
	}
}

// TestPerAddressLimits: one source address holds at most PerAddress
// streams and names; other addresses are not affected, and the roster
// counts the refused.
func TestPerAddressLimits(t *testing.T) {
	s := listenWith(t, "127.0.0.1:0", ServerOptions{Token: "tok", PerAddress: 3})
	eve := hostile{t, s, client("127.0.0.66")}
	var secrets []string
	for i := 0; i < 5; i++ {
		sec, code := eve.open("")
		switch {
		case i < 3 && code != 200, i >= 3 && code != http.StatusTooManyRequests:
			t.Errorf("stream %d: status %d", i, code)
		case code == 200:
			secrets = append(secrets, sec)
		}
	}
	if _, code, _ := stream(t, s, "tok", ""); code != 200 {
		t.Errorf("another address is refused a stream: %d", code)
	}
	refused := map[string]int{}
	s.Refused(func(reason string, n int) { refused[reason] = n })
	if refused["too many from one address"] != 1 {
		t.Errorf("refused %v: want 1 too many from one address", refused)
	}
}

// TestRedirectElsewhereRefused: a presenter's address that redirects to
// another host is not followed, and the token never reaches that host.
func TestRedirectElsewhereRefused(t *testing.T) {
	var leaked atomic.Int32
	elsewhere := serveHTTP(t, "127.0.0.2:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(TokenHeader) != "" {
			leaked.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	redirect := serveHTTP(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+elsewhere+r.URL.Path, http.StatusFound)
	}))
	f, err := NewFollower("http://"+redirect, "tok", "ana", true)
	if err != nil {
		t.Fatal(err)
	}
	u := waitUpdate(t, follow(t, f), "the refusal", func(u update) bool { return u.status != "" })
	if u.live || !strings.Contains(u.status, "redirects to another host") {
		t.Errorf("status %+v: want the redirect refused", u)
	}
	if n := leaked.Load(); n > 0 {
		t.Errorf("the class token went to the other host %d times", n)
	}
}

// serveHTTP serves h on addr until the test ends and gives the address.
func serveHTTP(t *testing.T, addr string, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// TestSilentPresenter: a stream that says nothing, not even a ping, is
// taken as lost: said so, and followed again.
func TestSilentPresenter(t *testing.T) {
	var opened atomic.Int32
	addr := serveHTTP(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opened.Add(1)
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	f, err := NewFollower("http://"+addr, "tok", "ana", false)
	if err != nil {
		t.Fatal(err)
	}
	f.silence = 300 * time.Millisecond
	ups := follow(t, f)
	waitUpdate(t, ups, "following", func(u update) bool { return u.live })
	u := waitUpdate(t, ups, "the silence noticed", func(u update) bool { return !u.live })
	if !strings.Contains(u.status, "fell silent") || !strings.Contains(u.status, "trying again") {
		t.Errorf("status %q: want the silence said, and a retry", u.status)
	}
	waitUpdate(t, ups, "following again", func(u update) bool { return u.live })
	if opened.Load() < 2 {
		t.Errorf("%d streams opened, want a reconnection", opened.Load())
	}
}

// fakeClock is a clock that moves only when slept on.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

// TestFloodPaced: a presenter (or whatever answers at its address) that
// floods the stream is read at most linesPerSecond lines a second: the
// follower draws at most half that many steps in any second.
func TestFloodPaced(t *testing.T) {
	const events = 2000
	addr := serveHTTP(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		bw := bufio.NewWriter(w)
		for i := 1; i <= events; i++ {
			fmt.Fprintf(bw, "data: {\"seq\":%d,\"section\":%d,\"step\":1}\n\n", i, 1+i%2)
		}
		bw.Flush()
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	f, err := NewFollower("http://"+addr, "tok", "ana", false)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	f.now, f.sleep = clock.Now, clock.Sleep
	var mu sync.Mutex
	perSecond := map[int64]int{}
	last := make(chan struct{})
	var once sync.Once
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		n := 0
		f.Follow(ctx, func(section, step int, status string, live bool) {
			if section == 0 {
				return
			}
			mu.Lock()
			perSecond[clock.Now().Unix()]++
			mu.Unlock()
			if n++; n == events {
				once.Do(func() { close(last) })
			}
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-last:
	case <-time.After(30 * time.Second):
		mu.Lock()
		total := 0
		for _, n := range perSecond {
			total += n
		}
		mu.Unlock()
		t.Fatalf("the flood was not read to its end: %d of %d events", total, events)
	}
	mu.Lock()
	defer mu.Unlock()
	for sec, n := range perSecond {
		if n > linesPerSecond/2 {
			t.Errorf("%d steps drawn in second %d, want at most %d", n, sec, linesPerSecond/2)
		}
	}
	if len(perSecond) < events/(linesPerSecond/2) {
		t.Errorf("%d events in %d seconds: not paced", events, len(perSecond))
	}
}

// TestHostileClassmate: a student holding the class token tries every
// way the token gave to deny the class (streams, the roster, reports as
// others, steps that do not exist, connections without the token, a
// redirect and a flood from a fake presenter) while two honest followers
// keep following and keep their roster lines.
func TestHostileClassmate(t *testing.T) {
	if os.Getenv("PODLAB_CLASS_TOKEN") != "" {
		t.Setenv("PODLAB_CLASS_TOKEN", "")
	}
	s := listenWith(t, "127.0.0.1:0", ServerOptions{Token: "tok", Steps: lessonSteps})
	honest := map[string]<-chan update{}
	for _, name := range []string{"ana", "bo"} {
		f, err := NewFollower("http://"+s.Addr()+"/?token=tok", "", name, true)
		if err != nil {
			t.Fatal(err)
		}
		ups := make(chan update, 1024)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			f.Follow(ctx, func(section, step int, status string, live bool) {
				if section > 0 {
					f.Report(section, step, nil)
				}
				select {
				case ups <- update{section, step, status, live}:
				default:
				}
			})
		}()
		t.Cleanup(func() { cancel(); <-done })
		honest[name] = ups
		waitUpdate(t, ups, name+" following", at(1, 1))
	}
	waitRoster := func(what string, ok func(map[string]row) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok(roster(s)) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: roster %+v", what, roster(s))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	both := func(sec, st int) func(map[string]row) bool {
		return func(r map[string]row) bool {
			return r["ana"].section == sec && r["ana"].step == st && r["bo"].section == sec && r["bo"].step == st
		}
	}
	waitRoster("both on the roster", both(1, 1))

	eve := hostile{t, s, client("127.0.0.66")}
	t.Run("every stream slot", func(t *testing.T) {
		var secrets []string
		for i := 0; i < DefaultPerAddress+8; i++ {
			sec, code := eve.open("")
			if code == 200 {
				secrets = append(secrets, sec)
			}
		}
		if len(secrets) != DefaultPerAddress {
			t.Errorf("one address holds %d streams, want at most %d", len(secrets), DefaultPerAddress)
		}
		// The roster: one name per follower, PerAddress from one address.
		names := 0
		for i, sec := range secrets {
			if code, _ := eve.report(sec, fmt.Sprintf(`{"name":"fake%d","section":1,"step":1}`, i)); code == 204 {
				names++
			}
		}
		if names > DefaultPerAddress {
			t.Errorf("%d names from one address", names)
		}
		time.Sleep(reportEvery)
		if code, _ := eve.report(secrets[0], `{"name":"fake-more","section":1,"step":1}`); code != http.StatusConflict {
			t.Errorf("a second name from one follower: %d", code)
		}
	})
	t.Run("reporting as another student", func(t *testing.T) {
		mal := hostile{t, s, client("127.0.0.68")}
		sec, code := mal.open("")
		if code != 200 {
			t.Fatalf("a stream from another address: %d", code)
		}
		if code, msg := mal.report(sec, `{"name":"ana","section":4,"step":1}`); code != http.StatusConflict {
			t.Errorf("reporting as ana: %d %s", code, msg)
		}
		if code, _ := mal.report("", `{"name":"ana","section":4,"step":1}`); code != http.StatusUnauthorized {
			t.Errorf("a report without a secret: %d", code)
		}
		if code, _ := mal.report(strings.Repeat("0", 32), `{"name":"ana","section":4,"step":1}`); code != http.StatusUnauthorized {
			t.Errorf("a report with a made-up secret: %d", code)
		}
		time.Sleep(reportEvery)
		if code, _ := mal.report(sec, `{"name":"x","section":99,"step":99}`); code != http.StatusBadRequest {
			t.Errorf("step 99.99: %d", code)
		}
	})
	t.Run("connections without the token", func(t *testing.T) {
		for i := 0; i < 20; i++ {
			if code, closed := closedAfterRefusal(t, s.Addr(), "GET /v1/steps HTTP/1.1\r\nHost: x\r\n\r\n"); code != 401 || !closed {
				t.Fatalf("status %d, closed %v", code, closed)
			}
		}
	})
	t.Run("a redirect and a flood from a fake presenter", func(t *testing.T) {
		TestRedirectElsewhereRefused(t)
		TestFloodPaced(t)
	})

	// The honest two still follow, and their lines say where they are.
	s.Show(2, 4)
	for name, ups := range honest {
		waitUpdate(t, ups, name+" at 2.4", at(2, 4))
	}
	waitRoster("both at 2.4", both(2, 4))
	refused := map[string]int{}
	s.Refused(func(reason string, n int) { refused[reason] = n })
	if refused["too many from one address"] == 0 || refused["wrong token"] == 0 || refused["name taken"] == 0 {
		t.Errorf("refusals counted: %v", refused)
	}
}

// TestFollowerToldNameTaken: a follower whose name another follower
// holds keeps following, and its status says the roster refused it.
func TestFollowerToldNameTaken(t *testing.T) {
	s := listen(t, "127.0.0.1:0", "tok")
	var ups [2]<-chan update
	for i := range ups {
		f, err := NewFollower("http://"+s.Addr(), "tok", "ana", true)
		if err != nil {
			t.Fatal(err)
		}
		ups[i] = follow(t, f)
		waitUpdate(t, ups[i], "following", func(u update) bool { return u.live })
		f.Report(1, 1, nil)
		if i == 0 {
			deadline := time.Now().Add(10 * time.Second)
			for len(roster(s)) == 0 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	u := waitUpdate(t, ups[1], "the refusal", func(u update) bool { return strings.Contains(u.status, "refused") })
	if !u.live || !strings.Contains(u.status, "the name ana is taken: choose another with --name") {
		t.Errorf("status %+v", u)
	}
}
