package bird

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"podlab/internal/hostile"
	"podlab/netview"
)

// FuzzExchange: whatever answers on BIRD's socket, podlab reads
// protocols with no control character, within the limits, that encode
// stably; or fails with one clean line.
func FuzzExchange(f *testing.F) {
	for _, name := range []string{"bird2-established.txt", "bird2-active.txt", "bird1-calico.txt"} {
		b, err := readTestdata(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("0001 BIRD ready.\n0016 Access restricted\n1002-bgp" + hostile.Text + " BGP --- up 08:00:00  Established\n1006-  Channel ipv4\n    Routes: 99999999999999999999 imported, -1 exported\n0000 \n"))
	lim := Limits{Bytes: 64 << 10, Lines: 2048, Line: 1024, Protocols: 16, Channels: 4}
	f.Fuzz(func(t *testing.T, answer []byte) {
		ps, err := exchange(&conversation{Reader: bytes.NewReader(answer)}, lim)
		if err != nil {
			msg := exchangeError(t.Context(), "/run/bird.ctl", 0, err).Error()
			if strings.Contains(msg, "\n") || hostile.Check(msg, false) != nil {
				t.Fatalf("error is not one clean line: %q", msg)
			}
			return
		}
		if dirty := hostile.Unclean(ps); len(dirty) > 0 {
			t.Fatalf("control characters in %v", dirty)
		}
		if len(ps) > lim.Protocols {
			t.Fatalf("%d protocols, over the limit", len(ps))
		}
		for _, p := range ps {
			if len(p.Channels) > lim.Channels {
				t.Fatalf("%d channels in %s, over the limit", len(p.Channels), p.Name)
			}
			if p.Routes.Imported < 0 || p.Routes.Exported < 0 || p.Routes.Preferred < 0 || p.Routes.Filtered < 0 {
				t.Fatalf("negative counts in %+v", p.Routes)
			}
		}
		one, err := json.Marshal(ps)
		if err != nil {
			t.Fatal(err)
		}
		var back netview.BirdProtocols
		if err := json.Unmarshal(one, &back); err != nil {
			t.Fatal(err)
		}
		two, _ := json.Marshal(back)
		if !bytes.Equal(one, two) {
			t.Fatalf("JSON changes on a round trip:\n%s\n%s", one, two)
		}
	})
}
