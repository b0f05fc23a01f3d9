package e2e

import (
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"podlab/internal/netnstest"
	"podlab/lab/sandbox"
)

// routeEvents records when node1's kernel adds or deletes each /32, and
// deletes each link: a link's routes go with it without an event of
// their own.
type routeEvents struct {
	mu   sync.Mutex
	seen map[string]time.Time // "del 198.19.22.130" → when
}

func watchRoutes(t *testing.T, nsName string) *routeEvents {
	t.Helper()
	ns, err := netns.GetFromName(nsName)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	ch := make(chan netlink.RouteUpdate, 256)
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	if err := netlink.RouteSubscribeWithOptions(ch, done, netlink.RouteSubscribeOptions{Namespace: &ns}); err != nil {
		t.Fatal(err)
	}
	links := make(chan netlink.LinkUpdate, 256)
	if err := netlink.LinkSubscribeWithOptions(links, done, netlink.LinkSubscribeOptions{Namespace: &ns}); err != nil {
		t.Fatal(err)
	}
	ev := &routeEvents{seen: map[string]time.Time{}}
	go func() {
		for u := range links {
			at := time.Now()
			if u.Header.Type != unix.RTM_DELLINK {
				continue
			}
			ev.mu.Lock()
			if _, ok := ev.seen["dellink "+u.Attrs().Name]; !ok {
				ev.seen["dellink "+u.Attrs().Name] = at
			}
			ev.mu.Unlock()
		}
	}()
	go func() {
		for u := range ch {
			at := time.Now()
			if u.Dst == nil {
				continue
			}
			if ones, _ := u.Dst.Mask.Size(); ones != 32 {
				continue
			}
			kind := "add "
			if u.Type == unix.RTM_DELROUTE {
				kind = "del "
			}
			ev.mu.Lock()
			if _, ok := ev.seen[kind+u.Dst.IP.String()]; !ok {
				ev.seen[kind+u.Dst.IP.String()] = at
			}
			ev.mu.Unlock()
		}
	}()
	return ev
}

func (e *routeEvents) at(key string) (time.Time, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.seen[key]
	return t, ok
}

// TestDeletePodInTerminal: on the step that invites it, `podlab sandbox
// delete-pod` is seen in the lesson as it happens: the /32 goes, the old
// address is looked up and falls to the blackhole (the kernel agrees),
// and the replacement's /32 arrives. The lesson polls only every ten
// minutes here, so what shows came by the lab's netlink events; how soon
// after the kernel's event is logged (tens of ms on an idle machine), and
// only a lag past a second, which no event path should have, fails.
func TestDeletePodInTerminal(t *testing.T) {
	netnstest.RequireCommand(t, "tmux", "apt-get install tmux")
	o, st := upSandbox(t, "pd")
	const victim = "yaobank/summary-85c56b76d7-28hm5"
	old := st.Pod("yaobank", "summary-85c56b76d7-28hm5")
	ip := old.IP.String()
	events := watchRoutes(t, st.NodeNS("node1"))

	tm := newTerm(t, 160, 48, "--lab", "sandbox", "--sandbox-prefix", o.Prefix, "--sandbox-state-dir", o.StateDir, "--refresh", "10m")
	tm.waitText(30*time.Second, "sandbox", "refreshed")
	tm.keys("4", "n", "n", "n", "n", "n", "n")
	tm.waitText(wait, "step 7/9", "route lookup ›")
	tm.keys("n") // n moves on from the lookup prompt
	tm.waitText(wait, "step 8/9 Delete a pod", ip+" dev "+old.HostIf)

	del := exec.Command(podlab(t), "sandbox", "delete-pod", victim, "--sandbox-prefix", o.Prefix, "--sandbox-state-dir", o.StateDir)
	var out strings.Builder
	del.Stdout, del.Stderr = &out, &out
	if err := del.Start(); err != nil {
		t.Fatal(err)
	}
	// seenAt polls the screen until cond holds, and says when it first did.
	seenAt := func(what string, cond func(string) bool) time.Time {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			s := tm.screen(false)
			if cond(s) {
				return time.Now()
			}
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s; podlab sandbox said %q; the screen is:\n%s", what, out.String(), s)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	gone := seenAt("the /32 to go", func(s string) bool { return strings.Contains(s, "route "+ip+" removed") })
	caught := seenAt("the lookup of the old address", func(s string) bool {
		l := line(s, "route to "+ip)
		return strings.Contains(l, "→ blackhole") && strings.Contains(l, "the kernel agrees")
	})
	if err := del.Wait(); err != nil {
		t.Fatalf("delete-pod: %v: %s", err, out.String())
	}
	st, err := sandbox.Status(o)
	if err != nil {
		t.Fatal(err)
	}
	var repl netip.Addr
	for _, p := range st.Pods {
		if strings.HasPrefix(p.Name, "summary-85c56b76d7-") && p.Node == "node1" {
			repl = p.IP
		}
	}
	if !repl.IsValid() || repl == old.IP {
		t.Fatalf("no replacement with a new address: %s", out.String())
	}
	arrived := seenAt("the replacement's /32", func(s string) bool {
		return strings.Contains(s, "route "+repl.String()+" added")
	})

	for _, c := range []struct {
		what, event string
		shown       time.Time
	}{
		{"the /32 gone", "dellink " + old.HostIf, gone},
		{"the old address in the blackhole", "dellink " + old.HostIf, caught},
		{"the replacement's /32", "add " + repl.String(), arrived},
	} {
		at, ok := events.at(c.event)
		if !ok {
			t.Errorf("%s: the kernel sent no %s", c.what, c.event)
			continue
		}
		lag := c.shown.Sub(at)
		t.Logf("%s: shown %v after the kernel's event", c.what, lag.Round(time.Millisecond))
		if lag > time.Second {
			t.Errorf("%s: shown %v after the kernel's event: the change did not come by the lab's events", c.what, lag.Round(time.Millisecond))
		}
	}
	tm.quit()
}
