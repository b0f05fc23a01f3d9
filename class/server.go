// Package class is the classroom link between podlab instances: the
// presenter's podlab serves the step it shows (server-sent events over
// net/http) and takes the followers' reports for the roster; a
// follower's podlab moves with that stream and reports its own step.
// Nothing but section and step numbers, a sequence number, a chosen name
// and the ids of answered questions travels; every request carries the
// class token, and every report the follower's own secret.
package class

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"podlab/content"
	"podlab/netview"
)

// Headers of the class's requests and answers.
const (
	// TokenHeader carries the class token on every request.
	TokenHeader = "X-Podlab-Class-Token"
	// FollowerHeader carries a follower's own secret: the answer that
	// opens a stream sets it, and the follower sends it back with every
	// report and when it opens a stream again.
	FollowerHeader = "X-Podlab-Follower"
	// NameHeader is the name a reporting follower goes by, sent when it
	// opens a stream: refused clients are counted apart by it.
	NameHeader = "X-Podlab-Name"
	// PackHeader names the lesson pack, "name@version": a follower sends
	// its own when it opens a stream, the presenter answers with the
	// class's. A follower on another pack is refused (409 Conflict).
	PackHeader = "X-Podlab-Pack"
)

// Limits on what the server accepts.
const (
	MaxFollowers   = 512  // open step streams
	MaxStudents    = 256  // roster entries
	MaxReportBytes = 2048 // a report's body
	MaxNameRunes   = 32   // a student's name, after escaping
	MaxAnswered    = 64   // question ids in one report
	// DefaultPerAddress bounds the streams one source address holds open,
	// and the names it puts on the roster.
	DefaultPerAddress = 32
	// reportEvery is the least time between two reports of one follower.
	reportEvery = 200 * time.Millisecond
	// reportsPerSecond bounds all reports together, addrReportsPerSecond
	// those from one source address.
	reportsPerSecond     = 400
	addrReportsPerSecond = 50
	// maxRefusals bounds the refused clients remembered for the roster.
	maxRefusals = 1024
)

var (
	// pingEvery is how often a quiet stream says it is alive; followers
	// take a stream silent for a few of these as lost.
	pingEvery = 15 * time.Second
	// dropAfter is how long a roster entry stays without a report
	// (followers repeat theirs every heartbeat); its name is free then.
	dropAfter = 5 * time.Minute
	// refusedFor is how long a refused client counts on the roster (a
	// refused follower tries again every few seconds).
	refusedFor = 2 * time.Minute
	// reportReadTimeout bounds the time to send a report's body, so a
	// client that trickles one holds nothing for long. (No server-wide
	// read timeout: it would end the step streams.)
	reportReadTimeout = 5 * time.Second
)

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

// ServerOptions configure a class server.
type ServerOptions struct {
	// Token is the class token; it must not be empty.
	Token string
	// Steps are the lesson's step ids ("2.4"): the only steps a report
	// may name. Nil takes any section and step from 1 to 99.
	Steps []string
	// PerAddress bounds the streams and roster names of one source
	// address; 0 is DefaultPerAddress.
	PerAddress int
	// Start is the step to serve first (a resumed class); zero is 1.1.
	Start Position
	// Names are the roster's names and their followers' keys, kept from
	// before a restart: each stays its follower's until it expires.
	Names []Binding
	// Pack is the class's lesson pack, "name@version"; "" takes a
	// follower on any. Bare says a follower that names none (a podlab
	// from before packs) is on it: the built-in lesson.
	Pack string
	Bare bool
	// Keep, when set, is handed the class after it changes (the step
	// shown, a name taken or freed), from a goroutine of its own, one
	// call at a time, the latest state winning; and once more by Close.
	Keep func(Kept)
}

// Binding is a name on the roster and the key of the follower it belongs
// to: the SHA-256 of the follower's secret, in hex. The secret itself is
// never kept.
type Binding struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// Kept is what a class server hands ServerOptions.Keep.
type Kept struct {
	Token string
	Pos   Position
	Names []Binding
}

