package cluster

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

// TestExecURL: the exec URL is the one client-go's clientset makes, with
// the command repeated in order.
func TestExecURL(t *testing.T) {
	config := &rest.Config{Host: "https://198.19.0.1:6443"}
	c, err := newCoreClient(config)
	if err != nil {
		t.Fatal(err)
	}
	opts := &corev1.PodExecOptions{Container: "customer", Command: []string{"ip", "-j", "addr"}, Stdout: true, Stderr: true}
	got := c.execURL("yaobank", customer, opts).String()
	want := "https://198.19.0.1:6443/api/v1/namespaces/yaobank/pods/" + customer +
		"/exec?command=ip&command=-j&command=addr&container=customer&stderr=true&stdout=true"
	if got != want {
		t.Errorf("exec URL\n  %s\nwant\n  %s", got, want)
	}
	cs, err := kubernetes.NewForConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	old := cs.CoreV1().RESTClient().Post().
		Resource("pods").Namespace("yaobank").Name(customer).SubResource("exec").
		VersionedParams(opts, scheme.ParameterCodec).URL().String()
	if got != old {
		t.Errorf("exec URL\n  %s\nclientset's\n  %s", got, old)
	}
}

// TestListParams: list and get options reach the query as they do
// through the clientset.
func TestListParams(t *testing.T) {
	c, err := newCoreClient(&rest.Config{Host: "https://198.19.0.1:6443"})
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []runtime.Object{
		&metav1.ListOptions{LabelSelector: "app=customer"},
		&metav1.ListOptions{FieldSelector: "status.podIP=198.19.22.132"},
		&metav1.ListOptions{},
		&metav1.GetOptions{},
	} {
		got, err := c.params.EncodeParameters(opts, corev1.SchemeGroupVersion)
		if err != nil {
			t.Fatalf("%#v: %v", opts, err)
		}
		want, err := scheme.ParameterCodec.EncodeParameters(opts, corev1.SchemeGroupVersion)
		if err != nil {
			t.Fatal(err)
		}
		if got.Encode() != want.Encode() {
			t.Errorf("%#v: query %q, clientset's %q", opts, got.Encode(), want.Encode())
		}
	}
}

// TestBlockAffinities: a field of another type reads as empty, as it did
// in client-go's unstructured objects; an answer over the bound and a
// missing CRD are errors the caller can tell apart.
func TestBlockAffinities(t *testing.T) {
	const list = `{"kind":"BlockAffinityList","apiVersion":"crd.projectcalico.org/v1","items":[
		{"spec":{"node":"node1","cidr":"198.19.22.128/26","state":"confirmed","deleted":"false"}},
		{"spec":{"node":"node2","cidr":"198.19.21.64/26","state":7,"deleted":true}},
		{"spec":"odd"},
		{}]}`
	const notFound = `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case blockAffinitiesPath:
			io.WriteString(w, list)
		case "/big" + blockAffinitiesPath:
			io.WriteString(w, `{"items":[`+strings.Repeat(" ", maxBlockAffinities))
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, notFound)
		}
	}))
	defer srv.Close()
	read := func(base string) ([]blockAffinity, error) {
		c, err := newCoreClient(&rest.Config{Host: srv.URL + base})
		if err != nil {
			t.Fatal(err)
		}
		return c.blockAffinities(context.Background())
	}

	got, err := read("")
	if err != nil {
		t.Fatal(err)
	}
	want := []blockAffinity{
		{Node: "node1", CIDR: "198.19.22.128/26", State: "confirmed", Deleted: "false"},
		{Node: "node2", CIDR: "198.19.21.64/26"},
		{},
		{},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("affinities %+v, want %+v", got, want)
	}
	if _, err := read("/big"); err == nil || err.Error() != "the answer is longer than 32 MiB" {
		t.Errorf("over the bound: %v", err)
	}
	if _, err := read("/none"); !apierrors.IsNotFound(err) {
		t.Errorf("no CRD: %v, want NotFound", err)
	}
}
