package class

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

type update struct {
	section, step int
	status        string
	live          bool
}

// follow runs a follower until the test ends and hands back its updates.
func follow(t *testing.T, f *Follower) <-chan update {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan update, 256)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Follow(ctx, func(section, step int, status string, live bool) {
			select {
			case ch <- update{section, step, status, live}:
			case <-ctx.Done():
			}
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	return ch
}

// waitUpdate waits (bounded) for an update that satisfies ok.
func waitUpdate(t *testing.T, ch <-chan update, what string, ok func(update) bool) update {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case u := <-ch:
			if ok(u) {
				return u
			}
		case <-timeout:
			t.Fatalf("no update: %s", what)
		}
	}
}

// waitFor polls cond until it holds, failing the test after a deadline
// that only a hang reaches.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited in vain for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func at(section, step int) func(update) bool {
	return func(u update) bool { return u.section == section && u.step == step && u.live }
}

func listen(t *testing.T, addr, token string) *Server {
	t.Helper()
	return listenWith(t, addr, ServerOptions{Token: token})
}

func listenWith(t *testing.T, addr string, o ServerOptions) *Server {
	t.Helper()
	s, err := Listen(addr, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestFollowMovesAndRejoins(t *testing.T) {
	s := listen(t, "127.0.0.1:0", "tok")
	addr := s.Addr()
	f, err := NewFollower("http://"+addr+"/?token=tok", "", "ana", true)
	if err != nil {
		t.Fatal(err)
	}
	ups := follow(t, f)
	waitUpdate(t, ups, "the first step", at(1, 1))
	waitFor(t, "one follower", func() bool { return s.Following() == 1 })
	s.Show(2, 3)
	waitUpdate(t, ups, "step 2.3", at(2, 3))

	// The presenter goes away and comes back on the same address.
	s.Close()
	u := waitUpdate(t, ups, "the link down", func(u update) bool { return !u.live })
	if !strings.Contains(u.status, "presenter") || !strings.Contains(u.status, "trying again") {
		t.Errorf("status %q does not say the presenter is gone and it retries", u.status)
	}
	s2 := listen(t, addr, "tok")
	s2.Show(4, 2)
	waitUpdate(t, ups, "step 4.2 from the restarted presenter", at(4, 2))
}

func TestWrongTokenRefused(t *testing.T) {
	s := listen(t, "127.0.0.1:0", "right")
	f, err := NewFollower("http://"+s.Addr(), "wrong", "ana", true)
	if err != nil {
		t.Fatal(err)
	}
	u := waitUpdate(t, follow(t, f), "the refusal", func(u update) bool { return u.status != "" })
	if u.live || !strings.Contains(u.status, "refused the class token") {
		t.Errorf("got %+v, want a refusal", u)
	}
	if s.Following() != 0 {
		t.Errorf("%d following with a wrong token", s.Following())
	}
	time.Sleep(300 * time.Millisecond)
	n := 0
	s.RosterEach(func(string, int, int, []string, time.Time, time.Time) { n++ })
	if n != 0 {
		t.Errorf("a follower with a wrong token reached the roster")
	}
}

func TestNewFollowerErrors(t *testing.T) {
	for _, tt := range []struct{ url, token, want string }{
		{"10.0.0.5:7777", "t", "want the presenter's URL"},
		{"ftp://h:1", "t", "want the presenter's URL"},
		{"http://h:1", "", "needs the class token"},
	} {
		if _, err := NewFollower(tt.url, tt.token, "n", true); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewFollower(%q, %q) = %v, want %q", tt.url, tt.token, err, tt.want)
		}
	}
}

type row struct {
	section, step int
	answered      []string
}

func roster(s *Server) map[string]row {
	out := map[string]row{}
	s.RosterEach(func(name string, section, step int, answered []string, since, seen time.Time) {
		out[name] = row{section, step, answered}
	})
	return out
}

func TestReportsReachTheRoster(t *testing.T) {
	s := listen(t, "127.0.0.1:0", "tok")
	for _, name := range []string{"ana", "bo\x1b[2Jb"} {
		f, err := NewFollower("http://"+s.Addr(), "tok", name, true)
		if err != nil {
			t.Fatal(err)
		}
		follow(t, f)
		f.Report(3, 2, []string{"2.1", "2.4"})
	}
	quiet, _ := NewFollower("http://"+s.Addr(), "tok", "quiet", false)
	follow(t, quiet)
	quiet.Report(1, 1, nil)
	deadline := time.Now().Add(10 * time.Second)
	for len(roster(s)) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // room for a report that should not come
	r := roster(s)
	if len(r) != 2 || r["ana"].step != 2 || r["ana"].section != 3 || strings.Join(r["ana"].answered, ",") != "2.1,2.4" {
		t.Fatalf("roster %+v", r)
	}
	if _, ok := r[`bo\x1b[2Jb`]; !ok {
		t.Errorf("the escape in a name is not escaped: %v", r)
	}
	if _, ok := r["quiet"]; ok {
		t.Error("--no-report reported")
	}
}

// stream opens a step stream as a follower would, with the class token
// and a secret (none for a new follower), and gives the secret the
// server answered; the stream stays open until the test ends or close.
func stream(t *testing.T, s *Server, token, secret string) (got string, status int, close func()) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+s.Addr()+"/v1/steps", nil)
	req.Header.Set(TokenHeader, token)
	if secret != "" {
		req.Header.Set(FollowerHeader, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	done := func() { resp.Body.Close() }
	t.Cleanup(done)
	return resp.Header.Get(FollowerHeader), resp.StatusCode, done
}

// post sends a report body with the token and a follower's secret.
func post(t *testing.T, s *Server, token, secret, body string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.Addr()+"/v1/report", strings.NewReader(body))
	if token != "" {
		req.Header.Set(TokenHeader, token)
	}
	if secret != "" {
		req.Header.Set(FollowerHeader, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestReportBounds(t *testing.T) {
	s := listenWith(t, "127.0.0.1:0", ServerOptions{Token: "tok", PerAddress: MaxStudents + 10, Steps: []string{"1.1", "2.1", "2.4"}})
	secret, _, _ := stream(t, s, "tok", "")
	ok := `{"name":"a","section":2,"step":1,"answered":["2.1"]}`
	tests := []struct {
		name, token, secret, body string
		want                      int
	}{
		{"no token", "", secret, ok, 401},
		{"wrong token", "tok2", secret, ok, 401},
		{"a prefix of the token", "to", secret, ok, 401},
		{"no follower secret", "tok", "", ok, 401},
		{"a secret the server never gave", "tok", strings.Repeat("ab", 16), ok, 401},
		{"too big", "tok", secret, `{"name":"` + strings.Repeat("x", MaxReportBytes) + `"}`, 413},
		{"not json", "tok", secret, "hello", 400},
		{"no name", "tok", secret, `{"section":1,"step":1}`, 400},
		{"step 0", "tok", secret, `{"name":"a","section":1,"step":0}`, 400},
		{"a step the lesson has not", "tok", secret, `{"name":"a","section":99,"step":99}`, 400},
		{"a bad answer id", "tok", secret, `{"name":"a","section":1,"step":1,"answered":["../x"]}`, 400},
		{"an answer to no step", "tok", secret, `{"name":"a","section":1,"step":1,"answered":["9.9"]}`, 400},
		{"too many answers", "tok", secret, `{"name":"a","section":1,"step":1,"answered":[` + strings.Repeat(`"1.1",`, MaxAnswered) + `"1.1"]}`, 400},
		{"good", "tok", secret, ok, 204},
		{"again at once", "tok", secret, ok, 429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := post(t, s, tt.token, tt.secret, tt.body); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
		})
	}
	// The roster stops growing at MaxStudents. (An hour on, "a" has
	// expired: all MaxStudents+5 take their turn.)
	setNow := func(now func() time.Time) {
		s.mu.Lock()
		s.now = now
		s.mu.Unlock()
	}
	base := time.Now().Add(time.Hour)
	setNow(func() time.Time { return base }) // a fresh rate window
	full := 0
	for i := 0; i < MaxStudents+5; i++ {
		if i%addrReportsPerSecond == addrReportsPerSecond-1 {
			next := base.Add(time.Second)
			base = next
			setNow(func() time.Time { return next })
		}
		sec, _, done := stream(t, s, "tok", "")
		switch code := post(t, s, "tok", sec, fmt.Sprintf(`{"name":"s%d","section":1,"step":1}`, i)); code {
		case 503:
			full++
		case 204:
		default:
			t.Errorf("report %d: status %d", i, code)
		}
		done()
	}
	if n := len(roster(s)); n != MaxStudents || full != 5 {
		t.Errorf("roster of %d (want %d), %d refused as full (want 5)", n, MaxStudents, full)
	}
	// Other paths and methods are not served.
	for _, p := range []string{"/", "/v1/roster", "/v1/steps/../report"} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+s.Addr()+p, nil)
		req.Header.Set(TokenHeader, "tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Errorf("GET %s served", p)
		}
	}
}

