package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// podlab runs the command line in-process and returns its exit code and
// output.
func podlab(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), "podlab", args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCommandLineErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"schema":"podlab/v1","pod":`), 0o644); err != nil {
		t.Fatal(err)
	}
	progress := filepath.Join(t.TempDir(), "progress.json")
	future := filepath.Join(t.TempDir(), "future.json")
	if err := os.WriteFile(future, []byte(`{"schema":"podlab/v9"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"unknown flag", []string{"show", "--bogus"}, 2, `run "podlab show -h" for help`},
		{"stray argument", []string{"show", "--lab", "recording", "extra"}, 2, `unexpected argument "extra"`},
		{"unknown lab", []string{"show", "--lab", "moon"}, 2, `unknown lab "moon"`},
		{"replay without file", []string{"show", "--lab", "replay"}, 2, "--lab replay=FILE"},
		{"missing recording", []string{"show", "--lab", "replay=/nonexistent/x.json"}, 1, "not found"},
		{"malformed recording", []string{"show", "--lab", "replay=" + bad}, 1, "bad.json"},
		{"future recording", []string{"show", "--lab", "replay=" + future}, 1, `"podlab/v9" is not supported`},
		{"netns without pod", []string{"show", "--lab", "netns"}, 2, "--pod-netns NAME|PATH or --pod-ip IP"},
		{"netns with both", []string{"show", "--lab", "netns", "--pod-netns", "a", "--pod-ip", "198.19.22.132"}, 2, "not both"},
		{"bad pod ip", []string{"show", "--lab", "netns", "--pod-ip", "nope"}, 2, "not an IP address"},
		{"record without -o", []string{"record", "--lab", "recording"}, 2, "record needs -o FILE"},
		{"no kubeconfig", []string{"show", "--lab", "cluster", "--kubeconfig", "/nonexistent/kubeconfig"}, 1, "kubeconfig"},
		{"progress without self-paced", []string{"--lab", "recording", "--progress", progress}, 2, "--progress and --reset go with --self-paced"},
		{"reset without self-paced", []string{"--lab", "recording", "--reset"}, 2, "go with --self-paced"},
		{"corrupt progress", []string{"--lab", "recording", "--self-paced", "--progress", bad}, 1, "delete it or start over with --reset"},
		{"progress is a directory", []string{"--lab", "recording", "--self-paced", "--progress", t.TempDir()}, 1, "reading progress"},
		{"self-paced without a terminal", []string{"--lab", "recording", "--self-paced", "--progress", progress}, 1, "interactive terminal"},
		// The terminal is asked for before the lab is opened (or built).
		{"no terminal, lab not opened", []string{"--lab", "replay=/nonexistent/x.json"}, 1, "interactive terminal"},
		{"reset skips a corrupt file", []string{"--lab", "recording", "--self-paced", "--reset", "--progress", bad}, 1, "interactive terminal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := podlab(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q does not say %q", stderr, tt.want)
			}
			if n := strings.Count(strings.TrimSpace(stderr), "\n"); n > 0 {
				t.Errorf("error is %d lines, want one: %q", n+1, stderr)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Errorf("stack trace in stderr: %q", stderr)
			}
		})
	}
}

// TestHelp: every command's help goes to stdout with exit 0, starts with
// its usage, has examples, and lists each flag once (one name per setting,
// -n and --namespace on one line).
func TestHelp(t *testing.T) {
	commands := [][]string{{}, {"show"}, {"record"}, {"collect"}, {"sandbox"}, {"sandbox", "up"}, {"sandbox", "down"},
		{"sandbox", "status"}, {"version"}, {"completion"}, {"help"}, {"pack"}, {"pack", "list"}, {"pack", "lint"}, {"pack", "new"}}
	flagName := regexp.MustCompile(`^  (?:-\w, |    )(--[\w-]+)`)
	for _, cmd := range commands {
		for _, h := range []string{"-h", "--help"} {
			args := append(append([]string{}, cmd...), h)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				code, out, stderr := podlab(t, args...)
				if code != 0 || stderr != "" {
					t.Fatalf("exit %d, stderr %q", code, stderr)
				}
				if want := "Usage:\n  " + strings.TrimSpace("podlab "+strings.Join(cmd, " ")); !strings.HasPrefix(out, want) {
					t.Errorf("help does not start with %q:\n%s", want, out)
				}
				if !strings.Contains(out, "Examples:\n  # ") {
					t.Errorf("help has no examples:\n%s", out)
				}
				// A command line that runs podlab elsewhere (over ssh)
				// is not one to put podlab's name in front of.
				for _, l := range strings.Split(out, "\n") {
					if rest, ok := strings.CutPrefix(l, "  podlab "); ok && strings.Contains(rest, " podlab ") {
						t.Errorf("example %q names podlab twice", strings.TrimSpace(l))
					}
				}
				seen := map[string]bool{}
				for _, l := range strings.Split(out, "\n") {
					if m := flagName.FindStringSubmatch(l); m != nil {
						if seen[m[1]] {
							t.Errorf("%s listed twice:\n%s", m[1], out)
						}
						seen[m[1]] = true
					}
				}
			})
		}
	}
	// The lab commands list kubectl's flags, -n with --namespace.
	_, out, _ := podlab(t, "show", "-h")
	for _, want := range []string{"-n, --namespace string", "--kubeconfig string", "--context string", "--cluster string",
		"--user string", "--as string", "--request-timeout string", "-l, --selector string", "--pod string", "--sandbox-prefix string"} {
		if !strings.Contains(out, want) {
			t.Errorf("show -h lacks %q", want)
		}
	}
	if strings.Contains(out, "--password") {
		t.Errorf("show -h offers basic authentication, which kubectl dropped:\n%s", out)
	}
	if strings.Contains(out, "--prefix") || strings.Contains(out, "--state-dir") {
		t.Errorf("show -h lists an old sandbox flag name:\n%s", out)
	}
}

