package cli

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"podlab/internal/netnstest"
)

// asNobody makes the test podlab run "under sudo" for the plain user
// nobody, and returns a directory nobody may write beside one only root
// may.
func asNobody(t *testing.T) (theirs, rootOnly string) {
	t.Helper()
	netnstest.RequireRoot(t)
	t.Setenv("SUDO_USER", "nobody")
	t.Setenv("SUDO_UID", "65534")
	t.Setenv("SUDO_GID", "65534")
	base := t.TempDir()
	// The test's temporary directories are 0700: nobody must pass them.
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	theirs, rootOnly = filepath.Join(base, "theirs"), filepath.Join(base, "root-only")
	if err := os.Mkdir(theirs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(theirs, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(rootOnly, 0o700); err != nil {
		t.Fatal(err)
	}
	return theirs, rootOnly
}

// Under sudo, podlab record writes with the invoking user's rights: into
// their own directory, a file of theirs; into root's, nothing.
func TestRecordUnderSudo(t *testing.T) {
	theirs, rootOnly := asNobody(t)
	out := filepath.Join(theirs, "lab.json")
	if code, _, stderr := podlab(t, "record", "--lab", "recording", "-o", out); code != 0 {
		t.Fatalf("record into their own directory: exit %d: %s", code, stderr)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != 65534 {
		t.Errorf("the recording is %d's, not the invoking user's", uid)
	}
	planted := filepath.Join(rootOnly, "lab.json")
	code, _, stderr := podlab(t, "record", "--lab", "recording", "-o", planted)
	if code == 0 || !strings.Contains(stderr, "as user nobody") || !strings.Contains(stderr, "permission denied") {
		t.Errorf("record into root's directory: exit %d, %q; want a refusal", code, stderr)
	}
	if entries, _ := os.ReadDir(rootOnly); len(entries) != 0 {
		t.Errorf("record left %d files in root's directory", len(entries))
	}
}

// Under sudo, a recording is read with the invoking user's rights: root's
// private file is refused, the user's own is read.
func TestReplayUnderSudo(t *testing.T) {
	theirs, rootOnly := asNobody(t)
	rec, err := os.ReadFile(filepath.Join("..", "netview", "testdata", "lesson.json"))
	if err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(rootOnly, "lab.json")
	if err := os.WriteFile(secret, rec, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := podlab(t, "show", "--plain", "--lab", "replay="+secret)
	if code == 0 || !strings.Contains(stderr, "permission denied") || strings.Contains(out, "eth0") {
		t.Errorf("root's recording: exit %d, stderr %q; want it refused", code, stderr)
	}
	mine := filepath.Join(theirs, "lab.json")
	if err := os.WriteFile(mine, rec, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := podlab(t, "show", "--plain", "--lab", "replay="+mine); code != 0 {
		t.Errorf("their own recording: exit %d: %s", code, stderr)
	}
}

// Under sudo, collect takes --pod-ip ADDRESS and nothing else, whatever
// the sudoers rule let through: podlab's own lock behind the rule's.
func TestCollectUnderSudo(t *testing.T) {
	netnstest.RequireRoot(t)
	t.Setenv("SUDO_USER", "nobody")
	t.Setenv("SUDO_UID", "65534")
	t.Setenv("SUDO_GID", "65534")
	fifo := filepath.Join(t.TempDir(), "fifo")
	for _, args := range [][]string{
		{"collect", "--pod-ip", "198.51.100.7", "--host-netns", fifo},
		{"collect", "--host-netns", "pid:1", "--pod-ip", "198.51.100.7"},
		{"collect", "--pod-ip=198.51.100.7", "--host-netns=/proc/1/ns/net"},
		{"--host-netns", "/proc/1/ns/net", "collect", "--pod-ip", "198.51.100.7"},
		{"collect", "--pod-ip", "198.51.100.7", "extra"},
		{"collect", "--pod-ip", "198.51.100.7", "--pod-ip", "198.51.100.8"},
		{"collect", "--pod-ip", "198.51.100.7 --host-netns /proc/1/ns/net"},
		{"collect", "--pod-ip", "not-an-address"},
		{"collect", "--help"},
		{"collect"},
		{"collect", "--pod-ip", "198.51.100.7", "--nat", "--bird"},
		{"collect", "--pod-ip", "198.51.100.7", "--bird", "--host-netns", "pid:1"},
		{"collect", "--pod-ip", "198.51.100.7", "--bird=true"},
		{"collect", "--pod-ip", "198.51.100.7", "--bird", "--bird"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := podlab(t, args...)
			if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 ||
				!strings.Contains(stderr, "podlab collect: under sudo, collect takes --pod-ip ADDRESS and nothing else") {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and the one-line refusal", code, stdout, stderr)
			}
		})
	}
	// The lesson's own call gets past the check (to look for the pod).
	for _, args := range [][]string{{"collect", "--pod-ip", "198.51.100.7"}, {"collect", "--pod-ip", "2001:db8::7"},
		{"collect", "--pod-ip", "198.51.100.7", "--bird", "--nat"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, _, stderr := podlab(t, args...)
			if code == 2 || strings.Contains(stderr, "under sudo") {
				t.Errorf("exit %d, %q: the lesson's call was refused", code, stderr)
			}
		})
	}
}

// Under a sudo grant wider than collect's, nothing in the student's
// kubeconfig or ssh config runs as root, and the files the kubeconfig
// names are read with the student's rights.
func TestClusterConfigUnderSudo(t *testing.T) {
	theirs, rootOnly := asNobody(t)
	var mu sync.Mutex
	var seen []string
	// Over https: client-go gives credentials to nothing else.
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		http.Error(w, "no", http.StatusForbidden)
	}))
	t.Cleanup(srv.Close)
	secret := filepath.Join(rootOnly, "token")
	if err := os.WriteFile(secret, []byte("root-secret-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "plugin-ran")
	plugin := filepath.Join(theirs, "plugin")
	script := "#!/bin/sh\ntouch " + marker + "\n" +
		`echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t"}}'` + "\n"
	if err := os.WriteFile(plugin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	kubeconfig := func(name, user string) string {
		t.Helper()
		p := filepath.Join(theirs, name)
		c := "apiVersion: v1\nkind: Config\ncurrent-context: c\n" +
			"clusters:\n- name: c\n  cluster:\n    insecure-skip-tls-verify: true\n    server: " + srv.URL + "\n" +
			"contexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n" +
			"users:\n- name: u\n  user:\n" + user
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"exec credential plugin",
			[]string{"--kubeconfig", kubeconfig("exec.yaml", "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: "+plugin+"\n      interactiveMode: Never\n")},
			"credential plugin (exec: " + plugin + ") is refused"},
		{"auth provider",
			[]string{"--kubeconfig", kubeconfig("oidc.yaml", "    auth-provider:\n      name: oidc\n      config:\n        idp-issuer-url: "+srv.URL+"\n        client-id: x\n        id-token: x\n")},
			"auth-provider oidc is refused"},
		{"root's token file",
			[]string{"--kubeconfig", kubeconfig("token.yaml", "    tokenFile: "+secret+"\n")},
			"permission denied"},
		{"ssh config",
			[]string{"--kubeconfig", kubeconfig("plain.yaml", "    token: t\n"), "--ssh-config", filepath.Join(theirs, "ssh_config")},
			"under sudo, --ssh-config is refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := podlab(t, append([]string{"show", "--lab", "cluster", "--request-timeout", "5s"}, tt.args...)...)
			if code == 0 || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want one line with %q", code, stderr, tt.want)
			}
		})
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the kubeconfig's credential plugin ran as root")
	}
	mu.Lock()
	defer mu.Unlock()
	for _, h := range seen {
		if strings.Contains(h, "root-secret-token") {
			t.Error("root's token file went to the kubeconfig's server")
		}
	}
}
