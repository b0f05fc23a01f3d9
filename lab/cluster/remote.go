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
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/streaming/pkg/httpstream"

	"podlab/lab/iproute"
	"podlab/netview"
)

// The remote script prints sections, each after a line "@@podlab NAME".
const marker = "@@podlab "

// nodeScript is what runs on the node over ssh (in sh, whatever the
// login shell): podlab's own collector when podlab is there and may run as
// root, else the ip -j commands for the host view alone.
func nodeScript(podlabCmd string, podIP netip.Addr) string {
	var b strings.Builder
	fmt.Fprintf(&b, "p=$(command -v %s 2>/dev/null)\n", shQuote(podlabCmd))
	fmt.Fprintf(&b, `if [ -n "$p" ]; then
  if [ "$(id -u)" = 0 ]; then out=$("$p" collect --pod-ip %[1]s 2>&1); else out=$(sudo -n "$p" collect --pod-ip %[1]s 2>&1); fi
  if [ $? = 0 ]; then printf '%[2]scollect\n%%s\n' "$out"; exit 0; fi
  printf '%[2]snote\n%%s\n' "$out"
fi
`, podIP, marker)
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

// sections splits the script's output at its markers.
func sections(out []byte) map[string][]byte {
	m := map[string][]byte{}
	name := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
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
	return m
}

// nodeResult is what ssh brought back: both views from podlab collect, or
// the host view from ip -j (and why podlab collect was not used).
type nodeResult struct {
	collected *collectOutput
	host      *netview.Snapshot
	note      string
}

// sshNode runs nodeScript on the pod's node.
func (l *Lab) sshNode(ctx context.Context) (*nodeResult, error) {
	target := l.sshTarget()
	ctx, cancel := context.WithTimeout(ctx, 3*l.opts.Timeout)
	defer cancel()
	args := []string{"-o", "BatchMode=yes", "-o", "ConnectTimeout=5"}
	if l.opts.SSHConfig != "" {
		args = append(args, "-F", l.opts.SSHConfig)
	}
	script := nodeScript(l.opts.RemotePodlab, l.facts.Pod.IP)
	args = append(args, target, "sh -c "+shQuote(script))
	cmd := exec.CommandContext(ctx, "ssh", args...)
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		why := lastLine(stderr.String())
		switch {
		case errors.Is(err, exec.ErrNotFound):
			why = "no ssh client here"
		case ctx.Err() != nil:
			why = "timed out"
		case why == "":
			why = err.Error()
		}
		return nil, oneLine(err, "ssh %s failed: %s — %s", target, why, sshAdvice(why, target, l.facts.Node))
	}
	return parseNodeOutput(stdout.Bytes(), target)
}

func parseNodeOutput(out []byte, target string) (*nodeResult, error) {
	sec := sections(out)
	if c, ok := sec["collect"]; ok {
		var co collectOutput
		if err := json.Unmarshal(c, &co); err == nil && co.Schema == netview.Schema {
			return &nodeResult{collected: &co}, nil
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
		return nil, oneLine(err, "reading ip -j from %s: %v", target, err)
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
	return &nodeResult{host: s, note: lastLine(string(sec["note"]))}, nil
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
		return nil, oneLine(err, "reading ip -j from pod %s/%s: %v", l.facts.Pod.Namespace, l.facts.Pod.Name, err)
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
	req := l.client.CoreV1().RESTClient().Post().
		Resource("pods").Namespace(p.Namespace).Name(p.Name).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: l.container,
			Command:   command,
			Stdout:    true,
			Stderr:    true,
		}, scheme.ParameterCodec)
	ws, err := remotecommand.NewWebSocketExecutor(l.config, "GET", req.URL().String())
	if err != nil {
		return nil, oneLine(err, "exec into %s/%s: %v", p.Namespace, p.Name, err)
	}
	spdy, err := remotecommand.NewSPDYExecutor(l.config, "POST", req.URL())
	if err != nil {
		return nil, oneLine(err, "exec into %s/%s: %v", p.Namespace, p.Name, err)
	}
	ex, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return nil, oneLine(err, "exec into %s/%s: %v", p.Namespace, p.Name, err)
	}
	var stdout, stderr bytes.Buffer
	err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &stdout, Stderr: &stderr})
	if err == nil {
		return stdout.Bytes(), nil
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
		msg = firstLine(err.Error())
	}
	if strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file") {
		return nil, oneLine(err, "pod %s/%s has no ip command (iproute2) in container %s: run podlab on %s with sudo instead", p.Namespace, p.Name, l.container, p.Node)
	}
	if advice, ok := execAdvice(msg, p, l.container); ok {
		return nil, oneLine(err, "%s", advice)
	}
	return nil, oneLine(err, "exec %s in pod %s/%s failed: %s: run podlab on %s with sudo instead", strings.Join(command, " "), p.Namespace, p.Name, msg, p.Node)
}
