package sandbox

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"podlab/lab"
)

// kubeStartTimeout bounds the control plane's start and kube-proxy's
// first rules: a cold start on a loaded two-core machine takes tens of
// seconds.
var kubeStartTimeout = 3 * time.Minute

const (
	adminTokenFile = "admin.token"
	servingCert    = "apiserver.crt" // in certs/, written by kube-apiserver
	maxSmallFile   = 64 << 10
)

// writeKubeFile writes a file of the control plane afresh (0600, never
// through a symlink).
func writeKubeFile(d *dirFD, name string, b []byte) error {
	f, err := d.create(name, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func randomToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// writeCredentials writes the static tokens (podlab's admin and
// kube-proxy's identity system:kube-proxy, which the bootstrap policy
// binds to the node-proxier role) and the service-account key pair the
// API server insists on.
func writeCredentials(d *dirFD) (admin, proxyToken string, err error) {
	if admin, err = randomToken(); err != nil {
		return "", "", err
	}
	if proxyToken, err = randomToken(); err != nil {
		return "", "", err
	}
	tokens := fmt.Sprintf("%s,podlab-admin,podlab-admin,\"system:masters\"\n%s,system:kube-proxy,system:kube-proxy\n", admin, proxyToken)
	if err := writeKubeFile(d, "tokens.csv", []byte(tokens)); err != nil {
		return "", "", err
	}
	if err := writeKubeFile(d, adminTokenFile, []byte(admin)); err != nil {
		return "", "", err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	priv, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", "", err
	}
	if err := writeKubeFile(d, "sa.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv})); err != nil {
		return "", "", err
	}
	return admin, proxyToken, writeKubeFile(d, "sa.pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
}

// servingCA is the API server's self-signed serving certificate, which
// clients trust; absent until the server wrote it.
func servingCA(o Options) ([]byte, error) {
	d, err := o.kubeDirFD(false)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	certs, err := d.sub("certs", false)
	if err != nil {
		return nil, err
	}
	defer certs.Close()
	return certs.readFile(servingCert, maxSmallFile)
}

// writeKubeconfig writes a kubeconfig of the sandbox's API server, its
// serving certificate and a user's token: kube-proxy's, and the admin's
// for kubectl in a node's namespace.
func writeKubeconfig(o Options, file string, ca []byte, user, token string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["sandbox"] = &clientcmdapi.Cluster{Server: apiServer, CertificateAuthorityData: ca}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["sandbox"] = &clientcmdapi.Context{Cluster: "sandbox", AuthInfo: user, Namespace: CustomerNamespace}
	cfg.CurrentContext = "sandbox"
	b, err := clientcmd.Write(*cfg)
	if err != nil {
		return err
	}
	d, err := o.kubeDirFD(false)
	if err != nil {
		return err
	}
	defer d.Close()
	return writeKubeFile(d, file, b)
}

// kubeClient is an admin client of the sandbox's API server. Its
// connections are made in the control node's namespace: the server
// listens only there and on the fabric.
func kubeClient(o Options, st *State) (kubernetes.Interface, error) {
	if st.Kube == nil {
		return nil, fmt.Errorf("sandbox %q runs no API server: sudo podlab sandbox down, then up --kube", st.Prefix)
	}
	d, err := o.kubeDirFD(false)
	if err != nil {
		return nil, err
	}
	tok, err := d.readFile(adminTokenFile, 256)
	d.Close()
	if err != nil {
		return nil, err
	}
	ca, err := servingCA(o)
	if err != nil {
		return nil, err
	}
	ns := st.NodeNS(controlNode)
	cfg := &rest.Config{
		Host:            apiServer,
		BearerToken:     strings.TrimSpace(string(tok)),
		TLSClientConfig: rest.TLSClientConfig{CAData: ca},
		Timeout:         20 * time.Second,
		QPS:             50,
		Burst:           100,
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			err := lab.InNS(lab.NSRef{Name: ns}, func() error {
				var err error
				c, err = (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
				return err
			})
			return c, err
		},
	}
	return kubernetes.NewForConfig(cfg)
}

// waitAPIServer waits until the API server answers /readyz (its RBAC
// bootstrap done), or one of the control plane's processes died.
func waitAPIServer(ctx context.Context, o Options, st *State) (kubernetes.Interface, error) {
	ctx, cancel := context.WithTimeout(ctx, kubeStartTimeout)
	defer cancel()
	var last error
	for {
		for _, p := range st.Kube.Procs {
			if (p.Role == roleEtcd || p.Role == roleAPIServer) && !cmdlineMatches(p.Pid, p.Cmdline) {
				return nil, &convergeError{msg: fmt.Sprintf("%s exited; its log ends:", p.what()), tail: kubeLogTail(o, p.Role+".log", 15)}
			}
		}
		c, err := kubeClient(o, st)
		if err == nil {
			_, err = c.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
			if err == nil {
				return c, nil
			}
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, &convergeError{msg: fmt.Sprintf("the sandbox's API server was not ready within %s (%v); its log ends:", kubeStartTimeout, last), tail: kubeLogTail(o, roleAPIServer+".log", 15)}
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// kubeLogTail is the end of a log of the control plane, indented.
func kubeLogTail(o Options, name string, n int) string {
	d, err := o.kubeDirFD(false)
	if err != nil {
		return "  (no log: " + err.Error() + ")"
	}
	defer d.Close()
	f, err := d.open(name, os.O_RDONLY, 0)
	if err != nil {
		return "  (no log: " + err.Error() + ")"
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return "  (no log)"
	}
	off := max(fi.Size()-logTailBytes, 0)
	b := make([]byte, fi.Size()-off)
	k, err := f.ReadAt(b, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return "  (no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b[:k]), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}

// register writes the sandbox into its API server: the nodes, the pods'
// namespaces and pods (bound to their nodes, their status as a kubelet
// writes it), the yaobank Services with their fixed cluster IPs, and
// their EndpointSlices.
func register(ctx context.Context, c kubernetes.Interface, st *State) error {
	done := map[string]bool{"default": true, "kube-system": true}
	for _, p := range st.Pods {
		if done[p.Namespace] {
			continue
		}
		done[p.Namespace] = true
		_, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: p.Namespace}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("register namespace %s: %w", p.Namespace, err)
		}
	}
	for _, n := range st.Nodes {
		if err := registerNode(ctx, c, n); err != nil {
			return err
		}
	}
	for _, p := range st.Pods {
		if err := registerPod(ctx, c, st, p); err != nil {
			return err
		}
	}
	for _, sp := range yaobankServices {
		if err := registerService(ctx, c, sp); err != nil {
			return err
		}
	}
	return syncSlices(ctx, c, st)
}

func registerNode(ctx context.Context, c kubernetes.Interface, n NodeInfo) error {
	nodes := c.CoreV1().Nodes()
	labels := map[string]string{corev1.LabelHostname: n.Name, corev1.LabelOSStable: "linux"}
	if n.Name == controlNode {
		labels["node-role.kubernetes.io/control-plane"] = ""
	}
	made, err := nodes.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: labels}}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("register node %s: %w", n.Name, err)
	}
	now := metav1.Now()
	made.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: n.IP.String()}, {Type: corev1.NodeHostName, Address: n.Name}}
	made.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
		Reason: "KubeletReady", Message: "podlab sandbox node", LastHeartbeatTime: now, LastTransitionTime: now}}
	if _, err := nodes.UpdateStatus(ctx, made, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("register node %s's status: %w", n.Name, err)
	}
	return nil
}

