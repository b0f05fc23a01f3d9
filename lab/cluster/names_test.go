package cluster

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckNodeName(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
	}{
		{"node1", true},
		{"ip-10-0-0-1.eu-west-1.compute.internal", true},
		{"", false},
		{"-oProxyCommand=touch /tmp/x", false},
		{"-V", false},
		{"Node1", false},
		{"node1;reboot", false},
		{"node1 x", false},
		{"node1\n", false},
		{"$(reboot)", false},
		{strings.Repeat("a", 254), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := checkNodeName(c.name)
			if (err == nil) != c.ok {
				t.Errorf("checkNodeName(%q) = %v, want ok %v", c.name, err, c.ok)
			}
		})
	}
}

func TestCheckSSHDest(t *testing.T) {
	cases := []struct {
		dest string
		ok   bool
	}{
		{"node1", true},
		{"Node1.Example.com", true},
		{"root@node1", true},
		{"ubuntu@198.19.0.2", true},
		{"admin.user_1@node1", true},
		{"2001:db8::2", true},
		{"root@2001:db8::2", true},
		{"", false},
		{"root@", false},
		{"@node1", false},
		{"-oProxyCommand=sh", false},
		{"-F/tmp/evil", false},
		{"root@-oProxyCommand=sh", false},
		{"-l@node1", false},
		{"fe80::1%eth0", false},
		{"fe80::1%$(reboot)", false},
		{"node1 true", false},
		{"node1;reboot", false},
		{"r$(id)@node1", false},
		{"a@b@node1", false},
		{"ssh://root@node1:22", false},
	}
	for _, c := range cases {
		t.Run(c.dest, func(t *testing.T) {
			err := checkSSHDest(c.dest)
			if (err == nil) != c.ok {
				t.Errorf("checkSSHDest(%q) = %v, want ok %v", c.dest, err, c.ok)
			}
		})
	}
}

// TestSSHTargetErrors: a bad destination is refused before ssh runs, in
// one line that says what to do.
func TestSSHTargetErrors(t *testing.T) {
	cases := []struct {
		name string
		ssh  string
		node string
		want string
	}{
		{"node name is an option", "", "-oProxyCommand=touch /tmp/x",
			`the API server names the pod's node "-oProxyCommand=touch /tmp/x", which is not a valid node name (DNS-1123): give its address with --ssh, or run podlab on the node with sudo`},
		{"bad --ssh", "-F/tmp/evil", "node1",
			`--ssh "-F/tmp/evil": the host "-F/tmp/evil" is neither a DNS name nor an IP address: give [user@]host`},
		{"--ssh with a zone", "fe80::1%eth0", "node1",
			`--ssh "fe80::1%eth0": an address with a zone (%…) is not accepted: give [user@]host`},
		{"--ssh wins over a bad node name", "root@198.19.0.2", "-V", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := &Lab{opts: Options{SSH: c.ssh}}
			l.facts.Node = c.node
			got, err := l.sshTarget()
			if c.want == "" {
				if err != nil || got != c.ssh {
					t.Errorf("sshTarget = %q, %v; want %q", got, err, c.ssh)
				}
				return
			}
			var e *Error
			if err == nil || err.Error() != c.want || !errors.As(err, &e) {
				t.Errorf("sshTarget error\n  %v\nwant\n  %s", err, c.want)
			}
		})
	}
}

func TestCappedBuffer(t *testing.T) {
	stopped := 0
	b := &cappedBuffer{max: 10, stop: func() { stopped++ }}
	if n, err := b.Write([]byte("12345")); n != 5 || err != nil {
		t.Fatalf("write under the limit: %d, %v", n, err)
	}
	if n, err := b.Write([]byte("67890")); n != 5 || err != nil || b.Over() {
		t.Fatalf("write up to the limit: %d, %v, over %v", n, err, b.Over())
	}
	n, err := b.Write([]byte("x"))
	if n != 0 || !errors.Is(err, errOutputLimit) || !b.Over() || stopped != 1 {
		t.Errorf("write past the limit: %d, %v, over %v, stopped %d", n, err, b.Over(), stopped)
	}
	if _, err := b.Write([]byte("y")); !errors.Is(err, errOutputLimit) || stopped != 1 {
		t.Errorf("later write: %v, stopped %d times", err, stopped)
	}
	if got := b.String(); got != "1234567890" {
		t.Errorf("kept %q", got)
	}
}

func TestSizeName(t *testing.T) {
	for n, want := range map[int]string{maxOutput: "4 MiB", maxErrOutput: "64 KiB", 64 << 20: "64 MiB"} {
		if got := sizeName(n); got != want {
			t.Errorf("sizeName(%d) = %q, want %q", n, got, want)
		}
	}
}
