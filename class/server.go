// Package class is the classroom link between podlab instances: the
// presenter's podlab serves the step it shows (server-sent events over
// net/http) and takes the followers' reports for the roster; a
// follower's podlab moves with that stream and reports its own step.
// Nothing but section and step numbers, a sequence number, a chosen name
// and the ids of answered questions travels; every request carries the
// class token.
package class

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// TokenHeader carries the class token on every request.
const TokenHeader = "X-Podlab-Class-Token"

// Limits on what the server accepts.
const (
	MaxFollowers   = 512  // open step streams
	MaxStudents    = 256  // roster entries
	MaxReportBytes = 2048 // a report's body
	MaxNameRunes   = 32   // a student's name, after escaping
	MaxAnswered    = 64   // question ids in one report
	// reportEvery is the least time between two reports of one name.
	reportEvery = 200 * time.Millisecond
	// reportsPerSecond bounds all reports together.
	reportsPerSecond = 400
	pingEvery        = 15 * time.Second
)

// reportReadTimeout bounds the time to send a report's body, so a client
// that trickles one holds nothing for long. (No server-wide read timeout:
// it would end the step streams.)
var reportReadTimeout = 5 * time.Second

// Position is the presenter's step, as the stream sends it.
type Position struct {
	Seq     uint64 `json:"seq"`
	Section int    `json:"section"`
	Step    int    `json:"step"`
}

// Report is what a follower sends about itself.
type Report struct {
	Name     string   `json:"name"`
	Section  int      `json:"section"`
	Step     int      `json:"step"`
	Answered []string `json:"answered"`
}

// NewToken is a fresh random class token.
func NewToken() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Server is the presenter's side.
type Server struct {
	token []byte
	ln    net.Listener
	srv   *http.Server
	now   func() time.Time

	mu       sync.Mutex
	pos      Position
	subs     map[chan Position]struct{}
	students map[string]*student
	window   time.Time // the current second of the global report budget
	inWindow int
}

type student struct {
	section, step int
	answered      []string
	since         time.Time // when it reached this step
	seen          time.Time // its last report
}

// Listen serves on exactly addr (host:port; port 0 picks one) with the
// given token, which must not be empty.
func Listen(addr, token string) (*Server, error) {
	if token == "" {
		return nil, errors.New("class: empty class token")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("serve the class on %s: %w", addr, err)
	}
	s := &Server{
		token:    []byte(token),
		ln:       ln,
		now:      time.Now,
		subs:     map[chan Position]struct{}{},
		students: map[string]*student{},
		pos:      Position{Seq: 1, Section: 1, Step: 1},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/steps", s.steps)
	mux.HandleFunc("POST /v1/report", s.report)
	s.srv = &http.Server{
		Handler:           s.authorized(mux),
		ReadHeaderTimeout: 5 * time.Second,
		MaxHeaderBytes:    8 << 10,
		IdleTimeout:       60 * time.Second,
	}
	go s.srv.Serve(ln)
	return s, nil
}

// Addr is the address served, with the port chosen.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops serving and ends every stream.
func (s *Server) Close() error { return s.srv.Close() }

// Show makes (section, step) the presenter's step and tells every
// follower.
func (s *Server) Show(section, step int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pos.Section == section && s.pos.Step == step {
		return
	}
	s.pos = Position{Seq: s.pos.Seq + 1, Section: section, Step: step}
	for ch := range s.subs {
		select { // the latest position replaces one not yet sent
		case <-ch:
		default:
		}
		ch <- s.pos
	}
}

// Following is how many followers have a stream open.
func (s *Server) Following() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// RosterEach calls fn for each student who reported, by name: where they
// are, since when, and which questions they have answered.
func (s *Server) RosterEach(fn func(name string, section, step int, answered []string, since, seen time.Time)) {
	s.mu.Lock()
	names := make([]string, 0, len(s.students))
	for n := range s.students {
		names = append(names, n)
	}
	slices.Sort(names)
	type row struct {
		name string
		st   student
	}
	rows := make([]row, 0, len(names))
	for _, n := range names {
		st := *s.students[n]
		st.answered = slices.Clone(st.answered)
		rows = append(rows, row{n, st})
	}
	s.mu.Unlock()
	for _, r := range rows {
		fn(r.name, r.st.section, r.st.step, r.st.answered, r.st.since, r.st.seen)
	}
}

// authorized refuses every request without the class token, compared in
// constant time.
func (s *Server) authorized(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get(TokenHeader))
		if subtle.ConstantTimeCompare(got, s.token) != 1 {
			http.Error(w, "wrong class token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) steps(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch := make(chan Position, 1)
	s.mu.Lock()
	if len(s.subs) >= MaxFollowers {
		s.mu.Unlock()
		http.Error(w, "the class is full", http.StatusServiceUnavailable)
		return
	}
	s.subs[ch] = struct{}{}
	ch <- s.pos
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.subs, ch)
		s.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case p := <-ch:
			b, _ := json.Marshal(p)
			if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
				return
			}
		case <-ping.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
		}
		fl.Flush()
	}
}