func registerPod(ctx context.Context, c kubernetes.Interface, st *State, p PodInfo) error {
	labels := podLabels(p.Namespace, p.Name)
	ctr := corev1.Container{Name: "main", Image: "podlab/sandbox"}
	if port, ok := servicePortOf(p); ok {
		ctr.Name = labels["app"]
		ctr.Ports = []corev1.ContainerPort{{ContainerPort: int32(port), Protocol: corev1.ProtocolTCP}}
	}
	pods := c.CoreV1().Pods(p.Namespace)
	made, err := pods.Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, Labels: labels},
		// Bound at creation: no scheduler runs.
		Spec: corev1.PodSpec{NodeName: p.Node, Containers: []corev1.Container{ctr}},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("register pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	n, _ := st.Node(p.Node)
	now, started := metav1.Now(), true
	made.Status = corev1.PodStatus{
		Phase: corev1.PodRunning, StartTime: &now,
		PodIP: p.IP.String(), PodIPs: []corev1.PodIP{{IP: p.IP.String()}},
		HostIP: n.IP.String(), HostIPs: []corev1.HostIP{{IP: n.IP.String()}},
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
		},
		ContainerStatuses: []corev1.ContainerStatus{{
			Name: ctr.Name, Image: ctr.Image, ImageID: ctr.Image, Ready: true, Started: &started,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		}},
	}
	if _, err := pods.UpdateStatus(ctx, made, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("register pod %s/%s's status: %w", p.Namespace, p.Name, err)
	}
	return nil
}