// TestUsageErrors: a mistake in the command line is one line on stderr,
// naming the command and how to get its help, with exit code 2.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, `podlab: unknown flag: --bogus (run "podlab -h" for help)`},
		{[]string{"show", "-x"}, `podlab: unknown shorthand flag: 'x' in -x (run "podlab show -h" for help)`},
		{[]string{"show", "-n"}, `podlab: flag needs an argument: 'n' in -n (run "podlab show -h" for help)`},
		{[]string{"--section", "two"}, `podlab: invalid argument "two" for "--section" flag`},
		{[]string{"--section", "9"}, "podlab: --section must be 1 to 4, not 9"},
		{[]string{"--refresh", "-1s"}, "podlab: --refresh must not be negative"},
		{[]string{"show", "--json", "--map"}, "podlab: --json and --map do not go together"},
		{[]string{"show", "--lab", "cluster", "--request-timeout", "soon"}, `podlab: --request-timeout "soon" is not a duration`},
		{[]string{"version", "now"}, `podlab: unexpected argument "now" (run "podlab version -h" for help)`},
		{[]string{"sandbox"}, `podlab sandbox: up, down, status, apply, delete-pod, scale or request? (run "podlab sandbox -h" for help)`},
		{[]string{"sandbox", "sideways"}, `podlab sandbox: unknown command "sideways": use up, down, status, apply, delete-pod, scale or request`},
		{[]string{"sandbox", "delete-pod"}, `podlab sandbox delete-pod: name the pod as NAMESPACE/NAME (see podlab sandbox status)`},
		{[]string{"sandbox", "delete-pod", "a/b", "c/d"}, `podlab sandbox delete-pod: unexpected argument "c/d"`},
		{[]string{"check", "now"}, `podlab: unexpected argument "now" (run "podlab check -h" for help)`},
		{[]string{"sandbox", "up", "--colour"}, `podlab sandbox up: unknown flag: --colour`},
		{[]string{"sandbox", "up", "--pack", "nope"}, `podlab sandbox up: no sandbox for pack "nope": use --pack bgp-peering or --pack kube-proxy`},
		{[]string{"sandbox", "apply"}, `podlab sandbox apply: name an action: peer-host1, external-pool, advertise-cluster-ips, advertise-external-ips, local-policy`},
		{[]string{"sandbox", "apply", "peer-host1", "peer-host2"}, `podlab sandbox apply: unknown action "peer-host2": use peer-host1, external-pool, advertise-cluster-ips, advertise-external-ips, local-policy`},
		{[]string{"sandbox", "up", "--kube", "--kube-proxy-mode", "ipvs"}, `podlab sandbox up: --kube-proxy-mode "ipvs": use iptables or nftables`},
		{[]string{"sandbox", "up", "--kube-proxy-mode", "nftables"}, `podlab sandbox up: --kube-proxy-mode is for a sandbox with --kube: add --kube`},
		{[]string{"sandbox", "scale"}, `podlab sandbox scale: name the deployment and the count: summary N`},
		{[]string{"sandbox", "scale", "summary", "three"}, `podlab sandbox scale: "three" is not a number of pods (1-5)`},
		{[]string{"sandbox", "request"}, `podlab sandbox request: name the service: customer, database or summary`},
		{[]string{"sandbox", "request", "summary", "-n", "many"}, `podlab sandbox request: invalid argument "many" for "-n, --count" flag`},
		{[]string{"sandbox", "down", "now"}, `podlab sandbox down: unexpected argument "now"`},
		{[]string{"collect"}, "podlab collect: --pod-ip is required (kubectl get pods -o wide shows it)"},
		{[]string{"collect", "--pod-ip", "198.19.22"}, `podlab collect: --pod-ip "198.19.22" is not an IP address`},
		{[]string{"collect", "--pod-ip", "198.19.22.132", "node1"}, `podlab collect: unexpected argument "node1"`},
		{[]string{"completion"}, "podlab: which shell? bash, zsh, fish or powershell"},
		{[]string{"completion", "tcsh"}, `podlab: unknown shell "tcsh"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, stderr := podlab(t, tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2 (stderr %q)", code, stderr)
			}
			if !strings.HasPrefix(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr %q, want one line starting %q", stderr, tt.want)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
		})
	}
}

// TestPluginName: run as kubectl-podlab (kubectl runs plugins by that
// name), podlab calls itself "kubectl podlab" in help, errors and version.
func TestPluginName(t *testing.T) {
	run := func(argv0 string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Run(context.Background(), argv0, args, &out, &errb)
		return code, out.String(), errb.String()
	}
	if _, out, _ := run("/usr/local/bin/kubectl-podlab", "show", "-h"); !strings.HasPrefix(out, "Usage:\n  kubectl podlab show [flags]") ||
		!strings.Contains(out, "  kubectl podlab show --lab recording") {
		t.Errorf("plugin help:\n%s", out)
	}
	if code, _, stderr := run("kubectl-podlab", "frobnicate"); code != 2 || stderr != "kubectl podlab: unknown command \"frobnicate\" (run \"kubectl podlab -h\" for help)\n" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if _, out, _ := run("/usr/bin/podlab", "version"); !strings.HasPrefix(out, "podlab dev\n") {
		t.Errorf("version as podlab: %q", out)
	}
	if _, out, _ := run("kubectl-podlab", "--version"); !strings.HasPrefix(out, "kubectl podlab dev\n") {
		t.Errorf("--version as kubectl-podlab: %q", out)
	}
}

func TestVersion(t *testing.T) {
	_, a, _ := podlab(t, "version")
	_, b, _ := podlab(t, "--version")
	if a != b {
		t.Errorf("version %q and --version %q differ", a, b)
	}
	for _, want := range []string{"podlab dev", "commit:", "built:", "go:       " + runtime.Version(), "platform: " + runtime.GOOS + "/" + runtime.GOARCH} {
		if !strings.Contains(a, want) {
			t.Errorf("version lacks %q:\n%s", want, a)
		}
	}
}

// TestCompletion: a script for each shell, and the lab names offered for
// --lab by the completion it calls back.
func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{"bash": "__start_podlab", "zsh": "#compdef podlab", "fish": "complete -c podlab", "powershell": "Register-ArgumentCompleter"} {
		code, out, stderr := podlab(t, "completion", shell)
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("completion %s: exit %d, stderr %q, no %q in the script", shell, code, stderr, want)
		}
	}
	code, out, _ := podlab(t, "__complete", "show", "--lab", "")
	if code != 0 || !strings.Contains(out, "recording\n") || !strings.Contains(out, "replay=\n") {
		t.Errorf("--lab completion: exit %d:\n%s", code, out)
	}
	_, out, _ = podlab(t, "__complete", "sandbox", "")
	for _, sub := range []string{"up", "down", "status"} {
		if !strings.Contains(out, sub+"\t") {
			t.Errorf("sandbox completion lacks %s:\n%s", sub, out)
		}
	}
	// Every mode the sandbox builds, wherever --mode is taken.
	for _, args := range [][]string{
		{"__complete", "show", "--mode", ""},
		{"__complete", "sandbox", "up", "--mode", ""},
	} {
		_, out, _ = podlab(t, args...)
		for _, mode := range []string{"bgp", "vxlan", "ipip"} {
			if !strings.Contains(out, mode+"\n") {
				t.Errorf("%v lacks %s:\n%s", args[1:], mode, out)
			}
		}
	}
}

// TestSandboxOldFlagNames: `podlab sandbox` took --prefix and --state-dir
// before the lab flags' names; scripts using them keep working.
func TestSandboxOldFlagNames(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"sandbox", "status", "--prefix", "ptold", "--state-dir", dir},
		{"sandbox", "status", "--sandbox-prefix", "ptold", "--sandbox-state-dir", dir},
	} {
		code, out, stderr := podlab(t, args...)
		if code != 0 || out != "sandbox ptold is not up\n" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, stderr)
		}
	}
}

func TestShowRecording(t *testing.T) {
	code, out, stderr := podlab(t, "show", "--lab", "recording")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"customer-574bd6cc75-2blnv $ ip addr",
		"3: eth0@if9: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1410",
		"inet 198.19.22.132/32 brd 198.19.22.132 scope global eth0",
		"link-netnsid 0",
		"default via 169.254.1.1 dev eth0",
		"169.254.1.1 dev eth0 scope link",
		"node1 $ ip route",
		"9: caliea2aa288365@if3:",
		"198.19.21.64/26 via 198.19.0.3 dev eth0 proto bird",
		"blackhole 198.19.22.128/26 proto bird",
		"198.19.22.132 dev caliea2aa288365 scope link",
		"veth pair [ok]",
		"is local-block-blackhole",
		"(node2) is remote-block",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show does not print %q", want)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colours in output that is not a terminal")
	}
}

func TestShowJSON(t *testing.T) {
	code, out, stderr := podlab(t, "show", "--lab", "recording", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got struct {
		Schema   string          `json:"schema"`
		Pod      json.RawMessage `json:"pod"`
		Host     json.RawMessage `json:"host"`
		Analysis struct {
			Veth struct {
				PodIf         string `json:"pod_if"`
				PodIndex      int    `json:"pod_index"`
				PodPeerIndex  int    `json:"pod_peer_index"`
				HostIf        string `json:"host_if"`
				HostIndex     int    `json:"host_index"`
				HostPeerIndex int    `json:"host_peer_index"`
				Agree         bool   `json:"agree"`
			} `json:"veth"`
			Gateway struct {
				Address   string   `json:"address"`
				Confirmed []string `json:"confirmed"`
			} `json:"gateway"`
			Routes []map[string]any `json:"routes"`
		} `json:"analysis"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("show --json is not JSON: %v", err)
	}
	v := got.Analysis.Veth
	if got.Schema != "podlab/v1" || len(got.Pod) < 10 || len(got.Host) < 10 {
		t.Errorf("schema %q, pod %d bytes, host %d bytes", got.Schema, len(got.Pod), len(got.Host))
	}
	if v.PodIf != "eth0" || v.PodIndex != 3 || v.PodPeerIndex != 9 || v.HostIf != "caliea2aa288365" || v.HostIndex != 9 || v.HostPeerIndex != 3 || !v.Agree {
		t.Errorf("veth = %+v", v)
	}
	if got.Analysis.Gateway.Address != "169.254.1.1" || len(got.Analysis.Gateway.Confirmed) == 0 {
		t.Errorf("gateway = %+v", got.Analysis.Gateway)
	}
	classes := map[string]bool{}
	for _, r := range got.Analysis.Routes {
		for _, k := range []string{"side", "dst", "class", "reason"} {
			if _, ok := r[k]; !ok {
				t.Errorf("route %v has no %q", r, k)
			}
		}
		classes[r["class"].(string)] = true
	}
	for _, c := range []string{"pod-default", "pod-gateway", "local-pod", "local-block-blackhole", "remote-block", "default", "connected"} {
		if !classes[c] {
			t.Errorf("no %s route in %v", c, classes)
		}
	}
}

