package cluster

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/streaming/pkg/httpstream"

	"podlab/lab/iproute"
	"podlab/netview"
)

// The remote script prints sections, each after a line "@@podlab NAME".
const marker = "@@podlab "

// nodeScript is what runs on the node over ssh (in sh, whatever the
// login shell): podlab's own collector when podlab is there and may run as
// root, else the ip -j commands for the host view alone. With reads, a
// collect that fails (a sudoers rule or a podlab older than those flags)
// is tried again without them, and why goes in a section of its own.
func nodeScript(podlabCmd string, podIP netip.Addr, reads Reads) string {
	var b strings.Builder
	fmt.Fprintf(&b, "p=$(command -v %s 2>/dev/null)\n", shQuote(podlabCmd))
	fmt.Fprintf(&b, `if [ -n "$p" ]; then
  c() { if [ "$(id -u)" = 0 ]; then "$p" collect --pod-ip %[1]s "$@" 2>&1; else sudo -n "$p" collect --pod-ip %[1]s "$@" 2>&1; fi; }
`, podIP)
	if extra := reads.args(); extra != "" {
		// The flags are fixed words, never outside input.
		fmt.Fprintf(&b, `  out=$(c%[1]s)
  if [ $? = 0 ]; then printf '%[2]scollect\n%%s\n' "$out"; exit 0; fi
  printf '%[2]sextra\n%%s\n' "$out"
`, extra, marker)
	}
	fmt.Fprintf(&b, `  out=$(c)
  if [ $? = 0 ]; then printf '%[1]scollect\n%%s\n' "$out"; exit 0; fi
  printf '%[1]snote\n%%s\n' "$out"
fi
`, marker)
	sections := []struct {
		name string
		cmd  []string
	}{
		{"addr", iproute.Commands[0]},
		{"link", iproute.Commands[1]},
		{"route", iproute.Commands[2]},
		{"neigh", iproute.Commands[3]},
		{"netns", []string{"ip", "-j", "netns", "list"}},
		{"self", []string{"ip", "netns", "identify"}},
		{"inode", []string{"readlink", "/proc/self/ns/net"}},
	}
	for _, s := range sections {
		fmt.Fprintf(&b, "printf '%s%s\\n'; %s 2>/dev/null; echo\n", marker, s.name, strings.Join(s.cmd, " "))
	}
	fmt.Fprintf(&b, "printf '%ssysctl\\n'; %s\n", marker, iproute.SysctlScript)
	b.WriteString("exit 0\n")
	return b.String()
}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// maxLine is the longest line sections reads: one ip -j answer is one
// line, a few MiB on the busiest node.
const maxLine = 64 << 20

