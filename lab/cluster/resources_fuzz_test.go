package cluster

import (
	"bytes"
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"podlab/internal/hostile"
	"podlab/netview"
)

// FuzzResourceObject: whatever object the API server hands back for a
// pool, a peer, a BGP configuration, a Service or an EndpointSlice,
// podlab reads it without failing the list, clean, its numbers in range,
// and encodes it stably.
func FuzzResourceObject(f *testing.F) {
	for _, s := range []string{
		`{"apiVersion":"crd.projectcalico.org/v1","kind":"IPPool","metadata":{"name":"external-pool"},"spec":{"cidr":"198.19.24.0/21","blockSize":29,"ipipMode":"Never","vxlanMode":"Never","natOutgoing":true,"nodeSelector":"!all()"}}`,
		`{"apiVersion":"crd.projectcalico.org/v1","kind":"BGPPeer","metadata":{"name":"host1"},"spec":{"peerIP":"[fd00::1%eth0]:179","asNumber":"1.10","node":"node1"}}`,
		`{"apiVersion":"crd.projectcalico.org/v1","kind":"BGPConfiguration","metadata":{"name":"default"},"spec":{"asNumber":1e300,"nodeToNodeMeshEnabled":"no","serviceClusterIPs":[{"cidr":"198.19.32.1/20"},7,{"cidr":{}}]}}`,
		`{"apiVersion":"crd.projectcalico.org/v1","kind":"IPPool","metadata":{"name":"x"},"spec":{"cidr":7,"blockSize":-5,"nodeSelector":"\u001b]52;c;eA==\u0007all()"}}`,
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"customer","namespace":"yaobank"},"spec":{"type":"NodePort","clusterIPs":["10.96.0.50","fe80::1%\u001b[2J"],"externalIPs":["198.19.48.10"],"externalTrafficPolicy":"Local","ports":[{"port":80,"targetPort":"http\u009b"}]}}`,
		`{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"s","namespace":"yaobank","labels":{"kubernetes.io/service-name":"customer"}},"addressType":"IPv4","endpoints":[{"addresses":["198.19.22.132"],"nodeName":"node1","targetRef":{"kind":"Pod","name":"customer-1"}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			return
		}
		var r netview.Resources
		r.Pools = append(r.Pools, poolOf(u))
		r.Peers = append(r.Peers, peerOf(u))
		r.BGPConfigs = append(r.BGPConfigs, bgpConfigOf(u))
		var svc corev1.Service
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &svc); err == nil {
			r.Services = append(r.Services, serviceOf(&svc))
		}
		var slice discoveryv1.EndpointSlice
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &slice); err == nil {
			r.EndpointSlices = append(r.EndpointSlices, sliceOf(&slice))
		}
		r.Sanitize()
		if dirty := hostile.Unclean(&r); len(dirty) > 0 {
			t.Fatalf("control characters in %v", dirty)
		}
		if p := r.Pools[0]; p.BlockSize < 0 || p.BlockSize > 128 || p.CIDR.IsValid() && p.CIDR != p.CIDR.Masked() {
			t.Fatalf("pool %+v", p)
		}
		one, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back netview.Resources
		if err := json.Unmarshal(one, &back); err != nil {
			t.Fatal(err)
		}
		two, _ := json.Marshal(back)
		if !bytes.Equal(one, two) {
			t.Fatalf("JSON changes on a round trip:\n%s\n%s", one, two)
		}
	})
}
