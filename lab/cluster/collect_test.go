package cluster

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"podlab/lab/sandbox"
	"podlab/netview"
)

func TestCollectCommandUsage(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no pod ip", nil, 2, "podlab collect: --pod-ip is required (kubectl get pods -o wide shows it)\n"},
		{"bad pod ip", []string{"--pod-ip", "198.19.22"}, 2, "podlab collect: --pod-ip \"198.19.22\" is not an IP address\n"},
		{"extra argument", []string{"--pod-ip", "198.19.22.132", "node1"}, 2, "podlab collect: unexpected argument \"node1\": see podlab collect --help\n"},
		{"unknown flag", []string{"--pod", "x"}, 2, "flag provided but not defined: -pod"},
		{"help", []string{"-h"}, 0, "usage: podlab collect --pod-ip IP [--host-netns NAME|PATH]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := CollectCommand(c.args, &stdout, &stderr)
			if code != c.code || !strings.HasPrefix(stderr.String(), c.want) || stdout.Len() != 0 {
				t.Errorf("exit %d, stderr %q, stdout %q; want exit %d, stderr starting %q", code, stderr.String(), stdout.String(), c.code, c.want)
			}
		})
	}
}

func TestCollectCommand(t *testing.T) {
	st := lessonSandbox(t)
	customer := st.Pod(sandbox.CustomerNamespace, sandbox.CustomerPod)
	t.Run("the customer pod", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code := CollectCommand([]string{"--pod-ip", customer.IP.String(), "--host-netns", st.NodeNS("node1")}, &stdout, &stderr)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		if stderr.Len() != 0 {
			t.Errorf("stderr on success: %q", stderr.String())
		}
		var out collectOutput
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		if out.Schema != netview.Schema || out.Host.NS.Name != st.NodeNS("node1") || out.Pod.NS.Name != customer.NS {
			t.Errorf("schema %q host %q pod %q", out.Schema, out.Host.NS.Name, out.Pod.NS.Name)
		}
	})
	t.Run("no such pod", func(t *testing.T) {
		// An address in node1's block that no pod has.
		var stdout, stderr bytes.Buffer
		code := CollectCommand([]string{"--pod-ip", "198.19.22.150", "--host-netns", st.NodeNS("node1")}, &stdout, &stderr)
		msg := stderr.String()
		if code != 1 || stdout.Len() != 0 || !strings.HasPrefix(msg, "podlab collect: no network namespace on this node has 198.19.22.150") || strings.Count(msg, "\n") != 1 {
			t.Errorf("exit %d, stderr %q", code, msg)
		}
	})
}
