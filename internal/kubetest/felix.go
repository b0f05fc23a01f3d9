package kubetest

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
)

// felixConfigurationGVR is Felix's configuration, as Calico's Kubernetes
// datastore stores it.
var felixConfigurationGVR = schema.GroupVersionResource{Group: "crd.projectcalico.org", Version: "v1", Resource: "felixconfigurations"}

func felixConfigurationCRD() *unstructured.Unstructured {
	return calicoCRD(felixConfigurationGVR, "FelixConfiguration")
}

// SetFelixConfiguration installs the FelixConfiguration CRD and writes
// the object named default with spec, as `calicoctl patch
// felixconfiguration default` leaves it. The CRD, and so the object, is
// removed when the test ends.
func (s *Server) SetFelixConfiguration(t testing.TB, spec map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dyn := s.Dynamic(t)
	crd := felixConfigurationCRD()
	if _, err := dyn.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("kubetest: create the FelixConfiguration CRD: %v", err)
	}
	t.Cleanup(func() { s.removeCRD(t, crd.GetName(), felixConfigurationGVR) })
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": felixConfigurationGVR.GroupVersion().String(),
		"kind":       "FelixConfiguration",
		"metadata":   map[string]any{"name": "default"},
		"spec":       spec,
	}}
	// The resource may answer 404 for a moment after the CRD is made.
	err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, err := dyn.Resource(felixConfigurationGVR).Create(ctx, obj, metav1.CreateOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		t.Fatalf("kubetest: create FelixConfiguration default: %v", err)
	}
}

// removeCRD deletes a CRD, with its objects, and waits until its
// resource is no longer served: a test of a cluster without Calico then
// does not depend on which tests ran before. It says whether it is gone.
func (s *Server) removeCRD(t testing.TB, name string, gvr schema.GroupVersionResource) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dyn := s.Dynamic(t)
	if err := dyn.Resource(crdGVR).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("kubetest: delete CRD %s: %v", name, err)
		return false
	}
	err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, err := dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			return false, nil
		}
		_, err = dyn.Resource(gvr).List(ctx, metav1.ListOptions{Limit: 1})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Errorf("kubetest: wait for CRD %s to go: %v", name, err)
		return false
	}
	return true
}