func unregisterPod(ctx context.Context, c kubernetes.Interface, p PodInfo) error {
	zero := int64(0)
	err := c.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete pod %s/%s from the API: %w", p.Namespace, p.Name, err)
	}
	return nil
}

func registerService(ctx context.Context, c kubernetes.Interface, sp serviceSpec) error {
	typ := corev1.ServiceTypeClusterIP
	if sp.port.NodePort != 0 {
		typ = corev1.ServiceTypeNodePort
	}
	sel := map[string]string{"app": sp.name}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: sp.name, Namespace: CustomerNamespace, Labels: sel},
		Spec: corev1.ServiceSpec{
			Type: typ, Selector: sel,
			ClusterIP: sp.clusterIP.String(), ClusterIPs: []string{sp.clusterIP.String()},
			Ports: []corev1.ServicePort{{
				Name: sp.port.Name, Protocol: corev1.Protocol(sp.port.Protocol), Port: sp.port.Port,
				TargetPort: intstr.Parse(sp.port.TargetPort), NodePort: sp.port.NodePort,
			}},
		},
	}
	if _, err := c.CoreV1().Services(CustomerNamespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("register service %s/%s: %w", CustomerNamespace, sp.name, err)
	}
	return nil
}

// syncSlices writes each yaobank Service's EndpointSlice as the
// EndpointSlice controller would, from the pods the state has now.
func syncSlices(ctx context.Context, c kubernetes.Interface, st *State) error {
	api := c.DiscoveryV1().EndpointSlices(CustomerNamespace)
	for _, es := range st.EndpointSlices() {
		svc, err := c.CoreV1().Services(CustomerNamespace).Get(ctx, es.Service, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("read service %s/%s: %w", CustomerNamespace, es.Service, err)
		}
		sp := svc.Spec.Ports[0]
		name, proto, port, yes := sp.Name, sp.Protocol, sp.TargetPort.IntVal, true
		want := &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{
				Name: es.Name, Namespace: es.Namespace,
				Labels: map[string]string{
					discoveryv1.LabelServiceName: es.Service,
					discoveryv1.LabelManagedBy:   "endpointslice-controller.k8s.io",
				},
				Annotations: map[string]string{corev1.EndpointsLastChangeTriggerTime: time.Now().UTC().Format(time.RFC3339)},
				OwnerReferences: []metav1.OwnerReference{{
					APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID, Controller: &yes, BlockOwnerDeletion: &yes,
				}},
			},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: &name, Protocol: &proto, Port: &port}},
		}
		for _, e := range es.Endpoints {
			ready, serving, terminating := e.Ready, e.Ready, false
			node := e.Node
			want.Endpoints = append(want.Endpoints, discoveryv1.Endpoint{
				Addresses:  []string{e.Addresses[0].String()},
				Conditions: discoveryv1.EndpointConditions{Ready: &ready, Serving: &serving, Terminating: &terminating},
				NodeName:   &node,
				TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: es.Namespace, Name: e.Pod},
			})
		}
		old, err := api.Get(ctx, es.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			_, err = api.Create(ctx, want, metav1.CreateOptions{})
		case err == nil:
			want.ResourceVersion = old.ResourceVersion
			_, err = api.Update(ctx, want, metav1.UpdateOptions{})
		}
		if err != nil {
			return fmt.Errorf("write the EndpointSlice %s/%s: %w", es.Namespace, es.Name, err)
		}
	}
	return nil
}
