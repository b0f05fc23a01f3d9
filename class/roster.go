package class

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"podlab/content"
)

// The roster: who reported, under which name, and who was refused.

// RosterEach calls fn for each student who reported, by name: where they
// are, since when, and which questions they have answered. Students not
// heard from for a few minutes are gone from it.
func (s *Server) RosterEach(fn func(name string, at content.StepID, answered []string, since, seen time.Time)) {
	s.mu.Lock()
	s.expire(s.now())
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
		fn(r.name, content.StepID{Section: r.st.section, Step: r.st.step}, r.st.answered, r.st.since, r.st.seen)
	}
}

// Refused calls fn for each reason clients were refused in the last two
// minutes, with how many (a client is its address and the name it
// gave), in the order of the reasons.
func (s *Server) Refused(fn func(reason string, n int)) {
	s.mu.Lock()
	s.expire(s.now())
	count := map[string]int{}
	for r := range s.refusals {
		count[r.reason]++
	}
	s.mu.Unlock()
	for _, reason := range slices.Sorted(func(yield func(string) bool) {
		for r := range count {
			if !yield(r) {
				return
			}
		}
	}) {
		fn(reason, count[reason])
	}
}

// expire drops the roster entries, names and sessions not heard from,
// and refusals of long ago. s.mu is held.
func (s *Server) expire(now time.Time) {
	for key, se := range s.sessions {
		if se.name != "" && now.Sub(se.seen) > dropAfter {
			delete(s.names, se.name)
			delete(s.students, se.name)
			se.name = ""
			s.changed()
		}
		if se.name == "" && se.streams == 0 {
			delete(s.sessions, key)
		}
	}
	for r, at := range s.refusals {
		if now.Sub(at) > refusedFor {
			delete(s.refusals, r)
		}
	}
}

// refuse answers a request with an error and closes its connection, so a
// refused client holds no descriptor of the presenter's. A reason counts
// the client on the roster.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, code int, msg, reason string) {
	if reason != "" {
		key := refusal{addr: sourceAddr(r), name: CleanName(r.Header.Get(NameHeader)), reason: reason}
		s.mu.Lock()
		if _, ok := s.refusals[key]; ok || len(s.refusals) < maxRefusals {
			s.refusals[key] = s.now()
		}
		s.mu.Unlock()
	}
	w.Header().Set("Connection", "close")
	http.Error(w, msg, code)
}

// take puts a follower's report on the roster, or says why not: a status,
// a message and, for what the roster counts, a reason. s.mu is held.
func (s *Server) take(key [32]byte, addr string, rep Report, now time.Time) (int, string, string) {
	s.expire(now)
	se := s.sessions[key]
	if se == nil { // expired meanwhile
		return http.StatusUnauthorized, "report without a follower secret of this class: open the step stream first", ""
	}
	if sec := now.Truncate(time.Second); !sec.Equal(s.window) {
		s.window, s.inWindow = sec, 0
	}
	ar := s.addrRate[addr]
	if ar == nil {
		if len(s.addrRate) >= MaxFollowers+MaxStudents {
			for a, r := range s.addrRate {
				if !r.window.Equal(s.window) {
					delete(s.addrRate, a)
				}
			}
		}
		ar = &rate{}
		s.addrRate[addr] = ar
	}
	if !ar.window.Equal(s.window) {
		ar.window, ar.n = s.window, 0
	}
	switch {
	case s.inWindow >= reportsPerSecond:
		return http.StatusTooManyRequests, "too many reports: try again in a second", ""
	case ar.n >= addrReportsPerSecond:
		return http.StatusTooManyRequests, fmt.Sprintf("too many reports from %s: at most %d a second", addr, addrReportsPerSecond), ""
	case !se.last.IsZero() && now.Sub(se.last) < reportEvery:
		return http.StatusTooManyRequests, "too many reports: at most 5 a second", ""
	}
	s.inWindow++
	ar.n++
	se.last = now
	if se.name != "" && se.name != rep.Name {
		return http.StatusConflict, fmt.Sprintf("this follower is on the roster as %s already", se.name), ""
	}
	if se.name == "" {
		if owner, taken := s.names[rep.Name]; taken && owner != key {
			return http.StatusConflict, fmt.Sprintf("the name %s is taken: choose another with --name", rep.Name), "name taken"
		}
		if len(s.names) >= MaxStudents {
			return http.StatusServiceUnavailable, "the roster is full", "the roster is full"
		}
		n := 0
		for _, o := range s.sessions {
			if o.name != "" && o.addr == addr {
				n++
			}
		}
		if n >= s.perAddr {
			return http.StatusTooManyRequests, fmt.Sprintf("too many names from %s: at most %d", addr, s.perAddr), "too many from one address"
		}
		se.name, se.addr = rep.Name, addr
		s.names[rep.Name] = key
		s.changed()
	}
	se.seen = now
	st := s.students[rep.Name]
	if st == nil {
		st = &student{}
		s.students[rep.Name] = st
	}
	if st.section != rep.Section || st.step != rep.Step || st.since.IsZero() {
		st.since = now
	}
	st.section, st.step, st.seen = rep.Section, rep.Step, now
	st.answered = rep.Answered
	return 0, "", ""
}