// A recording replays as what was recorded.
func TestRecordReplay(t *testing.T) {
	file := filepath.Join(t.TempDir(), "lab.json")
	if code, _, stderr := podlab(t, "record", "--lab", "recording", "-o", file); code != 0 {
		t.Fatalf("record: exit %d: %s", code, stderr)
	}
	if fi, err := os.Stat(file); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o644 {
		t.Errorf("recording has mode %v; want readable by all (0644)", fi.Mode().Perm())
	}
	if !showsAlike(t, "recording", "replay="+file) {
		t.Errorf("replayed show differs from the original")
	}
}

// showsAlike says whether `podlab show --plain` prints the same for two
// labs (--lab values), all but the first line, which names the lab.
func showsAlike(t *testing.T, lab, other string) bool {
	t.Helper()
	_, want, _ := podlab(t, "show", "--plain", "--lab", lab)
	code, got, stderr := podlab(t, "show", "--plain", "--lab", other)
	if code != 0 {
		t.Fatalf("show --lab %s: exit %d: %s", other, code, stderr)
	}
	_, want, _ = strings.Cut(want, "\n")
	_, got, _ = strings.Cut(got, "\n")
	return got == want
}

func TestPaletteColours(t *testing.T) {
	on := newPalette(true, true)
	if got := on.tagged("caliea2aa288365", "veth-host"); !strings.HasPrefix(got, "\x1b[") {
		t.Errorf("veth-host not coloured: %q", got)
	}
	if got := newPalette(false, true).tagged("caliea2aa288365", "veth-host"); got != "caliea2aa288365" {
		t.Errorf("colour off still styles: %q", got)
	}
}

func TestBrief(t *testing.T) {
	tests := []struct{ in, want string }{
		{"no kubeconfig found (--kubeconfig, $KUBECONFIG): point --kubeconfig at it", "no kubeconfig found"},
		{"cannot reach the API server at https://127.0.0.1:1: connection refused", "cannot reach the API server at https://127.0.0.1:1"},
		{"plain", "plain"},
	}
	for _, tt := range tests {
		if got := brief(errors.New(tt.in)); got != tt.want {
			t.Errorf("brief(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
