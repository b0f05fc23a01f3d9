package kubetest

import (
	"context"
	"net/netip"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// opTimeout bounds each helper's API calls, so a wedged server fails the
// test instead of hanging it.
const opTimeout = 30 * time.Second

func opContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	t.Cleanup(cancel)
	return ctx
}

// EnsureNamespace creates namespace ns and its "default" ServiceAccount
// unless they exist. Namespaces are left in place for later tests: with no
// kube-controller-manager to finalize it, a deleted namespace would stay
// Terminating and its name could not be used again.
func (s *Server) EnsureNamespace(t testing.TB, ns string) {
	t.Helper()
	ctx := opContext(t)
	c := s.Client(t)
	_, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("kubetest: create namespace %s: %v", ns, err)
	}
	// The ServiceAccount admission plugin refuses pods in a namespace
	// without it; normally the controller-manager creates it.
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns}}
	_, err = c.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("kubetest: create service account %s/default: %v", ns, err)
	}
}

// AddNode creates a Ready node with internalIP as its InternalIP address
// and removes it when the test ends.
func (s *Server) AddNode(t testing.TB, name, internalIP string) *corev1.Node {
	t.Helper()
	if _, err := netip.ParseAddr(internalIP); err != nil {
		t.Fatalf("kubetest: node %s: bad InternalIP: %v", name, err)
	}
	ctx := opContext(t)
	nodes := s.Client(t).CoreV1().Nodes()
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:   name,
			Labels: map[string]string{corev1.LabelHostname: name, corev1.LabelOSStable: "linux"},
		},
	}
	created, err := nodes.Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("kubetest: create node %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if err := nodes.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("kubetest: delete node %s: %v", name, err)
		}
	})

	// Status is written apart from the object, as a kubelet does.
	now := metav1.Now()
	created.Status.Addresses = []corev1.NodeAddress{
		{Type: corev1.NodeInternalIP, Address: internalIP},
		{Type: corev1.NodeHostName, Address: name},
	}
	created.Status.Conditions = []corev1.NodeCondition{{
		Type: corev1.NodeReady, Status: corev1.ConditionTrue,
		Reason: "KubeletReady", Message: "podlab test node",
		LastHeartbeatTime: now, LastTransitionTime: now,
	}}
	updated, err := nodes.UpdateStatus(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("kubetest: write status of node %s: %v", name, err)
	}
	return updated
}

// AddPod creates a pod bound to node (spec.nodeName set at creation, as no
// scheduler runs) in namespace ns, then writes the status a kubelet would:
// phase, podIP/podIPs (when ip is not empty), and hostIP/hostIPs from the
// node's InternalIP (when the node exists). The namespace is ensured, and
// the pod is deleted with grace period 0 when the test ends.
func (s *Server) AddPod(t testing.TB, ns, name, node, ip string, labels map[string]string, phase corev1.PodPhase) *corev1.Pod {
	t.Helper()
	if ip != "" {
		if _, err := netip.ParseAddr(ip); err != nil {
			t.Fatalf("kubetest: pod %s/%s: bad IP: %v", ns, name, err)
		}
	}
	s.EnsureNamespace(t, ns)
	ctx := opContext(t)
	c := s.Client(t)
	pods := c.CoreV1().Pods(ns)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: corev1.PodSpec{
			NodeName: node,
			// Never pulled or run: there is no kubelet.
			Containers: []corev1.Container{{Name: "main", Image: "registry.k8s.io/pause:3.10"}},
		},
	}
	created, err := pods.Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("kubetest: create pod %s/%s: %v", ns, name, err)
	}
	t.Cleanup(func() { s.deletePod(t, ns, name) })

	st := &created.Status
	st.Phase = phase
	if ip != "" {
		st.PodIP = ip
		st.PodIPs = []corev1.PodIP{{IP: ip}}
	}
	if n, err := c.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{}); err == nil {
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				st.HostIP = a.Address
				st.HostIPs = []corev1.HostIP{{IP: a.Address}}
				break
			}
		}
	}
	now := metav1.Now()
	st.StartTime = &now
	if phase == corev1.PodRunning {
		st.Conditions = []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
		}
		st.ContainerStatuses = []corev1.ContainerStatus{{
			Name: "main", Image: "registry.k8s.io/pause:3.10", Ready: true,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		}}
	}
	updated, err := pods.UpdateStatus(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("kubetest: write status of pod %s/%s: %v", ns, name, err)
	}
	return updated
}

