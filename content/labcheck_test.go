package content

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"podlab/netview"
)

func lessonPair(t *testing.T) *netview.Pair {
	t.Helper()
	f, err := os.Open("../netview/testdata/lesson.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec, err := netview.ReadRecording(f)
	if err != nil {
		t.Fatal(err)
	}
	return &rec.Pair
}

func TestCheckLab(t *testing.T) {
	secs, err := Lesson()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		drop string // a node route to delete
		// failing are the steps that must fail, each with a word its
		// findings must hold; all others must pass.
		failing map[string]string
	}{
		{"the lesson's lab passes every step", "", nil},
		{"node2's block route deleted", "198.19.21.64/26", map[string]string{"4.3": "198.19.21.64/26", "4.4": "node2", "4.6": "node2", "4.7": "node2"}},
		{"the blackhole deleted", "198.19.22.128/26", map[string]string{"4.4": "blackhole", "4.5": "blackhole", "4.7": "blackhole", "4.8": "blackhole"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := lessonPair(t)
			if tt.drop != "" {
				p.Host.Routes = slices.DeleteFunc(p.Host.Routes, func(r netview.Route) bool { return r.Dst.String() == tt.drop })
			}
			vs := CheckLab(secs, p)
			n := 0
			for _, s := range secs {
				n += len(s.Steps)
			}
			if len(vs) != n {
				t.Fatalf("%d verdicts for %d steps", len(vs), n)
			}
			for _, v := range vs {
				word, want := tt.failing[v.Step]
				switch {
				case want && v.OK:
					t.Errorf("step %s %q passed, want it to fail", v.Step, v.Title)
				case !want && !v.OK:
					t.Errorf("step %s %q failed: %v", v.Step, v.Title, v.Missing)
				case want && !strings.Contains(strings.Join(v.Missing, "; "), word):
					t.Errorf("step %s: %v, want it to name %q", v.Step, v.Missing, word)
				}
			}
			if got := Failed(vs); got != len(tt.failing) {
				t.Errorf("Failed = %d, want %d", got, len(tt.failing))
			}
			var text, js bytes.Buffer
			if err := WriteVerdicts(&text, vs, false); err != nil {
				t.Fatal(err)
			}
			for step, word := range tt.failing {
				if !strings.Contains(text.String(), "FAIL "+step) || !strings.Contains(text.String(), word) {
					t.Errorf("the text does not show step %s failing on %q:\n%s", step, word, text.String())
				}
			}
			if err := WriteVerdicts(&js, vs, true); err != nil {
				t.Fatal(err)
			}
			var back []StepVerdict
			if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back) != len(vs) || Failed(back) != len(tt.failing) {
				t.Errorf("the JSON does not read back: %v, %d verdicts", err, len(back))
			}
		})
	}
}
