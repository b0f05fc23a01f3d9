package kubetest

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
)

// blockAffinityGVR is the resource of Calico's IPAM block affinities, as
// Calico's Kubernetes datastore stores them.
var blockAffinityGVR = schema.GroupVersionResource{Group: "crd.projectcalico.org", Version: "v1", Resource: "blockaffinities"}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// calicoCRD describes one of Calico's kinds the way Calico installs it:
// cluster-scoped, in crd.projectcalico.org, its spec kept as written
// (Calico versions add fields; a test's fields are not pruned) with the
// string fields named.
func calicoCRD(gvr schema.GroupVersionResource, kind string, specStrings ...string) *unstructured.Unstructured {
	str := map[string]any{"type": "string"}
	spec := map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}
	if len(specStrings) > 0 {
		props := map[string]any{}
		for _, f := range specStrings {
			props[f] = str
		}
		spec["properties"] = props
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": gvr.Resource + "." + gvr.Group},
		"spec": map[string]any{
			"group": gvr.Group,
			"scope": "Cluster",
			"names": map[string]any{
				"kind":     kind,
				"listKind": kind + "List",
				"plural":   gvr.Resource,
				"singular": strings.ToLower(kind),
			},
			"versions": []any{map[string]any{
				"name":    gvr.Version,
				"served":  true,
				"storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object",
					"properties": map[string]any{
						"apiVersion": str,
						"kind":       str,
						"metadata":   map[string]any{"type": "object"},
						"spec":       spec,
					},
				}},
			}},
		},
	}}
}

// blockAffinityCRD describes BlockAffinity, with string fields state,
// node, cidr and deleted.
func blockAffinityCRD() *unstructured.Unstructured {
	return calicoCRD(blockAffinityGVR, "BlockAffinity", "state", "node", "cidr", "deleted")
}

// InstallBlockAffinityCRD installs Calico's BlockAffinity CRD unless it
// is installed and waits until its resource is served. It stays installed
// until RemoveBlockAffinityCRD.
func (s *Server) InstallBlockAffinityCRD(t testing.TB) {
	t.Helper()
	s.crdMu.Lock()
	defer s.crdMu.Unlock()
	if s.crdServed {
		return
	}
	if err := s.installBlockAffinityCRD(); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	s.crdServed = true
}

// RemoveBlockAffinityCRD deletes the BlockAffinity CRD, with every
// affinity, and waits until the resource is no longer served: a test of a
// cluster without Calico then does not depend on which tests ran before.
func (s *Server) RemoveBlockAffinityCRD(t testing.TB) {
	t.Helper()
	s.crdMu.Lock()
	defer s.crdMu.Unlock()
	if s.removeCRD(t, blockAffinityCRD().GetName(), blockAffinityGVR) {
		s.crdServed = false
	}
}

func (s *Server) installBlockAffinityCRD() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dyn, err := dynamic.NewForConfig(s.Config)
	if err != nil {
		return fmt.Errorf("admin dynamic client: %w", err)
	}
	_, err = dyn.Resource(crdGVR).Create(ctx, blockAffinityCRD(), metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create the BlockAffinity CRD: %w", err)
	}
	// Established comes first; the resource's handler may still answer
	// 404 for a moment after, so wait for a list to succeed.
	err = wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, err := dyn.Resource(blockAffinityGVR).List(ctx, metav1.ListOptions{Limit: 1})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("wait for blockaffinities to be served: %w", err)
	}
	return nil
}

// BlockAffinityName is the object name Calico gives the affinity of block
// cidr to node: the node name, a dash, and the CIDR with '.', ':' and '/'
// turned into dashes (node1-198-19-22-128-26).
func BlockAffinityName(node, cidr string) string {
	return node + "-" + strings.NewReplacer(".", "-", ":", "-", "/", "-").Replace(cidr)
}

// AddBlockAffinity installs the CRD if needed and creates the affinity of
// block cidr to node in state ("confirmed", "pending", …), named as Calico
// names it; it is deleted when the test ends.
func (s *Server) AddBlockAffinity(t testing.TB, node, cidr, state string) *unstructured.Unstructured {
	t.Helper()
	if _, err := netip.ParsePrefix(cidr); err != nil {
		t.Fatalf("kubetest: block affinity for %s: bad CIDR: %v", node, err)
	}
	s.InstallBlockAffinityCRD(t)
	name := BlockAffinityName(node, cidr)
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": blockAffinityGVR.GroupVersion().String(),
		"kind":       "BlockAffinity",
		"metadata":   map[string]any{"name": name},
		"spec": map[string]any{
			"state":   state,
			"node":    node,
			"cidr":    cidr,
			"deleted": "false",
		},
	}}
	res := s.Dynamic(t).Resource(blockAffinityGVR)
	created, err := res.Create(opContext(t), obj, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("kubetest: create block affinity %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if err := res.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("kubetest: delete block affinity %s: %v", name, err)
		}
	})
	return created
}
