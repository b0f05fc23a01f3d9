package sandbox

import (
	"bytes"
	"context"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"podlab/lab"
)

func TestIsReplacement(t *testing.T) {
	tests := []struct {
		ns, name string
		want     bool
	}{
		{"yaobank", "customer-574bd6cc75-2blnv", true}, // the lesson's own is shaped the same
		{"yaobank", "customer-574bd6cc75-xk7qz", true},
		{"calico-system", "csi-node-driver-b2b2b", true},
		{"yaobank", "customer-574bd6cc75-aaaaa", false}, // vowels are never generated
		{"yaobank", "customer-574bd6cc75-xk7q", false},
		{"yaobank", "customer-574bd6cc75-xk7qzz", false},
		{"kube-system", "customer-574bd6cc75-xk7qz", false}, // not its namespace
		{"yaobank", "intruder-xk7qz", false},
		{"yaobank", "customer-574bd6cc75-xk7qz/../x", false},
		{"yaobank", "-xk7qz", false},
	}
	for _, tt := range tests {
		t.Run(tt.ns+"/"+tt.name, func(t *testing.T) {
			if got := isReplacement(tt.ns, tt.name); got != tt.want {
				t.Errorf("isReplacement = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDeletePodCommandReplaces: `podlab sandbox delete-pod` takes the pod
// away as the CNI DEL does, the kernel then answers its address with the
// blackhole, and a replacement with a new name and a new address from
// the same block comes up, wired and recorded; Down removes it too.
// --no-replace leaves a pod gone.
func TestDeletePodCommandReplaces(t *testing.T) {
	requireSandbox(t, true)
	defer func(d time.Duration) { ReplaceDelay = d }(ReplaceDelay)
	ReplaceDelay = 100 * time.Millisecond
	o := testOptions(t, "bgp")
	before := up(t, o).State
	const ns, name = "yaobank", "summary-85c56b76d7-28hm5"
	gone := *before.Pod(ns, name)
	node1 := before.NodeNS("node1")

	var out bytes.Buffer
	if err := DeletePodCommand(context.Background(), o, ns+"/"+name, true, &out); err != nil {
		t.Fatalf("delete-pod: %v", err)
	}
	for _, want := range []string{"deleted pod " + ns + "/" + name, "ip route get 198.19.22.130 on node1: blackhole", "replacement yaobank/summary-85c56b76d7-"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out.String())
		}
	}
	st, err := Status(o)
	if err != nil || len(st.Problems) > 0 {
		t.Fatalf("status after the replacement: %v %v", err, st.Problems)
	}
	if st.Pod(ns, name) != nil || nsExists(gone.NS) {
		t.Error("the deleted pod is still there")
	}
	var np *PodInfo
	for i, p := range st.Pods {
		if p.Namespace == ns && strings.HasPrefix(p.Name, "summary-85c56b76d7-") && p.Node == "node1" {
			np = &st.Pods[i]
		}
	}
	if np == nil {
		t.Fatalf("no replacement among %+v", st.Pods)
	}
	node, _ := st.Node("node1")
	if np.IP == gone.IP || !node.Block.Contains(np.IP) || np.Name == name {
		t.Errorf("replacement %s at %s: want a new name and a new address in %s", np.Name, np.IP, node.Block)
	}
	h := nsHandleT(t, node1)
	if _, ok := findRoute(t, h, gone.IP.String()+"/32", unix.RTPROT_BOOT); ok {
		t.Error("the deleted pod's /32 is still there")
	}
	r, ok := findRoute(t, h, np.IP.String()+"/32", unix.RTPROT_BOOT)
	if !ok {
		t.Fatal("no /32 to the replacement")
	}
	if l, err := h.LinkByIndex(r.LinkIndex); err != nil || l.Attrs().Name != np.HostIf {
		t.Errorf("the replacement's /32 goes to %v (%v), not %s", l, err, np.HostIf)
	}
	if kr, err := lab.RouteGet(context.Background(), lab.NSRef{Name: node1}, gone.IP); err != nil || kr.Type != "blackhole" {
		t.Errorf("the old address: %+v, %v; want the blackhole", kr, err)
	}
	// The replacement is a pod the lab can show.
	l, err := Open(context.Background(), o, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Choose(np.Namespace, "", np.Name); err != nil {
		t.Fatal(err)
	}
	p, err := l.Collect(context.Background())
	if err != nil || p.Facts.Pod.IP != np.IP {
		t.Fatalf("collect the replacement: %v", err)
	}

	out.Reset()
	if err := DeletePodCommand(context.Background(), o, ns+"/"+np.Name, false, &out); err != nil {
		t.Fatalf("delete-pod --no-replace: %v", err)
	}
	after, err := Status(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Pods) != len(before.Pods)-1 || strings.Contains(out.String(), "replacement") {
		t.Errorf("--no-replace: %d pods, want %d; %s", len(after.Pods), len(before.Pods)-1, out.String())
	}

	// The customer pod itself: a lab showing it follows its replacement.
	lc, err := Open(context.Background(), o, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := DeletePodCommand(context.Background(), o, "yaobank/"+CustomerPod, true, &out); err != nil {
		t.Fatalf("delete-pod of the customer: %v", err)
	}
	p, err = lc.Collect(context.Background())
	switch {
	case err != nil:
		t.Fatalf("collect after the customer was replaced: %v", err)
	case p.Facts.Pod.Name == CustomerPod || !strings.HasPrefix(p.Facts.Pod.Name, "customer-574bd6cc75-") || p.Facts.Pod.IP == netip.MustParseAddr("198.19.22.132"):
		t.Errorf("the lab shows %s at %s, want the replacement", p.Facts.Pod.Name, p.Facts.Pod.IP)
	case !strings.Contains(lc.Describe(), p.Facts.Pod.Name):
		t.Errorf("Describe = %q, want the replacement's name", lc.Describe())
	}
	// Down must take the replacements with the rest.
	last, err := Status(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := Down(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	assertGone(t, o, last)
}

func TestDeletePodCommandErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		pod    string
		prefix string
		want   string
	}{
		{"nopod", "", `name the pod as NAMESPACE/NAME, not "nopod"`},
		{"a/b", "ptnone", "not up"},
	}
	for _, tt := range tests {
		t.Run(tt.pod, func(t *testing.T) {
			err := DeletePodCommand(context.Background(), Options{Prefix: tt.prefix, StateDir: dir}, tt.pod, true, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v; want one line with %q", err, tt.want)
			}
		})
	}
}

// TestChoose: the pod a lab shows is found as kubectl finds it, by label
// in a namespace unless a name is given; so after the customer pod was
// replaced, a new lab shows the replacement.
func TestChoose(t *testing.T) {
	o := fuzzOptions
	fresh := fullState(o)
	replaced := fullState(o)
	forgetPod(replaced, replaced.PodNS(CustomerNamespace, CustomerPod))
	addReplacement(replaced, o, "customer-574bd6cc75-nd98n")
	tests := []struct {
		name              string
		st                *State
		ns, selector, pod string
		want, wantErr     string
	}{
		{"the customer by label", fresh, CustomerNamespace, CustomerSelector, "", CustomerPod, ""},
		{"its replacement by label", replaced, CustomerNamespace, CustomerSelector, "", "customer-574bd6cc75-nd98n", ""},
		{"two match: the first by name", fresh, "yaobank", "app=summary,version=v1", "", "summary-85c56b76d7-28hm5", ""},
		{"another namespace's labels", fresh, "kube-system", "k8s-app=kube-dns", "", "coredns-787d4945fb-7vmtx", ""},
		{"by name", replaced, "yaobank", CustomerSelector, "database-6c5db58d95-mzp4n", "database-6c5db58d95-mzp4n", ""},
		{"a name that is gone", replaced, CustomerNamespace, CustomerSelector, CustomerPod, "", "has no pod yaobank/customer-574bd6cc75-2blnv"},
		{"nothing matches", fresh, "default", CustomerSelector, "", "", "no pod matching -l app=customer in namespace default"},
		{"not a selector", fresh, "yaobank", "app==(", "", "", "is not a label selector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.st.choose(tt.ns, tt.selector, tt.pod)
			if got != tt.want || (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("choose = %q, %v; want %q, %q", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
