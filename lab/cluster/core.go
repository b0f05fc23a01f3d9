package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/rest"
)

// coreScheme holds core/v1 alone (with meta/v1's options and Status,
// which core/v1 registers): client-go's full clientset registers every
// API group at start-up, several MiB that podlab never reads.
var coreScheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(corev1.AddToScheme(s))
	return s
}()

// coreClient is the little of the API podlab reads: pods, namespaces and
// nodes in core/v1, the URL of a pod's exec, and Calico's block
// affinities.
type coreClient struct {
	rest   *rest.RESTClient
	params runtime.ParameterCodec
}

// newCoreClient is a core/v1 client for config, set up as client-go's
// typed client sets up its own.
func newCoreClient(config *rest.Config) (*coreClient, error) {
	c := rest.CopyConfig(config)
	c.GroupVersion = &corev1.SchemeGroupVersion
	c.APIPath = "/api"
	c.NegotiatedSerializer = serializer.NewCodecFactory(coreScheme).WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	rc, err := rest.RESTClientFor(c)
	if err != nil {
		return nil, err
	}
	return &coreClient{rest: rc, params: runtime.NewParameterCodec(coreScheme)}, nil
}

// get reads one object, in protobuf as the typed client asks for it.
func (c *coreClient) get(ctx context.Context, namespace, resource, name string, into runtime.Object) error {
	return c.rest.Get().UseProtobufAsDefault().
		NamespaceIfScoped(namespace, namespace != "").Resource(resource).Name(name).
		VersionedParams(&metav1.GetOptions{}, c.params).
		Do(ctx).Into(into)
}

// list reads a list; namespace "" is every namespace (or a cluster-wide
// resource).
func (c *coreClient) list(ctx context.Context, namespace, resource string, opts metav1.ListOptions, into runtime.Object) error {
	return c.rest.Get().UseProtobufAsDefault().
		NamespaceIfScoped(namespace, namespace != "").Resource(resource).
		VersionedParams(&opts, c.params).
		Do(ctx).Into(into)
}

func (c *coreClient) pod(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	var p corev1.Pod
	return &p, c.get(ctx, namespace, "pods", name, &p)
}

func (c *coreClient) pods(ctx context.Context, namespace string, opts metav1.ListOptions) (*corev1.PodList, error) {
	var l corev1.PodList
	return &l, c.list(ctx, namespace, "pods", opts, &l)
}

func (c *coreClient) namespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	var n corev1.Namespace
	return &n, c.get(ctx, "", "namespaces", name, &n)
}

func (c *coreClient) nodes(ctx context.Context) (*corev1.NodeList, error) {
	var l corev1.NodeList
	return &l, c.list(ctx, "", "nodes", metav1.ListOptions{}, &l)
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
		Stream(ctx)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	raw, err := io.ReadAll(io.LimitReader(body, maxBlockAffinities+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxBlockAffinities {
		return nil, fmt.Errorf("the answer is longer than %s", sizeName(maxBlockAffinities))
	}
	var list struct {
		Items []struct {
			Spec any `json:"spec"`
		} `json:"items"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("the answer is not a list of block affinities: %w", err)
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
