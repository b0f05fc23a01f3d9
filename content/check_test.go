package content

import (
	"regexp"
	"strings"
	"testing"
)

// checkedSteps are the lesson's steps that ask a question.
func checkedSteps(t *testing.T) []Step {
	t.Helper()
	var out []Step
	for _, st := range allSteps(t) {
		if st.Asks() {
			out = append(out, st)
		}
	}
	return out
}

// mentions says whether text holds answer as a whole word.
func mentions(text, answer string) bool {
	return regexp.MustCompile(`(?i)(^|[^0-9a-z])` + regexp.QuoteMeta(answer) + `($|[^0-9a-z])`).MatchString(text)
}

// questionSteps are the lesson's questions by what they ask, and two the
// lesson does not ask, written as a pack would.
var questionSteps = map[string]string{
	"pod-ip": "2.1", "peer-index": "2.4", "gateway": "2.5", "node": "3.1",
	"host-if": "3.2", "remote-node": "4.3", "own-block": "4.5",
}

const extraQuestions = `# Extra

## Host peer index
<!-- step
where: node
ask: After @if on the cali line?
answer: HostPeerIndex
compare: index
wrong: got == HostIndex => that is the cali interface's own number, at the start of its line; its far end's comes after @if
hint: on the node, look at the pod's cali… line in ip -c link show up: the number right after @if
-->
body

## Block size
<!-- step
where: node
ask: How long is a block's prefix?
answer: BlockSize
compare: length
hide: BlockAddrs
hint: look at the routes marked proto bird on the node: the number after the slash
-->
body
`

func askStep(t *testing.T, kind string) Step {
	t.Helper()
	if id, ok := questionSteps[kind]; ok {
		for _, st := range allSteps(t) {
			if st.ID() == id {
				return st
			}
		}
		t.Fatalf("no step %s", id)
	}
	sec, err := parseSection("extra.md", 9, extraQuestions)
	if err != nil {
		t.Fatal(err)
	}
	switch kind {
	case "host-peer-index":
		return sec.Steps[0]
	case "block-size":
		return sec.Steps[1]
	}
	t.Fatalf("no question %q", kind)
	return Step{}
}

func kinds() []string {
	return []string{"block-size", "gateway", "host-if", "host-peer-index", "node", "own-block", "peer-index", "pod-ip", "remote-node"}
}

func TestCheckKindsResolve(t *testing.T) {
	// The gateway is Calico's constant and the block size the IPAM
	// default: the same in every lab.
	same := map[string]bool{"gateway": true, "block-size": true}
	for _, kind := range kinds() {
		t.Run(kind, func(t *testing.T) {
			st := askStep(t, kind)
			les, ok := st.Answer(LessonVars())
			if !ok {
				t.Fatalf("no answer from LessonVars")
			}
			lv, ok := st.Answer(live())
			if !ok {
				t.Fatalf("no answer from a live lab")
			}
			if les == lv && !same[kind] {
				t.Errorf("lesson and live lab both answer %q", les)
			}
			if r := st.Check(LessonVars(), les); !r.OK {
				t.Errorf("the lesson's own answer %q is refused: %s", les, r.Hint)
			}
			if r := st.Check(live(), lv); !r.OK {
				t.Errorf("the live answer %q is refused: %s", lv, r.Hint)
			}
			if !same[kind] {
				if r := st.Check(live(), les); r.OK {
					t.Errorf("the lesson's answer %q passes in a live lab that differs", les)
				}
			}
		})
	}
}

