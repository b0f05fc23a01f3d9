package ui

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"podlab/netview"
)

// fixedNow is the clock of every test, so "refreshed" is stable.
var fixedNow = func() time.Time { return time.Date(2025, 3, 4, 10, 11, 12, 0, time.UTC) }

// lessonRecording is the lesson's example as netview records it.
func lessonRecording(t testing.TB) *netview.Pair {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "netview", "testdata", "lesson.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec, err := netview.ReadRecording(f)
	if err != nil {
		t.Fatal(err)
	}
	return &rec.Pair
}

// scriptSource answers Collect from a script, one answer a call; the last
// answer repeats.
type scriptSource struct {
	mu      sync.Mutex
	answers []answer
	calls   int
}

type answer struct {
	pair *netview.Pair
	err  error
	// after, when set, holds the answer back until it is closed, so a
	// test sees the state before it whatever the machine's speed.
	after <-chan struct{}
}

func (s *scriptSource) Kind() string     { return "recording" }
func (s *scriptSource) Describe() string { return "the lesson's example" }

func (s *scriptSource) Collect(ctx context.Context) (*netview.Pair, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.answers[min(s.calls, len(s.answers)-1)]
	s.calls++
	if a.after != nil {
		s.mu.Unlock()
		defer s.mu.Lock()
		select {
		case <-a.after:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return a.pair, a.err
}

// routerSource is a scriptSource that also answers as the kernel would,
// from the host snapshot.
type routerSource struct{ *scriptSource }

func (r routerSource) Route(ctx context.Context, dst netip.Addr) (netview.Route, error) {
	p, _ := r.Collect(ctx)
	rt, ok := netview.Lookup(&p.Host, dst)
	if !ok {
		return netview.Route{}, errors.New("network is unreachable")
	}
	return rt, nil
}

func recordingSource(t testing.TB) *scriptSource {
	t.Helper()
	return &scriptSource{answers: []answer{{pair: lessonRecording(t)}}}
}

// withoutRoute is a copy of p whose node has lost the route to dst, as
// after the pod with that address was deleted.
func withoutRoute(t testing.TB, p *netview.Pair, dst string) *netview.Pair {
	t.Helper()
	c := *p
	c.Host.Routes = nil
	found := false
	for _, r := range p.Host.Routes {
		if netview.DstString(r.Dst) == dst {
			found = true
			continue
		}
		c.Host.Routes = append(c.Host.Routes, r)
	}
	if !found {
		t.Fatalf("the recording has no route to %s", dst)
	}
	return &c
}