// Server is the presenter's side.
type Server struct {
	token   []byte
	lesson  map[string]bool // the steps a report may name; nil: any
	pack    string          // the class's pack; "": any
	bare    bool            // a follower naming no pack is on it
	perAddr int
	ln      net.Listener
	srv     *http.Server
	ping    time.Duration

	keep     func(Kept)
	kick     chan struct{}
	stop     chan struct{}
	keptDone chan struct{}
	closed   sync.Once

	mu       sync.Mutex
	now      func() time.Time // tests move it
	pos      Position
	subs     map[chan Position]struct{}
	byAddr   map[string]int // open streams by source address
	sessions map[[32]byte]*session
	names    map[string][32]byte // who holds each name
	students map[string]*student
	window   time.Time // the current second of the global report budget
	inWindow int
	addrRate map[string]*rate
	refusals map[refusal]time.Time
}

// session is one follower, known by its secret's hash.
type session struct {
	name    string // its roster name, once it reported
	addr    string // where it took the name from
	streams int
	seen    time.Time // its last report (or when a kept name was restored)
	last    time.Time // its last accepted report, for the rate
}

type student struct {
	section, step int
	answered      []string
	since         time.Time // when it reached this step
	seen          time.Time // its last report
}

type rate struct {
	window time.Time
	n      int
}

// refusal is one refused client: its address, the name it gave (if any)
// and why.
type refusal struct {
	addr, name, reason string
}

// Listen serves on exactly addr (host:port; port 0 picks one).
func Listen(addr string, o ServerOptions) (*Server, error) {
	if o.Token == "" {
		return nil, errors.New("class: empty class token")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("serve the class on %s: %w", addr, err)
	}
	s := &Server{
		token:    []byte(o.Token),
		pack:     o.Pack,
		bare:     o.Bare,
		perAddr:  o.PerAddress,
		ln:       ln,
		now:      time.Now,
		ping:     pingEvery,
		keep:     o.Keep,
		kick:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		keptDone: make(chan struct{}),
		subs:     map[chan Position]struct{}{},
		byAddr:   map[string]int{},
		sessions: map[[32]byte]*session{},
		names:    map[string][32]byte{},
		students: map[string]*student{},
		addrRate: map[string]*rate{},
		refusals: map[refusal]time.Time{},
		pos:      Position{Seq: 1, Section: 1, Step: 1},
	}
	if s.perAddr <= 0 {
		s.perAddr = DefaultPerAddress
	}
	if o.Steps != nil {
		s.lesson = map[string]bool{}
		for _, id := range o.Steps {
			s.lesson[id] = true
		}
	}
	if p := o.Start; p.Section > 0 && s.stepKnown(p.Section, p.Step) {
		s.pos = Position{Seq: max(p.Seq, 1), Section: p.Section, Step: p.Step}
	}
	now := time.Now()
	for _, b := range o.Names {
		key, ok := parseKey(b.Key)
		if !ok || CleanName(b.Name) != b.Name || b.Name == "" || len(s.names) >= MaxStudents {
			continue
		}
		if _, taken := s.names[b.Name]; taken {
			continue
		}
		if _, dup := s.sessions[key]; dup {
			continue
		}
		s.names[b.Name] = key
		s.sessions[key] = &session{name: b.Name, seen: now}
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
	go s.keeper()
	go s.srv.Serve(ln)
	return s, nil
}

// Addr is the address served, with the port chosen.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops serving, ends every stream and hands Keep the class a last
// time.
func (s *Server) Close() error {
	err := s.srv.Close()
	s.closed.Do(func() {
		close(s.stop)
		<-s.keptDone
		if s.keep != nil {
			s.keep(s.kept())
		}
	})
	return err
}

// keeper hands Keep the class after each change, the latest winning.
func (s *Server) keeper() {
	defer close(s.keptDone)
	for {
		select {
		case <-s.stop:
			return
		case <-s.kick:
			if s.keep != nil {
				s.keep(s.kept())
			}
		}
	}
}

// changed tells the keeper; it never blocks.
func (s *Server) changed() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Server) kept() Kept {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := Kept{Token: string(s.token), Pos: s.pos}
	for name, key := range s.names {
		k.Names = append(k.Names, Binding{Name: name, Key: hex.EncodeToString(key[:])})
	}
	slices.SortFunc(k.Names, func(a, b Binding) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return k
}

// Show makes at the presenter's step and tells every follower.
func (s *Server) Show(at content.StepID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pos.Section == at.Section && s.pos.Step == at.Step {
		return
	}
	s.pos = Position{Seq: s.pos.Seq + 1, Section: at.Section, Step: at.Step}
	for ch := range s.subs {
		select { // the latest position replaces one not yet sent
		case <-ch:
		default:
		}
		ch <- s.pos
	}
	s.changed()
}

// At is the step the class is at: where a resumed class starts.
func (s *Server) At() content.StepID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return content.StepID{Section: s.pos.Section, Step: s.pos.Step}
}

