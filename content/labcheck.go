package content

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"podlab/netview"
)

// StepVerdict is what `podlab check` says of one step: whether the lab
// shows what the step points at, and if not, what is missing.
type StepVerdict struct {
	Step    string   `json:"step"` // "4.3"
	Title   string   `json:"title"`
	Checks  []string `json:"checks"` // the lab checks the step relies on (netview.Check*)
	OK      bool     `json:"ok"`
	Missing []string `json:"missing,omitempty"`
}

// CheckLab runs each step's lab checks against one analysed pair: a step
// passes when every piece its highlights point at is in the lab. A step
// that highlights nothing checkable passes with no checks.
func CheckLab(secs []Section, p *netview.Pair) []StepVerdict {
	a := netview.Analyze(p)
	found := netview.Verify(p, &a)
	var out []StepVerdict
	for _, sec := range secs {
		for _, st := range sec.Steps {
			v := StepVerdict{Step: st.ID(), Title: st.Title, Checks: netview.ChecksFor(st.Highlight), OK: true}
			if v.Checks == nil {
				v.Checks = []string{}
			}
			for _, c := range v.Checks {
				if f := found[c]; !f.OK() {
					v.OK = false
					v.Missing = append(v.Missing, f.Missing...)
				}
			}
			out = append(out, v)
		}
	}
	return out
}

// Failed counts the steps that did not pass.
func Failed(vs []StepVerdict) int {
	n := 0
	for _, v := range vs {
		if !v.OK {
			n++
		}
	}
	return n
}

// WriteVerdicts prints the verdicts, one line a step with what is missing
// under a failed one, or as a JSON array.
func WriteVerdicts(w io.Writer, vs []StepVerdict, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(vs)
	}
	for _, v := range vs {
		verdict, what := "pass", strings.Join(v.Checks, ", ")
		if !v.OK {
			verdict = "FAIL"
		}
		if what == "" {
			what = "nothing in the lab to check"
		}
		if _, err := fmt.Fprintf(w, "%-4s %-5s %s (%s)\n", verdict, v.Step, v.Title, what); err != nil {
			return err
		}
		for _, m := range v.Missing {
			fmt.Fprintf(w, "           missing: %s\n", m)
		}
	}
	_, err := fmt.Fprintf(w, "%d of %d steps pass\n", len(vs)-Failed(vs), len(vs))
	return err
}
