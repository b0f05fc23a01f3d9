package class

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzReport: whatever a report's body holds, parseReport does not panic;
// it refuses it with a 400 or 413 and a one-line message, or gives a
// report of a step of the lesson with a clean name and at most
// MaxAnswered ids of the lesson's steps, sorted and without repeats.
func FuzzReport(f *testing.F) {
	for _, s := range []string{
		`{"name":"ana","section":2,"step":4,"answered":["2.1","2.4"]}`,
		`{"name":"ana","section":99,"step":99}`,
		`{"name":"\u001b[2J","section":1,"step":1}`,
		`{"name":"a","section":1,"step":1,"answered":["2.4","2.4","1.1"]}`,
		`{"name":"a","section":1,"step":1,"answered":["../x"]}`,
		`{"name":"a","section":-1,"step":1e3}`,
		`{"name":"a","section":1,"step":1}{}`,
		`{"name":"` + strings.Repeat("x", MaxReportBytes) + `"}`,
		`[]`, ``, "\xff",
	} {
		f.Add([]byte(s))
	}
	steps := map[string]bool{}
	for _, id := range lessonSteps {
		steps[id] = true
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rep, err := parseReport(body, steps)
		if err != nil {
			if err.code != 400 && err.code != 413 || strings.ContainsAny(err.msg, "\n\r") {
				t.Fatalf("refused with %d %q", err.code, err.msg)
			}
			return
		}
		if rep.Name == "" || CleanName(rep.Name) != rep.Name || utf8.RuneCountInString(rep.Name) > MaxNameRunes {
			t.Fatalf("name %q is not clean", rep.Name)
		}
		if !stepOK(steps, rep.Section, rep.Step) {
			t.Fatalf("step %d.%d is not the lesson's", rep.Section, rep.Step)
		}
		if len(rep.Answered) > MaxAnswered || !slices.IsSorted(rep.Answered) || len(slices.Compact(slices.Clone(rep.Answered))) != len(rep.Answered) {
			t.Fatalf("answered %q", rep.Answered)
		}
		for _, a := range rep.Answered {
			if !steps[a] {
				t.Fatalf("answered %q: not a step of the lesson", a)
			}
		}
		// What was taken is taken again the same.
		again, _ := json.Marshal(rep)
		if rep2, err := parseReport(again, steps); err != nil || !slices.Equal(rep2.Answered, rep.Answered) || rep2.Name != rep.Name {
			t.Fatalf("a taken report, sent again, is %+v, %v", rep2, err)
		}
	})
}

// FuzzStepEvent: whatever line the stream brings, parseEvent does not
// panic and gives only a position from 1.1 to 99.99.
func FuzzStepEvent(f *testing.F) {
	for _, s := range []string{
		`data: {"seq":1,"section":2,"step":5}`,
		`data:{"seq":1,"section":2,"step":5}`,
		`data: {"seq":18446744073709551615,"section":99,"step":99}`,
		`data: {"seq":-1,"section":0,"step":5}`,
		`data: {"section":1e9,"step":1}`,
		`: ping`, ``, `event: x`, "data: \xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		p, ok := parseEvent(line)
		if !ok {
			return
		}
		if !stepOK(nil, p.Section, p.Step) {
			t.Fatalf("%q gave step %d.%d", line, p.Section, p.Step)
		}
	})
}
