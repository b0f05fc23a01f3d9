package cluster

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"podlab/internal/fuzzcheck"
	"podlab/internal/hostile"
	"podlab/netview"
)

// nodeOutput is what nodeScript prints when podlab collect ran.
func nodeOutput(t testing.TB, co collectOutput) []byte {
	t.Helper()
	data, err := json.Marshal(co)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(marker + "collect\n" + string(data) + "\n")
}

// FuzzCheckSSHDest: whatever is accepted as an ssh destination cannot be
// read as an option, holds nothing a shell treats specially, and has no
// zone; node names accepted are what ssh may get alone.
func FuzzCheckSSHDest(f *testing.F) {
	for _, s := range []string{"node1", "root@node1", "ubuntu@198.19.0.2", "2001:db8::2", "fe80::1%eth0",
		"-oProxyCommand=sh", "r$(id)@node1", "node1;reboot", "a@b@c", "Node1.Example.COM", "-", "@", "x\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dest string) {
		if checkSSHDest(dest) == nil {
			if dest == "" || strings.HasPrefix(dest, "-") || strings.ContainsAny(dest, "%$`'\"\\;&|<>(){}*?[]!#~ \t\r\n\x00/=,") {
				t.Errorf("accepted %q", dest)
			}
			if _, host, ok := strings.Cut(dest, "@"); ok && (host == "" || strings.HasPrefix(host, "-")) {
				t.Errorf("accepted %q", dest)
			}
		}
		if checkNodeName(dest) == nil && checkSSHDest(dest) != nil {
			t.Errorf("node name %q accepted, but not as an ssh destination", dest)
		}
	})
}

// FuzzParseNodeOutput: whatever comes back over ssh, parseNodeOutput
// gives a clean one-line error or snapshots with no control character
// that render without one and encode stably.
func FuzzParseNodeOutput(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("..", "..", "netview", "testdata", "lesson.json"))
	if err != nil {
		f.Fatal(err)
	}
	rec, err := netview.ReadRecording(bytes.NewReader(data))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(nodeOutput(f, collectOutput{Schema: netview.Schema, Host: rec.Host, Pod: rec.Pod}))
	tainted := collectOutput{Schema: netview.Schema, Host: rec.Host, Pod: rec.Pod}
	hostile.Taint(&tainted)
	tainted.Schema = netview.Schema
	f.Add(nodeOutput(f, tainted))
	ipOut := marker + "note\npodlab: not here\x1b]0;t\x07\n" +
		marker + "addr\n" + `[{"ifindex":1,"ifname":"lo\u001b[2J","flags":["UP"],"mtu":65536,"addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host"}]}]` + "\n" +
		marker + "link\n\n" + marker + "route\n[]\n" + marker + "neigh\n[]\n" +
		marker + "netns\n" + `[{"name":"pod\u001b]52;c;eA==\u0007","id":0}]` + "\n" +
		marker + "self\nhost\x1b]0;t\x07\n" + marker + "inode\nnet:[4026531840]\n" +
		marker + "sysctl\n/proc/sys/net/ipv4/ip_forward:1\n"
	f.Add([]byte(ipOut))
	f.Add([]byte(marker + "collect\nnot json\n"))
	f.Add([]byte(marker + "collect\nnot json\n" + marker + "addr\n[]\n"))
	f.Add([]byte(marker + "addr\n[{\"ifindex\":1,\"ifname\":\"lo\",\"addr_info\":[{\"local\":\"127.0.0.1\",\"prefixlen\":8}]}]\n" + marker + "note\nline one\nline two\n"))
	f.Add([]byte("no markers at all"))
	extras := collectOutput{Schema: netview.Schema, Host: rec.Host, Pod: rec.Pod, Bird: lessonBird(), NAT: lessonNAT(),
		Unread: map[string]string{netview.PartNAT: "no\x1b[2J table", "other": "x"}}
	hostile.Taint(&extras)
	extras.Schema = netview.Schema
	f.Add(nodeOutput(f, extras))
	f.Add([]byte(marker + "extra\nsudo: a password is required\x1b]0;t\x07\n" + string(nodeOutput(f, collectOutput{Schema: netview.Schema, Host: rec.Host, Pod: rec.Pod}))))
	f.Fuzz(func(t *testing.T, out []byte) {
		res, err := parseNodeOutput(out, "node1")
		if err != nil {
			if res != nil || strings.Contains(err.Error(), "\n") || hostile.Check(err.Error(), false) != nil {
				t.Fatalf("error is not one clean line, or comes with a result: %q", err)
			}
			return
		}
		if res == nil || (res.collected == nil) == (res.host == nil) {
			t.Fatalf("no error and not exactly one view: %+v", res)
		}
		if err := hostile.Check(res.note, false); err != nil || strings.Contains(res.note, "\n") {
			t.Fatalf("note %q: %v", res.note, err)
		}
		var snaps []*netview.Snapshot
		if res.collected != nil {
			snaps = append(snaps, &res.collected.Host, &res.collected.Pod)
		}
		if res.host != nil {
			snaps = append(snaps, res.host)
		}
		if len(snaps) == 0 {
			t.Fatal("no error and no snapshot")
		}
		for _, s := range snaps {
			fuzzcheck.Snapshot(t, s)
		}
		if err := hostile.Check(res.extraNote, false); err != nil || strings.Contains(res.extraNote, "\n") {
			t.Fatalf("extra note %q: %v", res.extraNote, err)
		}
		if c := res.collected; c != nil {
			if u := hostile.Unclean(c); len(u) > 0 {
				t.Fatalf("unclean after parsing: %q", u)
			}
			for part := range c.Unread {
				if part != netview.PartBird && part != netview.PartNAT {
					t.Fatalf("unread part %q kept", part)
				}
			}
		}
	})
}

// A line over the limit is refused, naming the limit, rather than cut
// short and taken for another version's output.
func TestParseNodeOutputLongLine(t *testing.T) {
	long := marker + "collect\n{\"schema\":\"podlab/v1\",\"note\":\"" + strings.Repeat("a", maxLine) + "\"}\n"
	_, err := parseNodeOutput([]byte(long), "node1")
	if err == nil || !strings.Contains(err.Error(), "longer than 64 MiB") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err %v, want one line naming the 64 MiB limit", err)
	}
}
