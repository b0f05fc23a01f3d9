package host1_test

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/remotecommand"

	"podlab/internal/host1"
	"podlab/lab/sandbox"
)

// TestKubeletExec: exec from a SPDY client and from a WebSocket client
// reaches the stand-in through the API server (which speaks SPDY to
// kubelets), and the command runs in the pod's namespace as no root, with
// its exit status carried back.
func TestKubeletExec(t *testing.T) {
	l := classroom(t)
	cfg, err := clientcmd.BuildConfigFromFlags("", l.Kubeconfig(t, l.User.Name, host1.StudentRules...))
	if err != nil {
		t.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	cust := l.State.Pod(sandbox.CustomerNamespace, sandbox.CustomerPod)
	execURL := func(cmd ...string) *remotecommandURL {
		req := client.CoreV1().RESTClient().Post().Resource("pods").Namespace(cust.Namespace).Name(cust.Name).SubResource("exec").
			VersionedParams(&corev1.PodExecOptions{Container: "main", Command: cmd, Stdout: true, Stderr: true}, scheme.ParameterCodec)
		return &remotecommandURL{req.URL().String(), req.URL()}
	}
	executors := map[string]func(u *remotecommandURL) (remotecommand.Executor, error){
		"spdy": func(u *remotecommandURL) (remotecommand.Executor, error) {
			return remotecommand.NewSPDYExecutor(cfg, "POST", u.u)
		},
		"websocket": func(u *remotecommandURL) (remotecommand.Executor, error) {
			return remotecommand.NewWebSocketExecutor(cfg, "GET", u.s)
		},
	}
	for name, newExec := range executors {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			run := func(cmd ...string) (string, error) {
				ex, err := newExec(execURL(cmd...))
				if err != nil {
					t.Fatal(err)
				}
				var out, errOut bytes.Buffer
				err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &out, Stderr: &errOut})
				return out.String() + errOut.String(), err
			}
			out, err := run("ip", "-o", "-4", "addr", "show", "eth0")
			if err != nil || !strings.Contains(out, cust.IP.String()+"/32") {
				t.Errorf("ip addr in the pod: %v: %q, want %s", err, out, cust.IP)
			}
			out, err = run("id", "-u")
			if err != nil || strings.TrimSpace(out) != "65534" {
				t.Errorf("id -u: %v: %q, want 65534", err, out)
			}
			_, err = run("sh", "-c", "exit 3")
			if ce, ok := err.(interface{ ExitStatus() int }); !ok || ce.ExitStatus() != 3 {
				t.Errorf("exit 3 came back as %v", err)
			}
		})
	}
	if up := l.Kubelets["node1"].Upgrades(); up["SPDY/3.1"] == 0 {
		t.Errorf("no SPDY exec reached the kubelet: %v", up)
	} else {
		t.Logf("protocols the kubelet was asked for: %v", up)
	}
}

type remotecommandURL struct {
	s string
	u *url.URL
}