// Following is how many followers have a stream open.
func (s *Server) Following() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// sourceAddr is the address a request came from, without its port.
func sourceAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// authorized refuses every request without the class token, compared in
// constant time.
func (s *Server) authorized(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get(TokenHeader))
		if subtle.ConstantTimeCompare(got, s.token) != 1 {
			s.refuse(w, r, http.StatusUnauthorized, "wrong class token", "wrong token")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// secretKey is the key of a follower's secret; ok is false for one that
// cannot be a secret this server issued.
func secretKey(secret string) (key [32]byte, ok bool) {
	if len(secret) != 32 {
		return key, false
	}
	if _, err := hex.DecodeString(secret); err != nil {
		return key, false
	}
	return sha256.Sum256([]byte(secret)), true
}

func parseKey(s string) (key [32]byte, ok bool) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(key) {
		return key, false
	}
	copy(key[:], b)
	return key, true
}

// newSecret is a fresh follower secret.
func newSecret() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) steps(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	addr := sourceAddr(r)
	if s.pack != "" {
		w.Header().Set(PackHeader, s.pack)
		if fp := r.Header.Get(PackHeader); fp != s.pack && (fp != "" || !s.bare) {
			s.refuse(w, r, http.StatusConflict, OtherPack(s.pack, fp), "on another pack")
			return
		}
	}
	ch := make(chan Position, 1)
	s.mu.Lock()
	if len(s.subs) >= MaxFollowers {
		s.mu.Unlock()
		s.refuse(w, r, http.StatusServiceUnavailable, "the class is full", "the class is full")
		return
	}
	if s.byAddr[addr] >= s.perAddr {
		s.mu.Unlock()
		s.refuse(w, r, http.StatusTooManyRequests, fmt.Sprintf("too many streams from %s: at most %d", addr, s.perAddr), "too many from one address")
		return
	}
	// A follower that comes back with a secret this server knows keeps
	// it, and with it its name; any other gets a fresh one.
	secret := r.Header.Get(FollowerHeader)
	key, ok := secretKey(secret)
	se := s.sessions[key]
	if !ok || se == nil {
		secret = newSecret()
		key, _ = secretKey(secret)
		se = &session{}
		s.sessions[key] = se
	}
	se.streams++
	s.byAddr[addr]++
	s.subs[ch] = struct{}{}
	ch <- s.pos
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.subs, ch)
		se.streams--
		if s.byAddr[addr]--; s.byAddr[addr] <= 0 {
			delete(s.byAddr, addr)
		}
		if se.streams == 0 && se.name == "" {
			delete(s.sessions, key)
		}
		s.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set(FollowerHeader, secret)
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	ping := time.NewTicker(s.ping)
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

func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	addr := sourceAddr(r)
	key, ok := secretKey(r.Header.Get(FollowerHeader))
	s.mu.Lock()
	known := ok && s.sessions[key] != nil
	s.mu.Unlock()
	if !known {
		s.refuse(w, r, http.StatusUnauthorized, "report without a follower secret of this class: open the step stream first", "")
		return
	}
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(reportReadTimeout))
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxReportBytes+1))
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, "bad report: not sent in time", "")
		return
	}
	rep, perr := parseReport(body, s.lesson)
	if perr != nil {
		s.refuse(w, r, perr.code, perr.msg, "")
		return
	}
	s.mu.Lock()
	code, msg, reason := s.take(key, addr, rep, s.now())
	s.mu.Unlock()
	if code != 0 {
		s.refuse(w, r, code, msg, reason)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// OtherPack is what a follower on pack theirs ("" an older podlab's
// built-in lesson) hears from a presenter on pack ours: one line that
// names the presenter's pack and how to follow it.
func OtherPack(ours, theirs string) string {
	name, _, _ := strings.Cut(ours, "@")
	have := "no pack"
	if theirs != "" {
		have = netview.Clean(theirs)
	}
	return fmt.Sprintf("the presenter teaches pack %s and this podlab has %s: follow with --pack %s (the presenter's pack directory, or its name in --pack-path)",
		netview.Clean(ours), have, netview.Clean(name))
}

// stepKnown says whether the lesson has the step.
func (s *Server) stepKnown(section, step int) bool {
	return stepOK(s.lesson, section, step)
}
