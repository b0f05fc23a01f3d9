package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/rest"
)

// coreScheme holds core/v1 alone (with meta/v1's options and Status,
// which core/v1 registers): client-go's full clientset registers every
// API group at start-up, several MiB that podlab never reads. Made when
// a cluster is first opened, not when podlab starts.
var coreScheme = sync.OnceValue(func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(corev1.AddToScheme(s))
	return s
})

// coreClient is the little of the API podlab reads: pods, namespaces and
// nodes in core/v1, the URL of a pod's exec, and Calico's block
// affinities.
type coreClient struct {
	rest   *rest.RESTClient
	params runtime.ParameterCodec
	// page is the items asked for in one page of a list; budget bounds
	// the bytes of one read, all of a list's pages together.
	page   int64
	budget int
}

// A list comes in pages of listPage, as kubectl asks for them. maxAnswer
// bounds what one read takes from the server: the lesson's lists are a
// few KiB, and 64 MiB holds a thousand nodes with their image lists.
const (
	listPage  = 500
	maxAnswer = 64 << 20
)

// newCoreClient is a core/v1 client for config, set up as client-go's
// typed client sets up its own.
func newCoreClient(config *rest.Config) (*coreClient, error) {
	c := rest.CopyConfig(config)
	c.GroupVersion = &corev1.SchemeGroupVersion
	c.APIPath = "/api"
	c.NegotiatedSerializer = serializer.NewCodecFactory(coreScheme()).WithoutConversion()
	c.Wrap(func(rt http.RoundTripper) http.RoundTripper { return boundedBodies{rt} })
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	rc, err := rest.RESTClientFor(c)
	if err != nil {
		return nil, err
	}
	return &coreClient{rest: rc, params: runtime.NewParameterCodec(coreScheme()), page: listPage, budget: maxAnswer}, nil
}

// get reads one object, in protobuf as the typed client asks for it.
func (c *coreClient) get(ctx context.Context, namespace, resource, name string, into runtime.Object) error {
	return answerError(c.rest.Get().UseProtobufAsDefault().
		NamespaceIfScoped(namespace, namespace != "").Resource(resource).Name(name).
		VersionedParams(&metav1.GetOptions{}, c.params).
		Do(withBudget(ctx, c.budget)).Into(into))
}

// list reads a whole list, page by page, handing each page to keep;
// namespace "" is every namespace (or a cluster-wide resource). newPage
// gives the object a page is read into.
func (c *coreClient) list(ctx context.Context, namespace, resource string, opts metav1.ListOptions, newPage func() runtime.Object, keep func(runtime.Object)) error {
	ctx = withBudget(ctx, c.budget)
	opts.Limit = c.page
	for {
		page := newPage()
		err := c.rest.Get().UseProtobufAsDefault().
			NamespaceIfScoped(namespace, namespace != "").Resource(resource).
			VersionedParams(&opts, c.params).
			Do(ctx).Into(page)
		if err != nil {
			return answerError(err)
		}
		keep(page)
		meta, ok := page.(metav1.ListInterface)
		if !ok || meta.GetContinue() == "" {
			return nil
		}
		opts.Continue = meta.GetContinue()
	}
}

func (c *coreClient) pod(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	var p corev1.Pod
	return &p, c.get(ctx, namespace, "pods", name, &p)
}

func (c *coreClient) pods(ctx context.Context, namespace string, opts metav1.ListOptions) (*corev1.PodList, error) {
	var all corev1.PodList
	return &all, c.list(ctx, namespace, "pods", opts,
		func() runtime.Object { return &corev1.PodList{} },
		func(page runtime.Object) { all.Items = append(all.Items, page.(*corev1.PodList).Items...) })
}

func (c *coreClient) namespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	var n corev1.Namespace
	return &n, c.get(ctx, "", "namespaces", name, &n)
}

func (c *coreClient) nodes(ctx context.Context) (*corev1.NodeList, error) {
	var all corev1.NodeList
	return &all, c.list(ctx, "", "nodes", metav1.ListOptions{},
		func() runtime.Object { return &corev1.NodeList{} },
		func(page runtime.Object) { all.Items = append(all.Items, page.(*corev1.NodeList).Items...) })
}

