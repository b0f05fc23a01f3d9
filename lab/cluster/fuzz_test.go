package cluster

import (
	"strings"
	"testing"
)

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

// FuzzParseNodeOutput: what ssh brings back is hostile; parsing it gives a
// host view or a one-line error, never a panic.
func FuzzParseNodeOutput(f *testing.F) {
	f.Add([]byte(marker + "collect\n{\"schema\":\"podlab/v1\"}\n"))
	f.Add([]byte(marker + "collect\nnot json\n" + marker + "addr\n[]\n"))
	f.Add([]byte(marker + "addr\n[]\n" + marker + "link\n[]\n" + marker + "route\n[]\n" + marker + "neigh\n[]\n" + marker + "inode\nnet:[4026531840]\n"))
	f.Add([]byte(marker + "addr\n[{\"ifindex\":1,\"ifname\":\"lo\",\"addr_info\":[{\"local\":\"127.0.0.1\",\"prefixlen\":8}]}]\n" + marker + "note\nline one\nline two\n"))
	f.Add([]byte("no markers at all"))
	f.Fuzz(func(t *testing.T, out []byte) {
		res, err := parseNodeOutput(out, "node1")
		if err != nil {
			if res != nil || strings.Contains(err.Error(), "\n") {
				t.Errorf("result %v with error %q", res, err)
			}
			return
		}
		if res == nil || (res.collected == nil) == (res.host == nil) {
			t.Fatalf("no error and not exactly one view: %+v", res)
		}
		if strings.Contains(res.note, "\n") {
			t.Errorf("note of more than one line: %q", res.note)
		}
	})
}