func TestLessonChecks(t *testing.T) {
	steps := checkedSteps(t)
	if len(steps) < 6 || len(steps) > 8 {
		t.Errorf("%d steps ask a question; aim for 6-8", len(steps))
	}
	sections := map[int]bool{}
	for _, st := range steps {
		sections[st.Section] = true
		for _, vc := range []struct {
			name string
			vars Vars
		}{{"lesson", LessonVars()}, {"live", live()}, {"empty", Vars{}}} {
			t.Run(st.ID()+"/"+vc.name, func(t *testing.T) {
				q := st.Question(vc.vars)
				if q == "" || strings.Contains(q, "{{") || strings.Contains(q, "<no value>") {
					t.Errorf("question %q", q)
				}
				body := st.RenderAsking(vc.vars)
				if !strings.Contains(body, "?") || strings.Contains(body, "{{") {
					t.Errorf("asking body:\n%s", body)
				}
				ans, ok := st.Answer(vc.vars)
				if !ok {
					return
				}
				if mentions(q, ans) {
					t.Errorf("the question %q gives the answer %q away", q, ans)
				}
				if mentions(body, ans) && st.AnswerExpr != "Gateway" {
					t.Errorf("the body gives the answer %q away:\n%s", ans, body)
				}
			})
		}
	}
	for _, n := range []int{2, 3, 4} {
		if !sections[n] {
			t.Errorf("section %d asks nothing", n)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		kind   string
		vars   Vars
		answer string
		ok     bool
		hint   string // in the hint of a wrong answer
	}{
		{"pod-ip", LessonVars(), "198.19.22.132", true, ""},
		{"pod-ip", LessonVars(), "  198.19.22.132/32 ", true, ""},
		{"pod-ip", LessonVars(), "inet 198.19.22.132/32", true, ""},
		{"pod-ip", LessonVars(), "`198.19.22.132`.", true, ""},
		{"pod-ip", LessonVars(), "169.254.1.1", false, "gateway"},
		{"pod-ip", LessonVars(), "127.0.0.1", false, "lo"},
		{"pod-ip", LessonVars(), "198.19.22.131", false, "inet address on eth0"},
		{"pod-ip", LessonVars(), "eth0", false, "not an IP address"},
		{"pod-ip", live(), "198.19.22.70", true, ""},
		{"pod-ip", live(), "198.19.22.132", false, "eth0"},
		{"pod-ip", LessonVars(), "", false, "type an answer"},
		{"peer-index", LessonVars(), "9", true, ""},
		{"peer-index", LessonVars(), "@if9", true, ""},
		{"peer-index", LessonVars(), "@IF9", true, ""},
		{"peer-index", LessonVars(), "eth0@if9:", true, ""},
		{"peer-index", LessonVars(), "if9", true, ""},
		{"peer-index", LessonVars(), "3", false, "eth0's own number"},
		{"peer-index", LessonVars(), "8", false, "after @if"},
		{"peer-index", LessonVars(), "nine", false, "interface number"},
		{"peer-index", live(), "12", true, ""},
		{"peer-index", live(), "9", false, "after @if"},
		{"host-peer-index", LessonVars(), "@if3", true, ""},
		{"host-peer-index", LessonVars(), "9", false, "own number"},
		{"host-if", LessonVars(), "caliea2aa288365", true, ""},
		{"host-if", LessonVars(), "CALIEA2AA288365", true, ""},
		{"host-if", LessonVars(), "caliea2aa288365@if3", true, ""},
		{"host-if", LessonVars(), "9: caliea2aa288365@if3:", true, ""},
		{"host-if", LessonVars(), "eth0", false, "pod's end"},
		{"host-if", LessonVars(), "calif0a98285df9", false, "not this pod's"},
		{"host-if", LessonVars(), "tunl0", false, "interface 9"},
		{"host-if", live(), "cali1234567890a", true, ""},
		{"gateway", LessonVars(), "169.254.1.1", true, ""},
		{"gateway", LessonVars(), "default via 169.254.1.1", true, ""},
		{"gateway", Vars{}, "169.254.1.1", true, ""},
		{"gateway", LessonVars(), "198.19.22.132", false, "pod's own address"},
		{"gateway", LessonVars(), "10.0.0.1", false, "default via"},
		{"node", LessonVars(), "node1", true, ""},
		{"node", LessonVars(), " Node1 ", true, ""},
		{"node", Vars{Node: "node1.lab.local"}, "node1", true, ""},
		{"node", LessonVars(), "host1", false, "where you type kubectl"},
		{"node", LessonVars(), "198.19.0.2", false, "name"},
		{"node", LessonVars(), "node2", false, "NODE column"},
		{"node", live(), "node2", true, ""},
		{"own-block", LessonVars(), "198.19.22.128/26", true, ""},
		{"own-block", LessonVars(), "blackhole 198.19.22.128/26", true, ""},
		{"own-block", LessonVars(), "198.19.22.130/26", true, ""},
		{"own-block", LessonVars(), "198.19.22.128", false, "prefix length"},
		{"own-block", LessonVars(), "198.19.22.132", false, "inside the block"},
		{"own-block", LessonVars(), "198.19.21.64/26", false, "another node"},
		{"own-block", LessonVars(), "198.19.21.0/26", false, "another node"},
		{"own-block", LessonVars(), "198.19.22.128/24", false, "prefix length"},
		{"own-block", LessonVars(), "10.0.0.0/8", false, "blackhole"},
		{"own-block", LessonVars(), "block", false, "ADDRESS/LENGTH"},
		{"own-block", live(), "198.19.22.64/26", true, ""},
		{"remote-node", LessonVars(), "node2", true, ""},
		{"remote-node", LessonVars(), "198.19.0.3", false, "its name"},
		{"remote-node", LessonVars(), "node1", false, "node you are on"},
		{"remote-node", LessonVars(), "control", false, "via 198.19.0.3"},
		{"remote-node", live(), "control", true, ""},
		{"block-size", LessonVars(), "/26", true, ""},
		{"block-size", LessonVars(), "26", true, ""},
		{"block-size", LessonVars(), "64", true, ""},
		{"block-size", LessonVars(), "/32", false, "proto bird"},
		{"block-size", LessonVars(), "big", false, "prefix length"},
	}
	for _, tc := range tests {
		t.Run(tc.kind+"/"+tc.answer, func(t *testing.T) {
			st := askStep(t, tc.kind)
			r := st.Check(tc.vars, tc.answer)
			if r.OK != tc.ok {
				t.Fatalf("Check(%q) ok = %v, want %v (hint %q)", tc.answer, r.OK, tc.ok, r.Hint)
			}
			if tc.ok {
				return
			}
			if !strings.Contains(r.Hint, tc.hint) {
				t.Errorf("hint %q does not say %q", r.Hint, tc.hint)
			}
			if want, _ := st.Answer(tc.vars); mentions(r.Hint, want) {
				t.Errorf("hint %q gives the answer %q away", r.Hint, want)
			}
		})
	}
}

func TestCheckUnknown(t *testing.T) {
	for _, kind := range kinds() {
		if kind == "gateway" {
			continue
		}
		r := askStep(t, kind).Check(Vars{}, "anything")
		if r.OK || !r.Unknown || r.Hint == "" {
			t.Errorf("%s with nothing known: %+v", kind, r)
		}
	}
	if r := (Step{}).Check(LessonVars(), "9"); r.OK || !r.Unknown {
		t.Errorf("a step without a check: %+v", r)
	}
}

func TestParseQuestion(t *testing.T) {
	const head = "# Title\n\n## Step\n<!-- step\nwhere: pod\n"
	sec, err := parseSection("x.md", 2, head+"answer: PodPeerIndex\ncompare: index\nask: What follows @if on {{.PodIf}}?\n-->\nIt is @if{{.PodPeerIndex}}.\n")
	if err != nil {
		t.Fatal(err)
	}
	st := sec.Steps[0]
	if st.Compare != "index" || st.Question(LessonVars()) != "What follows @if on eth0?" {
		t.Errorf("parsed %q asking %q", st.Compare, st.Question(LessonVars()))
	}
	if got := st.RenderAsking(LessonVars()); got != "It is @if?.\n" {
		t.Errorf("RenderAsking = %q", got)
	}
	if got := st.Render(LessonVars()); got != "It is @if9.\n" {
		t.Errorf("Render = %q", got)
	}
	for _, tc := range []struct{ name, block, want string }{
		{"bad kind", "answer: Node\ncompare: colour\nask: Which?\n", "\"colour\" is not one of"},
		{"no ask", "answer: Node\ncompare: node\n", "together"},
		{"no answer", "ask: Which?\ncompare: node\n", "together"},
		{"bad field", "answer: Node\ncompare: node\nask: {{.Nope}}?\n", "Nope"},
		{"unknown fact", "answer: Routers\ncompare: node\nask: Which?\n", "undeclared reference to 'Routers'"},
		{"wrong type", "answer: PodPeerIndex\ncompare: address\nask: Which?\n", "want string"},
		{"bad wrong", "answer: Node\ncompare: node\nask: Which?\nwrong: got ==\n", "wrong:"},
		{"wrong not bool", "answer: Node\ncompare: node\nask: Which?\nwrong: Node => no\n", "want bool"},
		{"bad hide", "answer: Node\ncompare: node\nask: Which?\nhide: Nope\n", "hide"},
		{"with lookup", "answer: Node\ncompare: node\nask: Which?\nextra: lookup\n", "cannot share a step"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseSection("x.md", 2, head+tc.block+"-->\nbody\n")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			for _, l := range strings.Split(err.Error(), "\n") {
				if !regexp.MustCompile(`^x\.md:\d+: `).MatchString(l) {
					t.Errorf("error line %q does not start with file:line", l)
				}
			}
		})
	}
}
