package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"podlab/internal/kubetest"
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
// in client-go's unstructured objects; an answer over the bound, one that
// is not such a list and a missing CRD are errors the caller can tell
// apart.
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
		case "/odd" + blockAffinitiesPath:
			io.WriteString(w, `{"kind":"Pod","items":[]}`)
		case "/empty" + blockAffinitiesPath:
			io.WriteString(w, `{}`)
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
	for _, base := range []string{"/odd", "/empty"} {
		if got, err := read(base); err == nil || err.Error() != "the answer is not a list of block affinities" {
			t.Errorf("%s: affinities %v, error %v; want not a list", base, got, err)
		}
	}
	if _, err := read("/none"); !apierrors.IsNotFound(err) {
		t.Errorf("no CRD: %v, want NotFound", err)
	}
}

// podListPages serves /api/v1/pods as pages of names, following the
// continue token it hands out, and counts the pages asked for. pad
// lengthens each pod's label value, to reach a byte bound.
func podListPages(t *testing.T, pages [][]string, pad int) (*httptest.Server, *int) {
	t.Helper()
	asked := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		isList := strings.HasSuffix(r.URL.Path, "/pods")
		if !isList && r.URL.Path != "/api/v1/namespaces/yaobank/pods/"+customer {
			http.NotFound(w, r)
			return
		}
		asked++
		w.Header().Set("Content-Type", "application/json")
		label := map[string]string{"pad": strings.Repeat("x", pad)}
		if !isList {
			json.NewEncoder(w).Encode(corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: customer, Labels: label}})
			return
		}
		if got := r.URL.Query().Get("limit"); got != "2" {
			t.Errorf("limit=%q, want 2", got)
		}
		i, _ := strconv.Atoi(r.URL.Query().Get("continue"))
		if i >= len(pages) {
			t.Errorf("continue=%d past the last page", i)
			i = len(pages) - 1
		}
		list := corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}}
		for _, name := range pages[i] {
			list.Items = append(list.Items, corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: label}})
		}
		if i+1 < len(pages) {
			list.Continue = strconv.Itoa(i + 1)
		}
		json.NewEncoder(w).Encode(list)
	}))
	t.Cleanup(srv.Close)
	return srv, &asked
}

// TestListPagesAndBudget: a list follows every continue token, and one
// read, all of its pages together, stops at the client's budget with an
// error that names it.
func TestListPagesAndBudget(t *testing.T) {
	pages := [][]string{{"a", "b"}, {"c", "d"}, {"e"}}
	tests := []struct {
		name    string
		pad     int
		budget  int
		want    []string
		wantErr string
	}{
		{name: "three pages", budget: maxAnswer, want: []string{"a", "b", "c", "d", "e"}},
		{name: "pages over the budget together", pad: 4000, budget: 16 << 10, wantErr: "the answer is longer than 16 KiB"},
		{name: "one page over the budget", pad: 20000, budget: 16 << 10, wantErr: "the answer is longer than 16 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, asked := podListPages(t, pages, tt.pad)
			c, err := newCoreClient(&rest.Config{Host: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			c.page, c.budget = 2, tt.budget
			list, err := c.pods(context.Background(), "", metav1.ListOptions{})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if _, ok := errors.AsType[*AnswerTooLongError](err); !ok {
					t.Errorf("error %T is not an *AnswerTooLongError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range list.Items {
				got = append(got, p.Name)
			}
			if !slices.Equal(got, tt.want) || *asked != len(pages) {
				t.Errorf("pods %v in %d pages, want %v in %d", got, *asked, tt.want, len(pages))
			}
		})
	}
	t.Run("a single object over the budget", func(t *testing.T) {
		srv, _ := podListPages(t, pages, 20000)
		c, err := newCoreClient(&rest.Config{Host: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		c.budget = 16 << 10
		if _, err := c.pod(context.Background(), "yaobank", customer); err == nil || err.Error() != "the answer is longer than 16 KiB" {
			t.Errorf("error %v, want the bound", err)
		}
		c.budget = 64 << 10
		if p, err := c.pod(context.Background(), "yaobank", customer); err != nil || p.Name != customer {
			t.Errorf("under the bound: pod %q, %v", p.Name, err)
		}
	})
	t.Run("a selector that matches too many", func(t *testing.T) {
		srv, _ := podListPages(t, pages, 20000)
		c, err := newCoreClient(&rest.Config{Host: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		c.page, c.budget = 2, 16<<10
		d := &discovery{client: c, server: srv.URL, opts: Options{Namespace: "yaobank", Selector: "app=customer"}}
		_, err = d.pod(context.Background())
		want := "the pods matching -l app=customer in namespace yaobank are more than podlab reads (16 KiB): name one with --pod"
		if err == nil || err.Error() != want {
			t.Errorf("error %v, want %q", err, want)
		}
	})
}

// TestListPagesOnAPIServer: the API server's own continue tokens are
// followed to the end of a list.
func TestListPagesOnAPIServer(t *testing.T) {
	s := kubetest.Start(t)
	addNodes(t, s)
	addYaobank(t, s)
	config, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	c, err := newCoreClient(config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	whole, err := c.pods(ctx, "", metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wholeNodes, err := c.nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.page = 1
	paged, err := c.pods(ctx, "", metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pagedNodes, err := c.nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := listNames(paged.Items), listNames(whole.Items); len(want) < 4 || !slices.Equal(got, want) {
		t.Errorf("pods a page at a time %v, in one page %v", got, want)
	}
	if got, want := listNames(pagedNodes.Items), listNames(wholeNodes.Items); len(want) < 3 || !slices.Equal(got, want) {
		t.Errorf("nodes a page at a time %v, in one page %v", got, want)
	}
}

// listNames names a list's items as namespace/name, in order.
func listNames[T any, P interface {
	*T
	metav1.Object
}](items []T) []string {
	var out []string
	for i := range items {
		o := P(&items[i])
		out = append(out, o.GetNamespace()+"/"+o.GetName())
	}
	return out
}