// execURL is the URL of the pods/exec subresource running opts.
func (c *coreClient) execURL(namespace, pod string, opts *corev1.PodExecOptions) *url.URL {
	return c.rest.Post().
		Resource("pods").Namespace(namespace).Name(pod).SubResource("exec").
		VersionedParams(opts, c.params).
		URL()
}

// blockAffinitiesPath lists Calico's record of which IPAM block is affine
// to which node (blockaffinities.crd.projectcalico.org, v1).
const blockAffinitiesPath = "/apis/crd.projectcalico.org/v1/blockaffinities"

// maxBlockAffinities bounds the list's JSON: about a kilobyte an
// affinity, so room for tens of thousands of blocks.
const maxBlockAffinities = 32 << 20

// blockAffinity is what podlab reads of one affinity's spec. Its fields
// are all strings ("deleted" too); one of another type reads as "".
type blockAffinity struct {
	Node, CIDR, State, Deleted string
}

// blockAffinities lists every block affinity. A cluster without Calico's
// CRDs answers NotFound (apierrors.IsNotFound).
func (c *coreClient) blockAffinities(ctx context.Context) ([]blockAffinity, error) {
	body, err := c.rest.Get().AbsPath(blockAffinitiesPath).
		SetHeader("Accept", "application/json").
		Stream(withBudget(ctx, min(c.budget, maxBlockAffinities)))
	if err != nil {
		return nil, answerError(err)
	}
	defer body.Close()
	raw, err := io.ReadAll(body)
	if err != nil {
		return nil, answerError(err)
	}
	var list struct {
		Kind  string `json:"kind"`
		Items []struct {
			Spec any `json:"spec"`
		} `json:"items"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("the answer is not a list of block affinities: %w", err)
	}
	// Anything else that parses, such as a proxy's own page, would
	// otherwise read as a cluster without blocks.
	if list.Kind != "BlockAffinityList" {
		return nil, errors.New("the answer is not a list of block affinities")
	}
	out := make([]blockAffinity, len(list.Items))
	for i, item := range list.Items {
		spec, _ := item.Spec.(map[string]any)
		out[i].Node, _ = spec["node"].(string)
		out[i].CIDR, _ = spec["cidr"].(string)
		out[i].State, _ = spec["state"].(string)
		out[i].Deleted, _ = spec["deleted"].(string)
	}
	return out, nil
}

// AnswerTooLongError is an answer from the API server over the bound
// podlab reads, all of a list's pages together.
type AnswerTooLongError struct{ Limit int }

func (e *AnswerTooLongError) Error() string {
	return "the answer is longer than " + sizeName(e.Limit)
}

// answerError unwraps an answer over the bound from client-go's words
// about a failed body read, so that the bound is what the student sees.
func answerError(err error) error {
	if long, ok := errors.AsType[*AnswerTooLongError](err); ok {
		return long
	}
	return err
}

// budget is what is left of one read's bound, shared by its pages, which
// are read one after another.
type budget struct{ limit, left int }

type budgetKey struct{}

func withBudget(ctx context.Context, limit int) context.Context {
	return context.WithValue(ctx, budgetKey{}, &budget{limit: limit, left: limit})
}

// boundedBodies bounds every answer's body by its request's budget, or
// by maxAnswer where a request carries none.
type boundedBodies struct{ next http.RoundTripper }

func (b boundedBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := b.next.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	bud, ok := req.Context().Value(budgetKey{}).(*budget)
	if !ok {
		bud = &budget{limit: maxAnswer, left: maxAnswer}
	}
	resp.Body = &boundedBody{ReadCloser: resp.Body, budget: bud}
	return resp, nil
}

type boundedBody struct {
	io.ReadCloser
	*budget
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// At the bound: the answer is too long only if more follows.
		var one [1]byte
		if n, err := io.ReadFull(b.ReadCloser, one[:]); n == 0 {
			return 0, err
		}
		return 0, &AnswerTooLongError{Limit: b.limit}
	}
	p = p[:min(len(p), b.left)]
	n, err := b.ReadCloser.Read(p)
	b.left -= n
	return n, err
}
