package host1

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"podlab/internal/netnstest"
)

// User is the student: a real account (ssh needs one) with a home, an
// ssh key and, once written, a kubeconfig and an ssh config. It is never
// root.
type User struct {
	Name     string
	UID, GID int
	Home     string
	// Base is a world-readable directory for what the student runs
	// (podlab's binary); Home is inside it.
	Base string
}

// NewUser adds an account with a fresh name (tests of several packages
// may run at once) and removes it when the test ends.
func NewUser(t *testing.T) *User {
	t.Helper()
	netnstest.RequireRoot(t)
	useradd := netnstest.RequireCommand(t, "useradd", "apt-get install passwd")
	removeStaleUsers(t)
	suffix := make([]byte, 4)
	rand.Read(suffix)
	name := userPrefix + hex.EncodeToString(suffix)
	base, err := os.MkdirTemp("", "podlab-host1-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(base, name)
	// '*' as the password: no password login, but not a locked account,
	// which sshd without PAM refuses even for keys.
	if out, err := exec.Command(useradd, "--home-dir", home, "--create-home", "--shell", "/bin/sh", "--password", "*", "--user-group", name).CombinedOutput(); err != nil {
		t.Fatalf("host1: useradd %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		// What the account ran may still be ending (a podlab whose tmux
		// was just killed, its ssh): end it, then remove the account.
		deadline := time.Now().Add(10 * time.Second)
		for {
			killProcessesOf(name)
			out, err := exec.Command("userdel", name).CombinedOutput()
			if err == nil {
				return
			}
			if !strings.Contains(string(out), "currently used by process") || time.Now().After(deadline) {
				t.Errorf("host1: userdel %s: %v: %s", name, err, out)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	s := &User{Name: name, UID: uid, GID: gid, Home: home, Base: base}
	keygen := netnstest.RequireCommand(t, "ssh-keygen", "apt-get install openssh-client")
	s.MkdirAll(t, ".ssh")
	key := filepath.Join(home, ".ssh", "id_ed25519")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("host1: ssh-keygen: %v: %s", err, out)
	}
	s.chown(t, key)
	s.chown(t, key+".pub")
	return s
}

// killProcessesOf sends SIGKILL to every process whose real or
// effective user is the account name (a test's own student only).
func killProcessesOf(name string) {
	u, err := user.Lookup(name)
	if err != nil {
		return
	}
	uid := u.Uid
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		status, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(status), "\n") {
			if f := strings.Fields(l); len(f) >= 3 && f[0] == "Uid:" && (f[1] == uid || f[2] == uid) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

// userPrefix starts the name of every student account.
const userPrefix = "plstu"

// removeStaleUsers removes the accounts, and their sudoers rules, of test
// binaries killed before their cleanup: an account's base directory is
// made before it and removed with it, so an account without one is stale.
func removeStaleUsers(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ":")
		if len(f) < 7 || !strings.HasPrefix(f[0], userPrefix) {
			continue
		}
		if _, err := os.Stat(filepath.Dir(f[5])); err == nil {
			continue
		}
		if out, err := exec.Command("userdel", f[0]).CombinedOutput(); err != nil {
			t.Logf("host1: removing stale account %s: %v: %s", f[0], err, out)
		}
	}
	rules, _ := filepath.Glob(filepath.Join(SudoersDir, sudoersPrefix+userPrefix+"*"))
	for _, r := range rules {
		if _, err := user.Lookup(strings.TrimPrefix(filepath.Base(r), sudoersPrefix)); err != nil {
			os.Remove(r)
		}
	}
}

// PublicKey is the student's ssh public key, one authorized_keys line.
func (u *User) PublicKey(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(u.Home, ".ssh", "id_ed25519.pub"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// MkdirAll makes rel (under the home) owned by the student.
func (u *User) MkdirAll(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join(u.Home, rel)
	if err := os.MkdirAll(p, 0o700); err != nil {
		t.Fatal(err)
	}
	u.chown(t, p)
	return p
}

// WriteFile writes rel (under the home), the student's own, mode 0600,
// and returns its path.
func (u *User) WriteFile(t *testing.T, rel, content string) string {
	t.Helper()
	u.MkdirAll(t, filepath.Dir(rel))
	p := filepath.Join(u.Home, rel)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	u.chown(t, p)
	return p
}

func (u *User) chown(t *testing.T, p string) {
	t.Helper()
	if err := os.Chown(p, u.UID, u.GID); err != nil {
		t.Fatal(err)
	}
}

// SudoersDir is where the student's sudoers rule goes.
const SudoersDir = "/etc/sudoers.d"

const sudoersPrefix = "podlab-test-"

// Sudoers installs one sudoers rule for the student until the test ends,
// checked by visudo first.
func (u *User) Sudoers(t *testing.T, rule string) {
	t.Helper()
	netnstest.RequireCommand(t, "sudo", "apt-get install sudo")
	visudo := netnstest.RequireCommand(t, "visudo", "apt-get install sudo")
	p := filepath.Join(SudoersDir, sudoersPrefix+u.Name)
	tmp := p + ".new"
	if err := os.WriteFile(tmp, []byte(rule+"\n"), 0o440); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(visudo, "-c", "-f", tmp).CombinedOutput(); err != nil {
		os.Remove(tmp)
		t.Fatalf("host1: sudoers rule %q: %v: %s", rule, err, out)
	}
	// sudo skips files with a dot in their name: the rule counts only
	// once renamed.
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(p) })
}

// Command runs argv as the student, in the home, with a login's
// environment (no KUBECONFIG: ~/.kube/config is the default).
func (u *User) Command(argv ...string) *exec.Cmd {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = u.Home
	cmd.Env = []string{
		"HOME=" + u.Home, "USER=" + u.Name, "LOGNAME=" + u.Name,
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"LANG=C.UTF-8",
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID), Groups: []uint32{}}}
	return cmd
}
