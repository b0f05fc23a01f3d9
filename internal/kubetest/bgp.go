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

// The kinds of Calico's IP pools and BGP the lesson on IP pools and BGP
// peering reads, with the fields of their spec it sets, typed as
// Calico's own CRDs type them.
const (
	KindIPPool           = "IPPool"
	KindBGPPeer          = "BGPPeer"
	KindBGPConfiguration = "BGPConfiguration"
)

var (
	typeString  = map[string]any{"type": "string"}
	typeInt     = map[string]any{"type": "integer"}
	typeBool    = map[string]any{"type": "boolean"}
	typeCIDRs   = map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{"cidr": typeString}}}
	bgpCRDKinds = map[string]struct {
		gvr   schema.GroupVersionResource
		props map[string]any
	}{
		KindIPPool: {calicoResource("ippools"), map[string]any{
			"cidr": typeString, "blockSize": typeInt, "ipipMode": typeString, "vxlanMode": typeString,
			"natOutgoing": typeBool, "disabled": typeBool, "nodeSelector": typeString,
		}},
		KindBGPPeer: {calicoResource("bgppeers"), map[string]any{
			"peerIP": typeString, "asNumber": typeInt, "node": typeString, "nodeSelector": typeString,
		}},
		KindBGPConfiguration: {calicoResource("bgpconfigurations"), map[string]any{
			"asNumber": typeInt, "nodeToNodeMeshEnabled": typeBool,
			"serviceClusterIPs": typeCIDRs, "serviceExternalIPs": typeCIDRs,
		}},
	}
)

func calicoResource(resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "crd.projectcalico.org", Version: "v1", Resource: resource}
}

// bgpCRD is the CRD of kind: calicoCRD's, its spec's fields typed.
func bgpCRD(kind string) (*unstructured.Unstructured, schema.GroupVersionResource) {
	k := bgpCRDKinds[kind]
	crd := calicoCRD(k.gvr, kind)
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	v := versions[0].(map[string]any)
	spec := v["schema"].(map[string]any)["openAPIV3Schema"].(map[string]any)["properties"].(map[string]any)["spec"].(map[string]any)
	spec["properties"] = k.props
	if err := unstructured.SetNestedSlice(crd.Object, versions, "spec", "versions"); err != nil {
		panic(err)
	}
	return crd, k.gvr
}

// InstallCalicoCRD installs the CRD of kind (KindIPPool, KindBGPPeer,
// KindBGPConfiguration) unless it is there, and waits until it is served.
// It stays until RemoveCalicoCRD.
func (s *Server) InstallCalicoCRD(t testing.TB, kind string) {
	t.Helper()
	if _, ok := bgpCRDKinds[kind]; !ok {
		t.Fatalf("kubetest: no Calico CRD of kind %q", kind)
	}
	crd, gvr := bgpCRD(kind)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dyn := s.Dynamic(t)
	if _, err := dyn.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("kubetest: create the %s CRD: %v", kind, err)
	}
	err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, err := dyn.Resource(gvr).List(ctx, metav1.ListOptions{Limit: 1})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		t.Fatalf("kubetest: wait for %s to be served: %v", gvr.Resource, err)
	}
}

// RemoveCalicoCRD deletes the CRD of kind, with its objects, and waits
// until it is no longer served.
func (s *Server) RemoveCalicoCRD(t testing.TB, kind string) {
	t.Helper()
	crd, gvr := bgpCRD(kind)
	s.removeCRD(t, crd.GetName(), gvr)
}

// AddCalicoObject installs kind's CRD if needed and creates the object
// name with spec, as `calicoctl apply` leaves it in the Kubernetes
// datastore; it is deleted when the test ends.
func (s *Server) AddCalicoObject(t testing.TB, kind, name string, spec map[string]any) *unstructured.Unstructured {
	t.Helper()
	s.InstallCalicoCRD(t, kind)
	_, gvr := bgpCRD(kind)
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": gvr.GroupVersion().String(),
		"kind":       kind,
		"metadata":   map[string]any{"name": name},
		"spec":       spec,
	}}
	res := s.Dynamic(t).Resource(gvr)
	created, err := res.Create(opContext(t), obj, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("kubetest: create %s %s: %v", kind, name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if err := res.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("kubetest: delete %s %s: %v", kind, name, err)
		}
	})
	return created
}

// CalicoResource is the resource of kind, as RBAC names it
// ("ippools.crd.projectcalico.org").
func CalicoResource(kind string) string {
	k, ok := bgpCRDKinds[kind]
	if !ok {
		panic(fmt.Sprintf("kubetest: no Calico CRD of kind %q", kind))
	}
	return k.gvr.Resource + "." + k.gvr.Group
}
