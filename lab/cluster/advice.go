package cluster

import (
	"fmt"
	"strings"

	"podlab/netview"
)

// execAdvice words the exec failures that the API server or the kubelet
// answer before any command runs, which otherwise reach the user as a
// generic "Internal error occurred: ..." with a URL in it. ok is false for
// any other message.
func execAdvice(msg string, p netview.PodFact, container string) (string, bool) {
	switch {
	case strings.Contains(msg, "container not found ("):
		return fmt.Sprintf("pod %s/%s: container %s is not running on %s (the kubelet has no running container of that name): see kubectl describe pod -n %s %s, then run podlab again once it runs",
			p.Namespace, p.Name, container, p.Node, p.Namespace, p.Name), true
	case strings.Contains(msg, "error dialing backend") ||
		(strings.Contains(msg, "error sending request") && strings.Contains(msg, "dial tcp")):
		why := msg
		if i := strings.Index(msg, "dial tcp"); i >= 0 {
			why = msg[i:]
		}
		return fmt.Sprintf("the API server cannot reach the kubelet on %s (%s), so exec cannot run: check the node (kubectl get node %s -o wide) and that its kubelet listens, or run podlab on %s with sudo",
			p.Node, why, p.Node, p.Node), true
	}
	return "", false
}

// sshAdvice says what to do about an ssh failure, from ssh's last line
// of stderr.
func sshAdvice(why, target, node string) string {
	switch {
	case strings.Contains(why, "Host key verification failed"):
		return fmt.Sprintf("%s's host key is not in your known_hosts: run ssh %s once by hand to check and accept it, or run podlab on %s with sudo", target, target, node)
	case strings.Contains(why, "Permission denied"):
		return fmt.Sprintf("%s does not take your key (podlab's ssh cannot ask for a password): install it with ssh-copy-id %s, or run podlab on %s with sudo", target, target, node)
	}
	return fmt.Sprintf("run podlab on %s with sudo instead (or fix ssh: ssh %s must work without a password prompt)", node, target)
}

// SudoersCollectArgs are the arguments of the one sudoers rule podlab
// supports (a regular expression, sudo 1.9.10 and later): exactly
// `collect --pod-ip ADDRESS`, then --bird and --nat if asked, in that
// order, nothing before, between or after. The README shows the whole
// rule.
const SudoersCollectArgs = `^collect --pod-ip [0-9a-fA-F.:]+( --bird)?( --nat)?$`

// collectNoteAdvice turns the reason podlab collect did not run on the
// node into what to do about it, when it is sudo's.
func collectNoteAdvice(note, podlabCmd string) string {
	if strings.HasPrefix(note, "sudo:") || strings.Contains(note, "is not allowed to execute") {
		return fmt.Sprintf("podlab collect needs root there and %s; to let it run, add a sudoers line on the node like \"USER ALL=(root) NOPASSWD: /usr/local/bin/%s %s\" (sudo 1.9.10 or later; see podlab's README)", note, podlabCmd, SudoersCollectArgs)
	}
	return note
}
