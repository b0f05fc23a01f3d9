package cluster

import (
	"strings"
	"testing"

	"podlab/netview"
)

func TestExecAdvice(t *testing.T) {
	p := netview.PodFact{Namespace: "yaobank", Name: "customer-1", Node: "node1"}
	tests := []struct {
		name, msg string
		ok        bool
		want      []string
	}{
		{"container stopped", `Internal error occurred: unable to upgrade connection: container not found ("main")`, true,
			[]string{"pod yaobank/customer-1: container main is not running on node1", "kubectl describe pod -n yaobank customer-1"}},
		{"kubelet refused", `Internal error occurred: error sending request: Post "https://198.19.0.2:10250/exec/x": dial tcp 198.19.0.2:10250: connect: connection refused`, true,
			[]string{"cannot reach the kubelet on node1 (dial tcp 198.19.0.2:10250: connect: connection refused)", "run podlab on node1 with sudo"}},
		{"backend", `error dialing backend: dial tcp 10.0.0.5:10250: i/o timeout`, true,
			[]string{"cannot reach the kubelet on node1 (dial tcp 10.0.0.5:10250: i/o timeout)"}},
		{"other", `command terminated with non-zero exit code: exit status 2`, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := execAdvice(tt.msg, p, "main")
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v (%q)", ok, tt.ok, got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q does not say %q", got, w)
				}
			}
			if strings.Contains(got, "https://") {
				t.Errorf("%q carries the kubelet URL", got)
			}
		})
	}
}

func TestSSHAdvice(t *testing.T) {
	tests := []struct{ why, want string }{
		{"Host key verification failed.", "run ssh node1 once by hand"},
		{"student@198.19.0.2: Permission denied (publickey).", "ssh-copy-id node1"},
		{"ssh: connect to host 198.19.0.2 port 22: Connection refused", "run podlab on node1 with sudo instead (or fix ssh"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := sshAdvice(tt.why, "node1", "node1"); !strings.Contains(got, tt.want) {
				t.Errorf("sshAdvice(%q) = %q, want it to say %q", tt.why, got, tt.want)
			}
		})
	}
}

func TestCollectNoteAdvice(t *testing.T) {
	tests := []struct{ note, want string }{
		{"sudo: a password is required", "NOPASSWD: /usr/local/bin/podlab ^collect --pod-ip [0-9a-fA-F.:]+( --bird)?( --nat)?$"},
		{"Sorry, user s is not allowed to execute '/usr/bin/podlab collect' as root on node1.", "NOPASSWD"},
		{"no network namespace on this node has 198.19.22.150", "no network namespace on this node has 198.19.22.150"},
	}
	for _, tt := range tests {
		t.Run(tt.note, func(t *testing.T) {
			if got := collectNoteAdvice(tt.note, "podlab"); !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want it to say %q", got, tt.want)
			}
		})
	}
}
