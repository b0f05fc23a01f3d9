package kubetest

import (
	"context"
	"fmt"
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

// felixConfigurationCRD describes FelixConfiguration the way Calico
// installs it: cluster-scoped, its spec kept as written.
func felixConfigurationCRD() *unstructured.Unstructured {
	str := map[string]any{"type": "string"}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": "felixconfigurations.crd.projectcalico.org"},
		"spec": map[string]any{
			"group": felixConfigurationGVR.Group,
			"scope": "Cluster",
			"names": map[string]any{
				"kind":     "FelixConfiguration",
				"listKind": "FelixConfigurationList",
				"plural":   "felixconfigurations",
				"singular": "felixconfiguration",
			},
			"versions": []any{map[string]any{
				"name":    felixConfigurationGVR.Version,
				"served":  true,
				"storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object",
					"properties": map[string]any{
						"apiVersion": str,
						"kind":       str,
						"metadata":   map[string]any{"type": "object"},
						"spec":       map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true},
					},
				}},
			}},
		},
	}}
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

// removeCRD deletes a CRD and waits until its resource is no longer
// served.
func (s *Server) removeCRD(t testing.TB, name string, gvr schema.GroupVersionResource) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dyn := s.Dynamic(t)
	if err := dyn.Resource(crdGVR).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("kubetest: delete CRD %s: %v", name, err)
		return
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
		t.Errorf("kubetest: %v", fmt.Errorf("wait for CRD %s to go: %w", name, err))
	}
}
