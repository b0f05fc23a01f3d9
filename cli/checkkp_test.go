package cli

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"podlab/internal/kubetest"
	"podlab/internal/netnstest"
	"podlab/lab/sandbox"
)

// TestCheckKubeProxyPack: on sandbox up --pack kube-proxy (the real
// kube-apiserver and a kube-proxy per node), podlab check --pack
// kube-proxy passes every step; scaling summary to three pods, show
// --pack kube-proxy soon shows the third KUBE-SEP chain with the
// probabilities 0.333…, 0.5 and none, and every step still passes.
func TestCheckKubeProxyPack(t *testing.T) {
	netnstest.RequireRoot(t)
	netnstest.RequireCommand(t, "bird", "apt-get install bird2")
	bin := kubetest.RequireBinaries(t, "etcd", "kube-apiserver", "kube-proxy")
	t.Setenv(sandbox.EnvKubeBin, bin)
	o := sandbox.Options{Prefix: netnstest.Name("pq"), StateDir: t.TempDir()}
	t.Cleanup(func() {
		if err := sandbox.Down(context.Background(), o); err != nil {
			t.Errorf("cleanup Down: %v", err)
		}
	})
	lab := []string{"--lab", "sandbox", "--sandbox-prefix", o.Prefix, "--sandbox-state-dir", o.StateDir}
	if code, out, stderr := podlab(t, append([]string{"sandbox", "up", "--pack", "kube-proxy"}, lab[2:]...)...); code != 0 {
		t.Fatalf("sandbox up --pack kube-proxy (PODLAB_KUBE_BIN=%s): exit %d:\n%s%s", os.Getenv(sandbox.EnvKubeBin), code, out, stderr)
	}
	check := append([]string{"check", "--pack", "kube-proxy"}, lab...)
	if code, out, stderr := podlab(t, check...); code != 0 || !strings.Contains(out, "9 of 9 steps pass") {
		t.Fatalf("check --pack kube-proxy on its end state: exit %d:\n%s%s", code, out, stderr)
	}
	if code, out, stderr := podlab(t, append([]string{"sandbox", "scale", "summary", "3"}, lab[2:]...)...); code != 0 {
		t.Fatalf("sandbox scale summary 3: exit %d:\n%s%s", code, out, stderr)
	}
	show := append([]string{"show", "--pack", "kube-proxy", "--plain"}, lab...)
	var out string
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		_, out, _ = podlab(t, show...)
		if strings.Contains(out, "computed KUBE-SVC-OIQIZJVJK6E34BR4: found, 3 endpoints") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("scaled to 3, show never shows summary's third endpoint:\n%s", out)
		}
	}
	_, svc, _ := strings.Cut(out, "Chain KUBE-SVC-OIQIZJVJK6E34BR4 ")
	svc, _, _ = strings.Cut(svc, "\n\n")
	if strings.Count(svc, "KUBE-SEP-") != 3 || !strings.Contains(svc, "probability 0.33333333349") || !strings.Contains(svc, "probability 0.50000000000") {
		t.Errorf("summary's chain after scaling to 3:\n%s", svc)
	}
	if code, out, stderr := podlab(t, check...); code != 0 || !strings.Contains(out, "9 of 9 steps pass") {
		t.Errorf("check --pack kube-proxy with 3 summary pods: exit %d:\n%s%s", code, out, stderr)
	}
}
