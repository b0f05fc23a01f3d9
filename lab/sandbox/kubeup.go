package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"podlab/kubeproxy"
	"podlab/lab"
	"podlab/lab/firewall"
	"podlab/termtext"
)

// kube starts the control plane, registers the sandbox in it, starts a
// kube-proxy per node and a responder per yaobank pod, and waits until
// every node's rules for the yaobank Services are written.
func (b *builder) kube(ctx context.Context) error {
	bins := b.kubeBins
	if bins == nil {
		var err error
		if bins, err = kubeBinaries(b.o.KubeBin); err != nil {
			return err
		}
	}
	began := time.Now()
	b.st.Kube = &KubeInfo{ProxyMode: b.o.kubeMode(), Server: apiServer}
	if err := b.save(); err != nil {
		return err
	}
	fd, err := b.o.fileDirFD(false)
	if err != nil {
		return err
	}
	// What a killed build left (an old etcd's data) is never reused.
	err = removeTree(fd.fd, kubeSubdir, 0)
	fd.Close()
	if err != nil {
		return fmt.Errorf("remove %s: %w", b.o.kubeDir(), err)
	}
	d, err := b.o.kubeDirFD(true)
	if err != nil {
		return err
	}
	admin, proxyToken, err := writeCredentials(d)
	d.Close()
	if err != nil {
		return fmt.Errorf("write the API server's credentials: %w", err)
	}
	control := b.nodes[controlNode]
	for _, p := range []KubeProc{
		{Role: roleEtcd, Node: control.Name, NS: control.NS, Cmdline: etcdCmdline(b.o, bins[roleEtcd])},
		{Role: roleAPIServer, Node: control.Name, NS: control.NS, Cmdline: apiServerCmdline(b.o, bins[roleAPIServer])},
	} {
		if err := b.runKube(p, p.Role+".log"); err != nil {
			return err
		}
	}
	// The responders start while the API server does.
	for _, p := range b.st.Pods {
		if err := b.startResponder(p); err != nil {
			return err
		}
	}
	if err := b.step(ctx, "api server started"); err != nil {
		return err
	}
	c, err := waitAPIServer(ctx, b.o, b.st)
	if err != nil {
		return err
	}
	ca, err := servingCA(b.o)
	if err != nil {
		return err
	}
	if err := writeKubeconfig(b.o, proxyKubeconfig, ca, "kube-proxy", proxyToken); err != nil {
		return err
	}
	if err := writeKubeconfig(b.o, adminKubeconfig, ca, "admin", admin); err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, kubeStartTimeout)
	defer cancel()
	if err := register(rctx, c, b.st); err != nil {
		return err
	}
	for _, n := range b.st.Nodes {
		p := KubeProc{Role: roleKubeProxy, Node: n.Name, NS: n.NS, Cmdline: kubeProxyCmdline(b.o, bins[roleKubeProxy], n.Name, b.st.Kube.ProxyMode)}
		if err := b.runKube(p, proxyLog(n.Name)); err != nil {
			return err
		}
	}
	if err := b.step(ctx, "kube-proxy started"); err != nil {
		return err
	}
	if err := waitProxyRules(rctx, b.o, b.st); err != nil {
		return err
	}
	b.st.Kube.ReadyMS = time.Since(began).Milliseconds()
	return b.save()
}

const (
	proxyKubeconfig = "kube-proxy.kubeconfig"
	adminKubeconfig = "admin.kubeconfig"
)

func proxyLog(node string) string { return "kube-proxy-" + node + ".log" }

// runKube records a process, starts it, and records its pid.
func (b *builder) runKube(p KubeProc, log string) error {
	b.st.Kube.Procs = append(b.st.Kube.Procs, p)
	if err := b.save(); err != nil {
		return err
	}
	pid, err := startKube(b.o, p, log)
	if err != nil {
		return err
	}
	b.st.Kube.Procs[len(b.st.Kube.Procs)-1].Pid = pid
	return b.save()
}