// sections splits the script's output at its markers. A line longer than
// maxLine is an error, never a section cut short.
func sections(out []byte) (map[string][]byte, error) {
	m := map[string][]byte{}
	name := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for sc.Scan() {
		line := sc.Text()
		if n, ok := strings.CutPrefix(line, marker); ok {
			name = n
			m[name] = []byte{}
			continue
		}
		if name != "" {
			m[name] = append(append(m[name], line...), '\n')
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return m, nil
}

// nodeResult is what ssh brought back: both views from podlab collect, or
// the host view from ip -j (and why podlab collect was not used).
type nodeResult struct {
	collected *collectOutput
	host      *netview.Snapshot
	note      string
	// extraNote is why collect could not read the node's parts wanted
	// (then collected, if set, has the snapshots alone).
	extraNote string
}

// sshNode runs nodeScript on the pod's node.
func (l *Lab) sshNode(ctx context.Context) (*nodeResult, error) {
	ip := l.facts.Pod.IP
	if !ip.IsValid() || ip.Zone() != "" {
		return nil, &Error{Msg: fmt.Sprintf("pod %s/%s has no usable IP address (%q): check the pod (kubectl get pod -o wide)", l.facts.Pod.Namespace, l.facts.Pod.Name, ip.String())}
	}
	// The script is one word for the login shell on the node; inside it
	// every word from outside is quoted or a validated address.
	reads := nodeReads(l.wanted())
	script := nodeScript(l.opts.RemotePodlab, ip, reads)
	limit := maxOutput
	if reads.any() {
		limit = maxOutputExtra
	}
	stdout, stderr, err := l.ssh(ctx, l.opts.sshTimeout(), limit, "sh -c "+shQuote(script))
	if err != nil {
		return nil, l.sshError(err, stderr)
	}
	return parseNodeOutput(stdout, l.sshDest())
}

// Output bounds: podlab collect's JSON for a busy node is well under
// 1 MiB; with BIRD's protocols (bird's own bound is 8 MiB) and a nat
// table (collect sends at most maxNATJSON) it may be far more. Of stderr
// only the last line is shown.
const (
	maxOutput      = 4 << 20
	maxOutputExtra = 64 << 20
	maxErrOutput   = 64 << 10
)

// ssh runs command on the node with the user's ssh, bounded in time and in
// output. The destination is validated (it cannot be taken for an option,
// and `--` ends ssh's options anyway); command reaches the node's login
// shell, so callers build it from quoted or validated words only.
// Overflow and timeout come back as one-line errors; other failures as
// the error of the ssh command, with stderr for the caller to word.
func (l *Lab) ssh(ctx context.Context, timeout time.Duration, limit int, command string) (stdout []byte, stderr string, err error) {
	target, err := l.sshTarget()
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	args := []string{"-o", "BatchMode=yes", "-o", "ConnectTimeout=5"}
	if l.opts.SSHConfig != "" {
		args = append(args, "-F", l.opts.SSHConfig)
	}
	args = append(args, "--", target, command)
	cmd := exec.CommandContext(ctx, "ssh", args...)
	ownGroup(cmd)
	if u := l.opts.Invoker; u != nil {
		// Under sudo, the student's ssh: their keys, their config and
		// known hosts, and whatever these run, never root's.
		groups := make([]uint32, len(u.Groups))
		for i, g := range u.Groups {
			groups[i] = uint32(g)
		}
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID), Groups: groups}
	}
	// ssh's children (a ProxyCommand, a control master) may hold its
	// output open after it is killed: stop waiting for them.
	cmd.WaitDelay = time.Second
	out := &cappedBuffer{max: limit, stop: cancel}
	errOut := &cappedBuffer{max: maxErrOutput, stop: cancel}
	cmd.Stdout, cmd.Stderr = out, errOut
	began := time.Now()
	err = cmd.Run()
	switch {
	case out.Over():
		return nil, "", &Error{Msg: fmt.Sprintf("ssh %s printed more than %s: that is not podlab's or ip's output; check what runs there at login, or run podlab on %s with sudo instead", target, sizeName(limit), l.facts.Node), Err: errOutputLimit}
	case errOut.Over():
		return nil, "", &Error{Msg: fmt.Sprintf("ssh %s printed more than %s of errors: check ssh %s by hand, or run podlab on %s with sudo instead", target, sizeName(maxErrOutput), target, l.facts.Node), Err: errOutputLimit}
	case err != nil && ctx.Err() != nil:
		// The caller's deadline may be the shorter one: say how long it
		// really waited.
		return nil, "", errorf(ctx.Err(), "ssh %s gave no complete answer in %s: check that ssh %s true works, or run podlab on %s with sudo instead", target, time.Since(began).Round(time.Second), target, l.facts.Node)
	}
	return out.Bytes(), errOut.String(), err
}

// sshError words a failed ssh run for the node's collection.
func (l *Lab) sshError(err error, stderr string) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	target := l.sshDest()
	why := lastLine(stderr)
	switch {
	case errors.Is(err, exec.ErrNotFound):
		why = "no ssh client here"
	case why == "":
		why = err.Error()
	}
	return errorf(err, "ssh %s failed: %s — %s", target, why, sshAdvice(why, target, l.facts.Node))
}