// DeletePod deletes a pod at once (grace period 0): with no kubelet to
// confirm a graceful stop, a pod deleted otherwise would linger.
func (s *Server) DeletePod(t testing.TB, ns, name string) {
	t.Helper()
	s.deletePod(t, ns, name)
}

func (s *Server) deletePod(t testing.TB, ns, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	grace := int64(0)
	err := s.Client(t).CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &grace})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("kubetest: delete pod %s/%s: %v", ns, name, err)
	}
}

// Allow grants user the rules in namespace ns through a Role and
// RoleBinding, or cluster-wide through a ClusterRole and
// ClusterRoleBinding when ns is "", removed when the test ends. It returns
// once the authorizer answers yes for the first rule's first verb and
// resource, as RBAC changes reach the authorizer through a watch.
func (s *Server) Allow(t testing.TB, ns, user string, rules ...rbacv1.PolicyRule) {
	t.Helper()
	if len(rules) == 0 || len(rules[0].Verbs) == 0 || len(rules[0].Resources) == 0 {
		t.Fatalf("kubetest: Allow %q: need at least one rule with a verb and a resource", user)
	}
	ctx := opContext(t)
	c := s.Client(t)
	rbac := c.RbacV1()
	name := "podlab-test:" + fileSafe.ReplaceAllString(user, "_")
	meta := metav1.ObjectMeta{Name: name, Namespace: ns}
	subjects := []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}}
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name}
	if ns == "" {
		ref.Kind = "ClusterRole"
		createUntilCleanup(t, rbac.ClusterRoles(), "cluster role", &rbacv1.ClusterRole{ObjectMeta: meta, Rules: rules})
		createUntilCleanup(t, rbac.ClusterRoleBindings(), "cluster role binding", &rbacv1.ClusterRoleBinding{ObjectMeta: meta, RoleRef: ref, Subjects: subjects})
	} else {
		createUntilCleanup(t, rbac.Roles(ns), "role", &rbacv1.Role{ObjectMeta: meta, Rules: rules})
		createUntilCleanup(t, rbac.RoleBindings(ns), "role binding", &rbacv1.RoleBinding{ObjectMeta: meta, RoleRef: ref, Subjects: subjects})
	}

	r := rules[0]
	group := ""
	if len(r.APIGroups) > 0 {
		group = r.APIGroups[0]
	}
	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user,
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: ns, Verb: r.Verbs[0], Group: group, Resource: r.Resources[0],
		},
	}}
	err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		got, err := c.AuthorizationV1().SubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			return false, err
		}
		return got.Status.Allowed, nil
	})
	if err != nil {
		t.Fatalf("kubetest: wait for RBAC to allow %q to %s %s: %v", user, r.Verbs[0], r.Resources[0], err)
	}
}

// createUntilCleanup creates obj through c and deletes it when the test
// ends.
func createUntilCleanup[T metav1.Object](t testing.TB, c interface {
	Create(context.Context, T, metav1.CreateOptions) (T, error)
	Delete(context.Context, string, metav1.DeleteOptions) error
}, what string, obj T) {
	t.Helper()
	name := obj.GetName()
	if _, err := c.Create(opContext(t), obj, metav1.CreateOptions{}); err != nil {
		t.Fatalf("kubetest: create %s %s: %v", what, name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if err := c.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("kubetest: delete %s %s: %v", what, name, err)
		}
	})
}