var stepIDRE = regexp.MustCompile(`^[0-9]{1,2}\.[0-9]{1,2}$`)

func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(reportReadTimeout))
	r.Body = http.MaxBytesReader(w, r.Body, MaxReportBytes)
	var rep Report
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&rep); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, fmt.Sprintf("report larger than %d bytes", MaxReportBytes), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "bad report: want {name, section, step, answered}", http.StatusBadRequest)
		return
	}
	name := CleanName(rep.Name)
	switch {
	case name == "":
		http.Error(w, "bad report: no name", http.StatusBadRequest)
		return
	case rep.Section < 1 || rep.Section > 99 || rep.Step < 1 || rep.Step > 99:
		http.Error(w, "bad report: section and step are 1 to 99", http.StatusBadRequest)
		return
	case len(rep.Answered) > MaxAnswered:
		http.Error(w, fmt.Sprintf("bad report: more than %d answers", MaxAnswered), http.StatusBadRequest)
		return
	}
	for _, a := range rep.Answered {
		if !stepIDRE.MatchString(a) {
			http.Error(w, "bad report: answered holds step ids like 2.4", http.StatusBadRequest)
			return
		}
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec := now.Truncate(time.Second); !sec.Equal(s.window) {
		s.window, s.inWindow = sec, 0
	}
	if s.inWindow >= reportsPerSecond {
		http.Error(w, "too many reports: try again in a second", http.StatusTooManyRequests)
		return
	}
	st, ok := s.students[name]
	switch {
	case !ok && len(s.students) >= MaxStudents:
		http.Error(w, "the roster is full", http.StatusServiceUnavailable)
		return
	case ok && now.Sub(st.seen) < reportEvery:
		http.Error(w, "too many reports: at most 5 a second", http.StatusTooManyRequests)
		return
	case !ok:
		st = &student{}
		s.students[name] = st
	}
	s.inWindow++
	if st.section != rep.Section || st.step != rep.Step || st.since.IsZero() {
		st.since = now
	}
	st.section, st.step, st.seen = rep.Section, rep.Step, now
	st.answered = slices.Compact(slices.Sorted(slices.Values(rep.Answered)))
	w.WriteHeader(http.StatusNoContent)
}

// CleanName makes a follower's name safe for the presenter's terminal:
// control and other unprintable characters are escaped (\x1b, \u2028),
// invalid UTF-8 is replaced, space is trimmed, and the result is cut to
// MaxNameRunes.
func CleanName(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD")) {
		var piece string
		switch {
		case r == utf8.RuneError:
			piece = "\uFFFD"
		case unicode.IsPrint(r):
			piece = string(r)
		case r < 0x100:
			piece = fmt.Sprintf(`\x%02x`, r)
		default:
			piece = fmt.Sprintf(`\u%04x`, r)
		}
		if n+utf8.RuneCountInString(piece) > MaxNameRunes {
			break
		}
		b.WriteString(piece)
		n += utf8.RuneCountInString(piece)
	}
	return strings.TrimSpace(b.String()) // the cut may end in a space
}