// startResponder starts the responder of a pod that backs a yaobank
// Service: podlab itself, run again in the pod's namespace.
func (b *builder) startResponder(p PodInfo) error {
	port, ok := servicePortOf(p)
	if !ok {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find podlab's own program for the pods' responders: %w", err)
	}
	if !programRE.MatchString(self) {
		return fmt.Errorf("podlab's path %q has a character podlab does not run programs from: move it", self)
	}
	kp := KubeProc{Role: roleResponder, Node: p.Node, Pod: p.Namespace + "/" + p.Name, NS: p.NS, Cmdline: responderCmdline(self, p, port)}
	return b.runKube(kp, "")
}

// stopResponder ends a pod's responder and forgets it.
func stopResponder(st *State, pod PodInfo) error {
	if st.Kube == nil {
		return nil
	}
	var errs []error
	keep := st.Kube.Procs[:0]
	for _, p := range st.Kube.Procs {
		if p.Role == roleResponder && p.Pod == pod.Namespace+"/"+pod.Name {
			if err := stopKubeProc(p); err != nil {
				errs = append(errs, err)
				keep = append(keep, p)
			}
			continue
		}
		keep = append(keep, p)
	}
	st.Kube.Procs = keep
	return errors.Join(errs...)
}

// readNAT reads a node's NAT rules as its kube-proxy's mode writes them.
func readNAT(ctx context.Context, st *State, node string) (*kubeproxy.Table, error) {
	ref := lab.NSRef{Name: st.NodeNS(node)}
	if st.kubeMode() == ProxyNFTables {
		return firewall.ReadNFT(ctx, ref)
	}
	return firewall.ReadIPTables(ctx, ref)
}

// servicePort is a yaobank Service's port as kube-proxy names it.
func servicePort(sp serviceSpec) kubeproxy.ServicePort {
	return kubeproxy.ServicePort{Namespace: CustomerNamespace, Name: sp.name, Port: sp.port.Name, Protocol: sp.port.Protocol}
}

// proxyRulesMissing says what a node's table lacks of the yaobank
// Services as the state has them: a service chain with a hop per
// endpoint; "" when nothing.
func proxyRulesMissing(tab *kubeproxy.Table, st *State) string {
	want := map[string]int{}
	for _, es := range st.EndpointSlices() {
		want[es.Service] = len(es.Endpoints)
	}
	var miss []string
	for _, sp := range yaobankServices {
		w := kubeproxy.WalkService(tab, servicePort(sp))
		if !w.Found || len(w.Hops) != want[sp.name] {
			miss = append(miss, fmt.Sprintf("%s (%d of %d endpoints)", w.SVC, len(w.Hops), want[sp.name]))
		}
	}
	return strings.Join(miss, ", ")
}

// waitProxyRules waits until each node's kube-proxy has written the
// rules of every yaobank Service, with a hop per endpoint.
func waitProxyRules(ctx context.Context, o Options, st *State) error {
	for _, n := range st.Nodes {
		var last string
		for {
			tab, err := readNAT(ctx, st, n.Name)
			if err == nil {
				if last = proxyRulesMissing(tab, st); last == "" {
					break
				}
			} else {
				last = err.Error()
			}
			for _, p := range st.Kube.Procs {
				if p.Role == roleKubeProxy && p.Node == n.Name && !cmdlineMatches(p.Pid, p.Cmdline) {
					return &convergeError{msg: p.what() + " exited; its log ends:", tail: kubeLogTail(o, proxyLog(n.Name), 15)}
				}
			}
			select {
			case <-ctx.Done():
				return &convergeError{msg: fmt.Sprintf("kube-proxy on %s has not written the yaobank services' rules (missing: %s); its log ends:", n.Name, termtext.Cut(termtext.FirstLine(last), 300)), tail: kubeLogTail(o, proxyLog(n.Name), 15)}
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
	return nil
}

// proxyListing is the command that lists a node's rules in mode.
func proxyListing(mode string) string {
	if mode == ProxyNFTables {
		return "nft list table ip kube-proxy"
	}
	return "iptables -v -n -t nat -L"
}
