package cluster

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"podlab/netview"
)

// maxBorrowedLookups bounds the API requests one Collect makes to name
// borrowed addresses: a node with hundreds of /32 routes must not turn
// each refresh into hundreds of requests.
const maxBorrowedLookups = 16

// unknownFor is how long an address no pod holds stays unknown before
// it is asked about again.
const unknownFor = 30 * time.Second

// borrowedPod remembers the answer for one address.
type borrowedPod struct {
	pod   *netview.PodFact // nil: no pod holds it
	asked time.Time
}

// nameBorrowed adds to p.Facts.Pods the pod holding each remote /32 on the
// host (a borrowed IP), looked up cluster-wide by status.podIP, so that the
// route names its pod and not only its node.
func (l *Lab) nameBorrowed(ctx context.Context, p *netview.Pair) {
	if !netview.MayHaveRemotePods(p) {
		return // most refreshes: no analysis of a large node's routes needed
	}
	a := netview.Analyze(p)
	var want []netip.Addr
	for _, rc := range a.Routes {
		if rc.Side != netview.SideHost || rc.Class != netview.ClassRemotePod {
			continue
		}
		ip := rc.Route.Dst.Addr()
		if p.Facts.PodByIP(ip) == nil {
			want = append(want, ip)
		}
	}
	if len(want) == 0 {
		return
	}
	l.borrowMu.Lock()
	defer l.borrowMu.Unlock()
	if l.borrowed == nil {
		l.borrowed = map[netip.Addr]borrowedPod{}
	}
	asked := 0
	pods := append([]netview.PodFact(nil), p.Facts.Pods...)
	for _, ip := range want {
		b, ok := l.borrowed[ip]
		if !ok || (b.pod == nil && time.Since(b.asked) > unknownFor) {
			if asked == maxBorrowedLookups || l.borrowDenied {
				continue
			}
			asked++
			pod, err := l.podByIP(ctx, ip)
			if err != nil {
				if !l.borrowDenied {
					l.borrowDenied = true
					l.mu.Lock()
					l.notes = append(l.notes, fmt.Sprintf("cannot name the pods of borrowed addresses (%s): ask for \"list pods\" in all namespaces, or read them by node", l.gapOf(err)))
					l.mu.Unlock()
				}
				continue
			}
			b = borrowedPod{pod: pod, asked: time.Now()}
			l.borrowed[ip] = b
		}
		if b.pod != nil {
			pods = append(pods, *b.pod)
		}
	}
	p.Facts.Pods = pods
}

// podByIP is the running pod whose status.podIP is ip, or nil.
func (l *Lab) podByIP(ctx context.Context, ip netip.Addr) (*netview.PodFact, error) {
	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	sel := fields.OneTermEqualSelector("status.podIP", ip.String()).String()
	list, err := l.client.pods(ctx, metav1.NamespaceAll, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		return nil, err
	}
	for i := range list.Items {
		pod := &list.Items[i]
		if pod.Spec.HostNetwork || pod.Status.Phase == "Succeeded" || pod.Status.Phase == "Failed" {
			continue
		}
		f := podFact(pod)
		return &f, nil
	}
	return nil, nil
}

// gapOf words a failed request for the note.
func (l *Lab) gapOf(err error) string {
	d := &discovery{server: l.server}
	return d.gap(err, request{"list", "pods", ""})
}
