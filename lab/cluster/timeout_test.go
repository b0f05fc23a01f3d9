package cluster

import (
	"testing"
	"time"
)

// TestCollectTimeoutCoversItsRounds: a caller waiting CollectTimeout
// outlasts the ssh round and the exec after it, and the node's own
// podlab collect ends within the ssh round.
func TestCollectTimeoutCoversItsRounds(t *testing.T) {
	for _, d := range []time.Duration{time.Second, defaultTimeout, time.Minute} {
		l := &Lab{opts: Options{Timeout: d}}
		if got, rounds := l.CollectTimeout(), l.opts.sshTimeout()+d; got < rounds {
			t.Errorf("timeout %s: CollectTimeout %s < ssh and exec %s", d, got, rounds)
		}
	}
	if o := (Options{Timeout: defaultTimeout}); collectTimeout > o.sshTimeout() {
		t.Errorf("podlab collect may take %s, the ssh round only %s", collectTimeout, o.sshTimeout())
	}
}