func TestListenExactAddress(t *testing.T) {
	s := listen(t, "127.0.0.1:0", "tok")
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Errorf("bound %s", s.Addr())
	}
	if _, err := Listen(s.Addr(), ServerOptions{Token: "tok"}); err == nil || !strings.Contains(err.Error(), s.Addr()) {
		t.Errorf("a second server on %s: %v", s.Addr(), err)
	}
	if _, err := Listen("127.0.0.1:0", ServerOptions{}); err == nil {
		t.Error("an empty token was accepted")
	}
}

func TestCleanName(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"ana@host1", "ana@host1"},
		{"  ana  ", "ana"},
		{"a\x1b[31mred", `a\x1b[31mred`},
		{"a\nb\tc", `a\x0ab\x09c`},
		{"a\u2028b", `a\u2028b`},
		{"a\xffb", "a\uFFFDb"},
		{strings.Repeat("x", 40), strings.Repeat("x", MaxNameRunes)},
		{strings.Repeat("x", 30) + "\x1b", strings.Repeat("x", 30)}, // the escape does not fit whole
		{"", ""},
	} {
		if got := CleanName(tt.in); got != tt.want {
			t.Errorf("CleanName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"ana", "a\x1b[2J", "\u202e", strings.Repeat("é", 50), "\xff\xfe", "\t\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := CleanName(s)
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > MaxNameRunes {
			t.Fatalf("CleanName(%q) = %q: invalid or too long", s, got)
		}
		for _, r := range got {
			if !unicode.IsPrint(r) && r != ' ' {
				t.Fatalf("CleanName(%q) = %q holds %U", s, got, r)
			}
		}
		if CleanName(got) != got && !strings.Contains(got, `\`) {
			t.Fatalf("CleanName is not stable on %q", got)
		}
	})
}

// TestManyFollowers: 200 followers on loopback all see a step change.
func TestManyFollowers(t *testing.T) {
	const n = 200
	s := listenWith(t, "127.0.0.1:0", ServerOptions{Token: "tok", PerAddress: n})
	var mu sync.Mutex
	seen := map[int]bool{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for i := 0; i < n; i++ {
		f, err := NewFollower("http://"+s.Addr(), "tok", fmt.Sprintf("s%d", i), true)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.Follow(ctx, func(section, step int, status string, live bool) {
				if section == 2 && step == 5 {
					mu.Lock()
					seen[i] = true
					mu.Unlock()
				}
				if live && section > 0 {
					f.Report(section, step, nil)
				}
			})
		}()
	}
	deadline := time.Now().Add(30 * time.Second)
	for s.Following() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d following", s.Following(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Show(2, 5)
	for {
		mu.Lock()
		got := len(seen)
		mu.Unlock()
		if got == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d saw the step", got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Every student reports the step, within the rate limits.
	atStep := func() int {
		k := 0
		for _, r := range roster(s) {
			if r.section == 2 && r.step == 5 {
				k++
			}
		}
		return k
	}
	for atStep() < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := atStep(); got != n {
		t.Errorf("%d of %d on the roster at 2.5", got, n)
	}
}

// TestSlowReportCut: a report whose body trickles in is cut off at the
// read timeout instead of holding the server.
func TestSlowReportCut(t *testing.T) {
	defer func(d time.Duration) { reportReadTimeout = d }(reportReadTimeout)
	reportReadTimeout = 200 * time.Millisecond
	s := listen(t, "127.0.0.1:0", "tok")
	secret, _, _ := stream(t, s, "tok", "")
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /v1/report HTTP/1.1\r\nHost: x\r\n%s: tok\r\n%s: %s\r\nContent-Length: 100\r\n\r\n{\"na", TokenHeader, FollowerHeader, secret)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a trickled report: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400", resp.StatusCode)
	}
	if n := len(roster(s)); n != 0 {
		t.Errorf("a cut report reached the roster")
	}
}

// freeLoopback is a loopback address with a port free now, so a
// presenter can be restarted on the same one.
func freeLoopback(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