// errOutputLimit is behind every "printed more than" error.
var errOutputLimit = errors.New("output over the limit")

// cappedBuffer keeps at most max bytes; the write that would pass it calls
// stop, which ends the command, and is refused, like every later one.
type cappedBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	max  int
	over bool
	stop func()
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.over {
		return 0, errOutputLimit
	}
	if room := b.max - b.buf.Len(); len(p) > room {
		b.buf.Write(p[:room])
		b.over = true
		if b.stop != nil {
			b.stop()
		}
		return room, errOutputLimit
	}
	return b.buf.Write(p)
}

// Over reports whether the output passed the limit.
func (b *cappedBuffer) Over() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.over
}

// Bytes is a copy: a stream's goroutine may still be writing.
func (b *cappedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

func (b *cappedBuffer) String() string { return string(b.Bytes()) }

// sizeName says a limit in KiB or MiB.
func sizeName(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

func parseNodeOutput(out []byte, target string) (*nodeResult, error) {
	sec, err := sections(out)
	if err != nil {
		return nil, errorf(err, "ssh %s printed a line longer than %d MiB (%v): run podlab on that node with sudo instead", target, maxLine>>20, err)
	}
	if c, ok := sec["collect"]; ok {
		var co collectOutput
		if err := json.Unmarshal(c, &co); err == nil && co.Schema == netview.Schema {
			co.Host.Sanitize()
			co.Pod.Sanitize()
			checkRemote(&co)
			e := netview.Extra{Bird: co.Bird, NAT: co.NAT, Unread: co.Unread}
			e.Sanitize()
			return &nodeResult{collected: &co, extraNote: netview.Clean(lastLine(string(sec["extra"])))}, nil
		}
		note := "podlab on " + target + " printed something else than podlab/v1 JSON (another version?)"
		if _, ok := sec["addr"]; !ok {
			return nil, &Error{Msg: note + ": update podlab there"}
		}
		sec["note"] = []byte(note)
	}
	if _, ok := sec["addr"]; !ok {
		return nil, &Error{Msg: fmt.Sprintf("ssh %s ran, but printed no ip output: is iproute2 installed there?", target)}
	}
	s, err := iproute.ParseIPJSON(sec["addr"], sec["link"], sec["route"], sec["neigh"])
	if err != nil {
		return nil, errorf(err, "reading ip -j from %s: %v", target, err)
	}
	iproute.ParseSysctls(s, sec["sysctl"])
	if ids, err := iproute.NetnsNames(sec["netns"]); err == nil && len(ids) > 0 {
		s.NS.NSIDs = ids
	}
	s.NS.Name = strings.TrimSpace(string(sec["self"]))
	if s.NS.Name == "" {
		s.NS.Name = "host"
	}
	s.NS.Inode = nsInode(string(sec["inode"]))
	s.TakenAt = time.Now().UTC()
	s.Sanitize() // the name and the nsids came from the node's output too
	return &nodeResult{host: s, note: netview.Clean(lastLine(string(sec["note"]))), extraNote: netview.Clean(lastLine(string(sec["extra"])))}, nil
}

// nsInode reads readlink's "net:[4026531840]".
func nsInode(s string) uint64 {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "net:["), "]")
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// execPod runs the ip -j commands inside the pod through the exec API, as
// `kubectl exec` does, and parses them.
func (l *Lab) execPod(ctx context.Context) (*netview.Snapshot, error) {
	var outs [][]byte
	for _, c := range iproute.Commands {
		out, err := l.exec(ctx, c)
		if err != nil {
			return nil, err
		}
		outs = append(outs, out)
	}
	s, err := iproute.ParseIPJSON(outs[0], outs[1], outs[2], outs[3])
	if err != nil {
		return nil, errorf(err, "reading ip -j from pod %s/%s: %v", l.facts.Pod.Namespace, l.facts.Pod.Name, err)
	}
	s.NS.Name = "pod"
	s.TakenAt = time.Now().UTC()
	return s, nil
}

// exec runs one command in the pod's first container: websocket first,
// SPDY for API servers that do not speak it, as kubectl does.
func (l *Lab) exec(ctx context.Context, command []string) ([]byte, error) {
	p := l.facts.Pod
	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	u := l.client.execURL(p.Namespace, p.Name, &corev1.PodExecOptions{
		Container: l.container,
		Command:   command,
		Stdout:    true,
		Stderr:    true,
	})
	ws, err := remotecommand.NewWebSocketExecutor(l.config, "GET", u.String())
	if err != nil {
		return nil, errorf(err, "exec into %s/%s: %v", p.Namespace, p.Name, err)
	}
	spdy, err := remotecommand.NewSPDYExecutor(l.config, "POST", u)
	if err != nil {
		return nil, errorf(err, "exec into %s/%s: %v", p.Namespace, p.Name, err)
	}
	ex, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return nil, errorf(err, "exec into %s/%s: %v", p.Namespace, p.Name, err)
	}
	// A flood ends the stream at once (stop cancels ctx); a stream that
	// never closes ends with ctx's deadline.
	stdout := &cappedBuffer{max: maxOutput, stop: cancel}
	stderr := &cappedBuffer{max: maxErrOutput, stop: cancel}
	began := time.Now()
	err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: stdout, Stderr: stderr})
	if stdout.Over() || stderr.Over() {
		limit := sizeName(maxOutput)
		if stderr.Over() {
			limit = sizeName(maxErrOutput) + " of errors"
		}
		return nil, &Error{Msg: fmt.Sprintf("exec %s in pod %s/%s printed more than %s: check that command in the pod, or run podlab on %s with sudo instead", strings.Join(command, " "), p.Namespace, p.Name, limit, p.Node), Err: errOutputLimit}
	}
	if err == nil {
		return stdout.Bytes(), nil
	}
	if ctx.Err() != nil {
		return nil, errorf(err, "exec %s in pod %s/%s gave no complete answer in %s (the API server, the node's kubelet or the command hangs): check kubectl exec, or run podlab on %s with sudo instead", strings.Join(command, " "), p.Namespace, p.Name, time.Since(began).Round(time.Second), p.Node)
	}
	r := request{"create", "pods/exec", p.Namespace}
	// A refused exec comes back as a failed upgrade, whose cause is the
	// API server's status (websocket) or only its message (SPDY).
	cause := err
	var up *httpstream.UpgradeFailureError
	if errors.As(err, &up) && up.Cause != nil {
		cause = up.Cause
	}
	if !apierrors.IsForbidden(cause) && strings.Contains(cause.Error(), " is forbidden: ") {
		cause = apierrors.NewForbidden(schema.GroupResource{Resource: "pods/exec"}, p.Name, cause)
	}
	if apierrors.IsForbidden(cause) || apierrors.IsUnauthorized(cause) {
		e := apiError(cause, r, l.server)
		e.Msg += fmt.Sprintf(" (or run podlab on %s with sudo)", p.Node)
		return nil, e
	}
	if e, ok := transportError(err, l.server); ok {
		return nil, e
	}
	msg := lastLine(stderr.String())
	if msg == "" {
		msg = netview.FirstLine(err.Error())
	}
	if strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file") {
		return nil, errorf(err, "pod %s/%s has no ip command (iproute2) in container %s: run podlab on %s with sudo instead", p.Namespace, p.Name, l.container, p.Node)
	}
	if advice, ok := execAdvice(msg, p, l.container); ok {
		return nil, errorf(err, "%s", advice)
	}
	return nil, errorf(err, "exec %s in pod %s/%s failed: %s: run podlab on %s with sudo instead", strings.Join(command, " "), p.Namespace, p.Name, msg, p.Node)
}
