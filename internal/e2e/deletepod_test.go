package e2e

import (
	"encoding/json"
	"fmt"
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
	tm.keys("Right") // the lookup step opens its box, which takes letters: → leaves it while empty
	s := tm.waitText(wait, "step 8/9 Delete a pod", ip+" dev "+old.HostIf, "sandbox delete-pod "+victim)
	if l := line(s, ip+" dev "+old.HostIf); !strings.Contains(l, "▸") {
		t.Errorf("the node's table does not start on the /32 of the pod the command deletes: %q", l)
	}

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
	var replName string
	for _, p := range st.Pods {
		if strings.HasPrefix(p.Name, "summary-85c56b76d7-") && p.Node == "node1" {
			repl, replName = p.IP, p.Name
		}
	}
	if !repl.IsValid() || repl == old.IP {
		t.Fatalf("no replacement with a new address: %s", out.String())
	}
	arrived := seenAt("the replacement's /32", func(s string) bool {
		return strings.Contains(s, "route "+repl.String()+" added")
	})
	// The step's command now names a pod that exists: the replacement.
	tm.waitText(wait, "sandbox delete-pod yaobank/"+replName)

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

// TestDeletedCustomerFoundByLabel: after `sandbox delete-pod` of the
// customer pod, a podlab started afresh finds its replacement as the
// lesson's `kubectl get pods -n yaobank -l app=customer` does: show
// --json, check and the lesson all name it and its new address.
func TestDeletedCustomerFoundByLabel(t *testing.T) {
	o, st := upSandbox(t, "pf")
	old := st.Pod(sandbox.CustomerNamespace, sandbox.CustomerPod)
	lab := []string{"--lab", "sandbox", "--sandbox-prefix", o.Prefix, "--sandbox-state-dir", o.StateDir}
	run := func(args ...string) (string, error) {
		t.Helper()
		var out, errb strings.Builder
		cmd := exec.Command(podlab(t), args...)
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		if err != nil {
			err = fmt.Errorf("podlab %s: %v: %s", strings.Join(args, " "), err, errb.String())
		}
		return out.String(), err
	}
	if out, err := run(append([]string{"sandbox", "delete-pod", "yaobank/" + sandbox.CustomerPod}, lab[2:]...)...); err != nil {
		t.Fatal(err)
	} else if !strings.Contains(out, "replacement yaobank/customer-574bd6cc75-") {
		t.Fatalf("delete-pod brought up no replacement: %s", out)
	}
	now, err := sandbox.Status(o)
	if err != nil {
		t.Fatal(err)
	}
	var repl *sandbox.PodInfo
	for i, p := range now.Pods {
		if strings.HasPrefix(p.Name, "customer-574bd6cc75-") {
			repl = &now.Pods[i]
		}
	}
	if repl == nil || repl.Name == old.Name || repl.IP == old.IP {
		t.Fatalf("no replacement with a new name and address: %+v", repl)
	}
	ip := repl.IP.String()

	out, err := run(append([]string{"show", "--json"}, lab...)...)
	if err != nil {
		t.Fatal(err)
	}
	var shown struct {
		Facts struct {
			Pod struct {
				Name string `json:"name"`
				IP   string `json:"ip"`
			} `json:"pod"`
		} `json:"facts"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatalf("show --json: %v", err)
	}
	if shown.Facts.Pod.Name != repl.Name || shown.Facts.Pod.IP != ip {
		t.Errorf("show --json names %s at %s, want the replacement %s at %s", shown.Facts.Pod.Name, shown.Facts.Pod.IP, repl.Name, ip)
	}

	out, err = run(append([]string{"check"}, lab...)...)
	if err != nil || !strings.Contains(out, "pod yaobank/"+repl.Name+" at "+ip+" on node1") || !strings.Contains(out, "22 of 22 steps pass") {
		t.Errorf("check: %v:\n%s", err, out)
	}

	tm := newTerm(t, 80, 24, lab...)
	tm.waitText(30*time.Second, "sandbox", "refreshed")
	tm.keys("2")
	tm.waitText(wait, "step 1/7", "The IP column gives", ip)
	tm.keys("n")
	tm.waitText(wait, "step 2/7", "pod/"+repl.Name)
	tm.quit()
}
