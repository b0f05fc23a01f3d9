package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"strings"
	"testing"

	"podlab/internal/netnstest"
	"podlab/kubeproxy"
	"podlab/lab"
	"podlab/lab/sandbox"
	"podlab/netview"
)

// TestCollectJSON is podlab collect's work on a real node namespace: the
// pod's and the node's snapshots as one document, or one line saying why
// not. (Its flags are tested with the command line, in cli.)
func TestCollectJSON(t *testing.T) {
	st := lessonSandbox(t)
	customer := st.Pod(sandbox.CustomerNamespace, sandbox.CustomerPod)
	t.Run("the customer pod", func(t *testing.T) {
		var stdout bytes.Buffer
		if err := CollectJSON(context.Background(), lab.NSRef{Name: st.NodeNS("node1")}, customer.IP, Reads{}, &stdout); err != nil {
			t.Fatal(err)
		}
		var out collectOutput
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		if out.Schema != netview.Schema || out.Host.NS.Name != st.NodeNS("node1") || out.Pod.NS.Name != customer.NS {
			t.Errorf("schema %q host %q pod %q", out.Schema, out.Host.NS.Name, out.Pod.NS.Name)
		}
	})
	t.Run("with --bird and --nat", func(t *testing.T) {
		netnstest.RequireCommand(t, "iptables-save", "apt-get install iptables")
		if _, err := os.Stat(BirdSocket); err == nil {
			t.Fatalf("%s exists on this machine: the test expects calico-node's socket absent", BirdSocket)
		}
		var stdout bytes.Buffer
		if err := CollectJSON(context.Background(), lab.NSRef{Name: st.NodeNS("node1")}, customer.IP, Reads{Bird: true, NAT: true}, &stdout); err != nil {
			t.Fatal(err)
		}
		var out collectOutput
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		// The fixed path is read, not the sandbox's own socket.
		if why := out.Unread[netview.PartBird]; out.Bird != nil || !strings.Contains(why, "cannot reach bird at "+BirdSocket+": no such socket") {
			t.Errorf("bird %v, unread %q", out.Bird, why)
		}
		if out.NAT == nil || out.NAT.Mode != kubeproxy.ModeIPTables || out.Unread[netview.PartNAT] != "" {
			t.Errorf("nat %+v, unread %q", out.NAT, out.Unread[netview.PartNAT])
		}
	})
	t.Run("no such pod", func(t *testing.T) {
		// An address in node1's block that no pod has.
		var stdout bytes.Buffer
		err := CollectJSON(context.Background(), lab.NSRef{Name: st.NodeNS("node1")}, netip.MustParseAddr("198.19.22.150"), Reads{}, &stdout)
		if err == nil || stdout.Len() != 0 || !strings.HasPrefix(err.Error(), "no network namespace on this node has 198.19.22.150") || strings.Contains(err.Error(), "\n") {
			t.Errorf("err %v, stdout %q", err, stdout.String())
		}
	})
}
