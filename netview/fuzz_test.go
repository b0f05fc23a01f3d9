package netview

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"podlab/internal/hostile"
)

// FuzzReadRecording: whatever a recording file holds, what podlab reads
// from it carries no control character, renders without one, and writes
// back as a recording that reads the same.
func FuzzReadRecording(f *testing.F) {
	lesson, err := os.ReadFile(filepath.Join("testdata", "lesson.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(lesson)
	tainted := lessonRecording()
	hostile.Taint(tainted)
	var buf bytes.Buffer
	if err := WriteRecording(&buf, tainted); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	// Dual-stack, with multipath routes.
	dual := lessonRecording()
	dualStack(&dual.Pair)
	dual.Host.Routes = append(dual.Host.Routes, multipathNode().Routes...)
	buf.Reset()
	if err := WriteRecording(&buf, dual); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`{"schema":"podlab/v1","pod":{"links":[{"index":1,"name":"a\u001b]0;t\u0007"}]},"host":{"links":[{"index":1,"name":"b\u009b2J","sysctls":{"\u001b":1}}]}}`))
	// An IPv6 zone is text too, and ip neigh prints it with the address.
	f.Add([]byte(`{"schema":"podlab/v1","pod":{"links":[{"index":1,"name":"eth0"}],"neighs":[{"index":1,"dev":"eth0","ip":"fe80::1%\u001b]0;t\u0007"}],"routes":[{"family":6,"table":254,"type":"unicast","dst":"::/0","gateway":"fe80::2%\u009b2J","dev":"eth0","scope":"universe","protocol":3}]},"host":{"links":[{"index":1,"name":"b"}]}}`))
	f.Add([]byte("\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := ReadRecording(bytes.NewReader(data))
		if err != nil {
			if strings.Contains(err.Error(), "\n") || hostile.Check(err.Error(), false) != nil {
				t.Fatalf("error is not one clean line: %q", err)
			}
			return
		}
		if dirty := hostile.Unclean(rec); len(dirty) > 0 {
			t.Fatalf("control characters in %v", dirty)
		}
		a := Analyze(&rec.Pair)
		for _, side := range []Side{SidePod, SideHost} {
			s := &rec.Pod
			if side == SideHost {
				s = &rec.Host
			}
			for _, v := range []View{ViewAddr, ViewLink, ViewRoute, ViewNeigh} {
				for _, l := range Render(side, v, s, &a) {
					if err := hostile.Check(l.String(), false); err != nil || strings.Contains(l.String(), "\n") {
						t.Fatalf("%s %s renders %q: %v", side, v, l.String(), err)
					}
				}
			}
		}
		for _, p := range a.Problems {
			if err := hostile.Check(p, false); err != nil {
				t.Fatalf("problem %q: %v", p, err)
			}
		}
		var one bytes.Buffer
		if err := WriteRecording(&one, rec); err != nil {
			t.Fatal(err)
		}
		back, err := ReadRecording(bytes.NewReader(one.Bytes()))
		if err != nil {
			t.Fatalf("a recording podlab wrote does not read: %v\n%s", err, one.Bytes())
		}
		var two bytes.Buffer
		if err := WriteRecording(&two, back); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(one.Bytes(), two.Bytes()) {
			t.Fatalf("re-recording changed it:\n%s\n%s", one.Bytes(), two.Bytes())
		}
	})
}
