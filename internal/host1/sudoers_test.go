package host1_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"podlab/internal/host1"
	"podlab/lab/cluster"
)

// readmeRule is the sudoers line the README's install section gives, for
// the form whose arguments start with args.
func readmeRule(t *testing.T, args string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`echo '(ubuntu ALL=\(root\) NOPASSWD: /usr/local/bin/podlab ` + regexp.QuoteMeta(args) + `[^']*)' \| sudo tee /etc/sudoers\.d/podlab`)
	m := re.FindSubmatch(b)
	if m == nil {
		t.Fatalf("the README's install section has no sudoers line with %q", args)
	}
	return string(m[1])
}

// sudoCollect runs `sudo -n PODLAB args...` as the student.
func sudoCollect(t *testing.T, u *host1.User, bin string, args ...string) (code int, stderr string) {
	t.Helper()
	cmd := u.Command(append([]string{"sudo", "-n", bin}, args...)...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := runBounded(t, cmd, time.Minute)
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, errb.String()
}

// TestSudoersRule tries the README's sudoers rule through the real sudo,
// as a plain user, on a podlab at a root-owned path: the lesson's call
// passes, and every way to say more than `collect --pod-ip ADDRESS` is
// refused by sudo itself. Under the older wildcard rule, which lets them
// through, podlab refuses them on its own.
func TestSudoersRule(t *testing.T) {
	u := host1.NewUser(t)
	bin := filepath.Join(podlab(t), "podlab")
	for _, p := range []string{bin, filepath.Dir(bin)} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Sys().(*syscall.Stat_t).Uid != 0 || fi.Mode().Perm()&0o022 != 0 {
			t.Fatalf("%s is not root's alone: sudo's rule would grant what the student can replace", p)
		}
	}
	install := func(t *testing.T, readme string) {
		t.Helper()
		rule := strings.Replace(readme, "ubuntu ", u.Name+" ", 1)
		rule = strings.Replace(rule, "/usr/local/bin/podlab", bin, 1)
		u.Sudoers(t, rule)
	}
	fifo := filepath.Join(u.Base, "fifo")
	refused := [][]string{
		{"collect", "--pod-ip", "198.51.100.7", "--host-netns", fifo},
		{"collect", "--host-netns", fifo, "--pod-ip", "198.51.100.7"},
		{"collect", "--pod-ip", "198.51.100.7 --host-netns " + fifo},
		{"collect", "--pod-ip", "198.51.100.7", "extra"},
		{"collect", "--pod-ip", "198.51.100.7", "--pod-ip", "198.51.100.8"},
		{"collect", "--pod-ip", "not-an-address"},
		{"collect", "--pod-ip", "198.51.100.7/24"},
		{"collect", "--pod-ip", ""},
		{"show", "--lab", "recording"},
		{"collect", "--pod-ip", "198.51.100.7", "--nat", "--bird"},
		{"collect", "--pod-ip", "198.51.100.7", "--bird", "--bird"},
		{"collect", "--pod-ip", "198.51.100.7", "--bird=true"},
		{"collect", "--pod-ip", "198.51.100.7", "--bird", "--host-netns", fifo},
		{"collect", "--bird", "--pod-ip", "198.51.100.7"},
	}
	// sudo matches the arguments joined by spaces: one with a space in it
	// can pass for two, and podlab's own check is what refuses it.
	joined := [][]string{
		{"collect", "--pod-ip", "198.51.100.7 --bird"},
		{"collect", "--pod-ip", "198.51.100.7", "--bird --nat"},
	}
	podlabRefuses := func(t *testing.T, args []string) {
		t.Helper()
		code, stderr := sudoCollect(t, u, bin, args...)
		if code != 2 || !strings.HasPrefix(stderr, "podlab collect: under sudo, collect takes --pod-ip ADDRESS and nothing else") {
			t.Errorf("exit %d, stderr %q; want podlab's refusal", code, stderr)
		}
	}

	t.Run("regular expression", func(t *testing.T) {
		readme := readmeRule(t, "^collect")
		if !strings.HasSuffix(readme, " "+cluster.SudoersCollectArgs) {
			t.Fatalf("the README's rule %q is not podlab's advice %q", readme, cluster.SudoersCollectArgs)
		}
		install(t, readme)
		for _, call := range [][]string{{"198.51.100.7"}, {"2001:db8::7"}, {"198.51.100.7", "--bird"}, {"198.51.100.7", "--nat"}, {"198.51.100.7", "--bird", "--nat"}} {
			ip := call[0]
			t.Run("the lesson's call "+strings.Join(call, " "), func(t *testing.T) {
				code, stderr := sudoCollect(t, u, bin, append([]string{"collect", "--pod-ip"}, call...)...)
				// It ran, as root: it looked at every namespace on this
				// machine for the pod, which is elsewhere.
				want := fmt.Sprintf("podlab collect: no network namespace on this node has %s on its eth0", ip)
				if code != 1 || !strings.HasPrefix(stderr, want) {
					t.Errorf("exit %d, stderr %q; want podlab's own %q", code, stderr, want)
				}
			})
		}
		for _, args := range refused {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				code, stderr := sudoCollect(t, u, bin, args...)
				if code == 0 || !strings.Contains(stderr, "sudo: a password is required") || strings.Contains(stderr, "podlab") {
					t.Errorf("exit %d, stderr %q; want sudo's refusal", code, stderr)
				}
			})
		}
		for _, args := range joined {
			t.Run(strings.Join(args, " "), func(t *testing.T) { podlabRefuses(t, args) })
		}
	})

	// The older form's * matches anything: sudo lets the extra
	// arguments through, and podlab's own check is what refuses them.
	t.Run("wildcard", func(t *testing.T) {
		install(t, readmeRule(t, "collect --pod-ip *"))
		lets := append([][]string{refused[0], refused[2], refused[3], refused[4], refused[5]}, refused[9:13]...)
		for _, args := range append(lets, joined...) {
			t.Run(strings.Join(args, " "), func(t *testing.T) { podlabRefuses(t, args) })
		}
	})
}

// TestFromHost1UnderSudo: podlab run with sudo on host1 reaches the node
// with the student's ssh (their key, their known hosts), never root's.
func TestFromHost1UnderSudo(t *testing.T) {
	l := classroom(t)
	kc, err := os.ReadFile(l.Kubeconfig(t, l.User.Name, host1.StudentRules...))
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := l.User.WriteFile(t, ".kube/config", string(kc))
	sshd := l.StartSSHD(t, "node1", host1.SSHOptions{})
	l.SSHConfig(t, []*host1.SSHD{sshd}, sshd)
	cmd := exec.Command(filepath.Join(podlab(t), "podlab"), "show", "--lab", "cluster", "--json", "--kubeconfig", kubeconfig)
	cmd.Env = []string{
		"HOME=/root", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
		"SUDO_USER=" + l.User.Name, fmt.Sprintf("SUDO_UID=%d", l.User.UID), fmt.Sprintf("SUDO_GID=%d", l.User.GID),
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := runBounded(t, cmd, 2*time.Minute); err != nil {
		t.Fatalf("sudo podlab show: %v: %s", err, stderr.String())
	}
	var got struct {
		Describe string `json:"describe"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.Describe, "host over ssh node1 with ip -j") {
		t.Errorf("describe: %s", got.Describe)
	}
}
