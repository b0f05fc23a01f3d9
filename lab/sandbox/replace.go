package sandbox

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"
)

// ReplaceDelay is how long after a delete the replacement appears, as a
// Deployment's takes a moment: long enough to see the blackhole catch the
// old address in between.
var ReplaceDelay = 2 * time.Second

// suffixAlphabet is the one Kubernetes draws generated name suffixes from
// (no vowels, no look-alike digits).
const suffixAlphabet = "bcdfghjklmnpqrstvwxz2456789"

var suffixRE = regexp.MustCompile(`^[` + suffixAlphabet + `]{5}$`)

// baseName is a pod's name without its generated suffix: what its
// ReplicaSet or DaemonSet names every pod with.
func baseName(name string) string {
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		return name[:i]
	}
	return name
}

// isReplacement says whether namespace/name is what ReplacePod makes: a
// lesson pod's name with a new five-character suffix. Only such names
// widen the namespaces a state file may list.
func isReplacement(namespace, name string) bool {
	i := strings.LastIndexByte(name, '-')
	if i <= 0 || !suffixRE.MatchString(name[i+1:]) {
		return false
	}
	return slices.ContainsFunc(allPodSpecs(), func(p podSpec) bool {
		return p.namespace == namespace && baseName(p.name) == name[:i]
	})
}

// replacementName gives gone's base a fresh suffix no pod in st has.
func replacementName(st *State, gone PodInfo) string {
	for {
		b := make([]byte, 5)
		rand.Read(b)
		for i := range b {
			b[i] = suffixAlphabet[int(b[i])%len(suffixAlphabet)]
		}
		name := baseName(gone.Name) + "-" + string(b)
		if st.Pod(gone.Namespace, name) == nil && name != gone.Name {
			return name
		}
	}
}

// freeAddr is the lowest address of the node's block that no pod holds,
// that is not the node's tunnel address, and that is not avoid (the
// deleted pod's, so the replacement is seen to get a new one). The block
// is the one avoid is in: a pod of the external pool is replaced from
// the node's /29.
func freeAddr(st *State, n NodeInfo, avoid netip.Addr) (netip.Addr, error) {
	block := n.Block
	if n.ExtBlock.Contains(avoid) {
		block = n.ExtBlock
	}
	for a := block.Addr(); block.Contains(a); a = a.Next() {
		if a == avoid || a == n.VTEP || slices.ContainsFunc(st.Pods, func(p PodInfo) bool { return p.IP == a }) {
			continue
		}
		return a, nil
	}
	return netip.Addr{}, fmt.Errorf("node %s's block %s has no free address", n.Name, block)
}

// ReplacePod does what the deleted pod's Deployment would: it creates a
// pod with the same name but a new suffix on the same node, with a new
// address from the node's block, wired as the CNI plugin's ADD does. It
// returns the new pod. A replacement that fails half-way is removed.
func ReplacePod(ctx context.Context, opts Options, gone PodInfo) (PodInfo, error) {
	o, st, unlock, err := upState(opts)
	if err != nil {
		return PodInfo{}, err
	}
	defer unlock()
	if err := ctx.Err(); err != nil {
		return PodInfo{}, err
	}
	n, ok := st.Node(gone.Node)
	if !ok {
		return PodInfo{}, fmt.Errorf("sandbox %q has no node %q", st.Prefix, gone.Node)
	}
	ip, err := freeAddr(st, n, gone.IP)
	if err != nil {
		return PodInfo{}, err
	}
	spec := podSpec{namespace: gone.Namespace, name: replacementName(st, gone), node: gone.Node, ip: ip}
	if !isReplacement(spec.namespace, spec.name) {
		return PodInfo{}, fmt.Errorf("pod %s/%s is not one of the lesson's, so the sandbox does not replace it", gone.Namespace, gone.Name)
	}
	b := &builder{o: o, st: st, nodes: map[string]*NodeInfo{}}
	for i := range st.Nodes {
		b.nodes[st.Nodes[i].Name] = &st.Nodes[i]
	}
	if err := b.pod(spec, 0); err != nil {
		nsName := podNSName(o.Prefix, spec.namespace, spec.name)
		var rerr error
		if owned(st, nsName) {
			rerr = deletePodNS(nsName)
		}
		forgetPod(st, nsName)
		return PodInfo{}, errors.Join(fmt.Errorf("replace pod %s/%s: %w", gone.Namespace, gone.Name, err), rerr, st.write(o))
	}
	np := *st.Pod(spec.namespace, spec.name)
	return np, errors.Join(followEndpoints(ctx, o, st), kubeAfter(ctx, o, st, []PodInfo{np}, nil))
}

// forgetPod drops a pod and what it recorded from the state.
func forgetPod(st *State, nsName string) {
	st.Pods = slices.DeleteFunc(st.Pods, func(x PodInfo) bool { return x.NS == nsName })
	st.Namespaces = slices.DeleteFunc(st.Namespaces, func(x NSRecord) bool { return x.Name == nsName })
	st.Links = slices.DeleteFunc(st.Links, func(x LinkRec) bool {
		return x.NS == nsName || strings.HasPrefix(x.Peer, nsName+"/")
	})
}
