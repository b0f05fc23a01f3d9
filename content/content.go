package content

import (
	"bufio"
	"fmt"
	"slices"
	"strings"
)

// Section is one part of the lesson, e.g. 2 "How Pods See the Network".
type Section struct {
	Number int
	Title  string
	Steps  []Step
}

// Step is one screenful of the lesson: what to type, what to look at and
// what it means.
type Step struct {
	Section int // the section's Number
	Index   int // 1-based within the section
	Title   string
	// Commands are typed in order, each where it says.
	Commands []Command
	// Where the student types at this step: "local", "host1", "pod", "node".
	Where string
	// PodViews and HostViews name the views of the two panes, main one
	// first: "addr", "link", "route", "neigh", and those of the readers
	// a pack adds. PodViews are the left pane's: the pod's, or host1's or
	// the cluster's when the pack's panes say so (Manifest.LeftPane).
	PodViews, HostViews []string
	// Highlight names netview tags to light up: veth-pod, gateway,
	// route-local-pod, ...
	Highlight []string
	// Body is markdown with {{placeholders}}; see Render.
	Body string
	// Extra is "hash", "arp", "lookup" or "delete" for the steps beyond the lesson
	// text, "" otherwise.
	Extra string
	// Ask is the question, with {{placeholders}} like Body; see Question.
	// AnswerExpr is the CEL expression that gives its answer, Compare the
	// comparison that holds an answer against it (address, index, ...).
	Ask, AnswerExpr, Compare string
	// Wrong are the question's explained wrong answers, in order; Hint is
	// said of any other.
	Wrong []WrongAnswer
	Hint  string
	// Hide names template values blanked while the question is open,
	// besides the one the answer reads: they would give it away.
	Hide []string
	// File and Line are where the step's heading is.
	File string
	Line int
	// Notes are the presenter's speaker notes, one paragraph a "notes:"
	// line: what to ask the class, what usually confuses, the answers.
	Notes []string

	tmpl, askTmpl, hintTmpl *tmpl
	// cmdTmpls are the Commands' texts as templates, in order.
	cmdTmpls []*tmpl
	pk       *Pack
}

// WrongAnswer is one wrong answer a question explains: when the CEL
// condition holds of the student's answer (got), Say (a template) is the
// hint.
type WrongAnswer struct {
	When string
	Say  string

	say *tmpl
}

// Command is one command line and where to type it. Text may hold
// placeholders as a body does; see Step.RenderCommands.
type Command struct {
	Text  string
	Where string
}

// ID names the step as "section.index", e.g. "2.3".
func (s Step) ID() string { return s.Pos().String() }

// Pos is the step's id as a value.
func (s Step) Pos() StepID { return StepID{s.Section, s.Index} }

// noteAnswer begins a notes paragraph that answers the notes' question.
const noteAnswer = "Answer:"

// SpokenNotes are the speaker notes without their answers: what a
// projector may show while the class thinks.
func (s Step) SpokenNotes() []string {
	var out []string
	for _, n := range s.Notes {
		if !strings.HasPrefix(n, noteAnswer) {
			out = append(out, n)
		}
	}
	return out
}

// NoteAnswers are the notes paragraphs that begin "Answer:", without it.
func (s Step) NoteAnswers() []string {
	var out []string
	for _, n := range s.Notes {
		if a, ok := strings.CutPrefix(n, noteAnswer); ok {
			out = append(out, strings.TrimSpace(a))
		}
	}
	return out
}

// Places, views and extras a step may name.
var (
	places = []string{"local", "host1", "pod", "node"}
	views  = []string{"addr", "link", "route", "neigh", "bird", "nat", "pools", "peers", "bgp", "services", "endpoints"}
	// paneViews are the views each pane can show.
	paneViews = map[string][]string{
		"pod":  {"addr", "link", "route", "neigh"},
		"host": {"addr", "link", "route", "neigh", "bird", "nat"},
		// What the student reads from host1: its own table and BIRD, and
		// the cluster through calicoctl and kubectl.
		"host1":   {"addr", "route", "bird", "pools", "peers", "bgp", "services", "endpoints"},
		"cluster": {"pools", "peers", "bgp", "services", "endpoints"},
	}
	extras = []string{"hash", "arp", "lookup", "delete"}
)

// Render returns the step's body with the placeholders filled from v.
func (s Step) Render(v Vars) string {
	t := s.tmpl
	if t == nil {
		var err error
		if t, err = parseBody(s.Title, s.Body); err != nil {
			return s.Body
		}
	}
	out, err := execute(t, s.pack().dataFor(t, &v))
	if err != nil {
		// Lesson executes every body before handing it out, so this is
		// only reachable for a hand-built Step.
		return s.Body
	}
	return out
}

// RenderCommands returns the step's commands with their placeholders
// filled from v: most are typed as the lesson prints them, but some name
// what is in the lab now (the pod step 4.8 deletes).
func (s Step) RenderCommands(v Vars) []Command {
	out := slices.Clone(s.Commands)
	if len(s.cmdTmpls) != len(out) {
		return out // a hand-built Step: its texts as they are
	}
	for i, t := range s.cmdTmpls {
		if text, err := execute(t, s.pack().dataFor(t, &v)); err == nil {
			out[i].Text = text
		}
	}
	return out
}

func parseBody(name, body string) (*tmpl, error) {
	return parseTemplate(name, body, true)
}

// parseSection reads one section file; errors name the file and line. A
// step's errors do not stop the others' being read, so lint lists them
// all; one in the file's structure does.
func (pk *Pack) parseSection(name string, number int, text string) (Section, []error) {
	sec := Section{Number: number}
	var errs []error
	fail := func(line int, format string, a ...any) (Section, []error) {
		return Section{}, append(errs, fmt.Errorf("%s:%d: %s", name, line, fmt.Sprintf(format, a...)))
	}
	var (
		st      *Step
		body    []string
		inFence bool
		inMeta  bool
		metaAt  int
		headAt  int
		bodyAt  int
	)
	finish := func() error {
		if st == nil {
			return nil
		}
		st.Body = strings.TrimSpace(strings.Join(body, "\n")) + "\n"
		st.pk = pk
		at := func(err error) error { return fmt.Errorf("%s:%d: step %q: %w", name, headAt, st.Title, err) }
		t, err := pk.tryTemplate(st.ID(), st.Body)
		if te, ok := err.(*TemplateError); ok && te.Line > 0 {
			return fmt.Errorf("%s:%d: step %q: %w", name, bodyAt+te.Line-1, st.Title, err)
		}
		if err != nil {
			return at(err)
		}
		st.tmpl = t
		for i, c := range st.Commands {
			ct, err := pk.tryTemplate(fmt.Sprintf("%s run %d", st.ID(), i+1), c.Text)
			if err != nil {
				return at(fmt.Errorf("run: %w", err))
			}
			st.cmdTmpls = append(st.cmdTmpls, ct)
		}
		if err := st.compileQuestion(); err != nil {
			return at(err)
		}
		if !pk.lazy && pk.xv != nil {
			if err := pk.xv.compileQuestion(st); err != nil {
				return at(err)
			}
		}
		sec.Steps = append(sec.Steps, *st)
		return nil
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for ln := 1; sc.Scan(); ln++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case inMeta:
			if trimmed == "-->" {
				inMeta = false
				continue
			}
			if trimmed == "" {
				continue
			}
			if err := pk.setKey(st, trimmed); err != nil {
				errs = append(errs, fmt.Errorf("%s:%d: %v", name, ln, err))
			}
		case sec.Title == "":
			if trimmed == "" {
				continue
			}
			title, ok := strings.CutPrefix(line, "# ")
			if !ok || strings.TrimSpace(title) == "" {
				return fail(ln, "a section file starts with its title as \"# Title\"")
			}
			sec.Title = strings.TrimSpace(title)
		case !inFence && strings.HasPrefix(line, "## "):
			if err := finish(); err != nil {
				errs = append(errs, err)
			}
			st = &Step{Section: number, Index: len(sec.Steps) + 1, Title: strings.TrimSpace(line[3:]), File: name, Line: ln}
			body = nil
			metaAt, headAt, bodyAt = ln+1, ln, 0
		case st == nil:
			if trimmed != "" {
				return fail(ln, "text before the first \"## \" step heading")
			}
		case ln == metaAt:
			if trimmed != "<!-- step" {
				return fail(ln, "a step heading must be followed by a \"<!-- step\" line")
			}
			inMeta = true
		default:
			if strings.HasPrefix(trimmed, "```") {
				inFence = !inFence
			}
			if bodyAt == 0 && trimmed != "" {
				bodyAt = ln
			}
			body = append(body, line)
		}
	}
	if err := sc.Err(); err != nil {
		return fail(1, "%v (a line may be at most %d bytes)", err, maxLine)
	}
	if inMeta {
		return fail(metaAt, "step block not closed with \"-->\"")
	}
	if inFence {
		return fail(headAt, "code fence not closed")
	}
	if err := finish(); err != nil {
		errs = append(errs, err)
	}
	if len(sec.Steps) == 0 && len(errs) == 0 {
		return fail(1, "no steps (a step starts with \"## Title\")")
	}
	for i := range sec.Steps {
		st := &sec.Steps[i]
		if st.Where == "" {
			errs = append(errs, fmt.Errorf("%s:%d: step %q: missing \"where:\"", name, st.Line, st.Title))
		}
		if strings.TrimSpace(st.Body) == "" {
			errs = append(errs, fmt.Errorf("%s:%d: step %q: empty body", name, st.Line, st.Title))
		}
		for j := range st.Commands {
			if st.Commands[j].Where == "" {
				st.Commands[j].Where = st.Where
			}
		}
	}
	if len(errs) > 0 {
		return Section{}, errs
	}
	return sec, nil
}

// maxLine bounds one line of a section file.
const maxLine = 64 << 10

// setKey applies one "key: value" line of a step block.
func (pk *Pack) setKey(st *Step, line string) error {
	key, val, ok := strings.Cut(line, ":")
	if !ok {
		return fmt.Errorf("want \"key: value\", got %q", line)
	}
	key, val = strings.TrimSpace(key), strings.TrimSpace(val)
	if val == "" {
		return fmt.Errorf("%s: empty value", key)
	}
	oneOf := func(v string, allowed []string) error {
		if !slices.Contains(allowed, v) {
			return fmt.Errorf("%s: %q is not one of %s", key, v, strings.Join(allowed, ", "))
		}
		return nil
	}
	switch {
	case key == "run":
		// Where is filled in once the whole block is read, so "where:"
		// may come after "run:".
		st.Commands = append(st.Commands, Command{Text: val})
	case strings.HasPrefix(key, "run@"):
		where := key[len("run@"):]
		if err := oneOf(where, places); err != nil {
			return err
		}
		st.Commands = append(st.Commands, Command{Text: val, Where: where})
	case key == "where":
		if err := oneOf(val, places); err != nil {
			return err
		}
		st.Where = val
	case slices.Contains(knownPanes, key):
		if !slices.Contains(pk.Panes, key) {
			return fmt.Errorf("%s: the pack's panes are %s (pack.yaml panes:)", key, strings.Join(pk.Panes, ", "))
		}
		for _, v := range strings.Fields(val) {
			if err := oneOf(v, paneViews[key]); err != nil {
				return err
			}
			// The left pane's views (pod, host1 or cluster) are PodViews.
			if key == "host" {
				st.HostViews = append(st.HostViews, v)
			} else {
				st.PodViews = append(st.PodViews, v)
			}
		}
	case key == "highlight":
		for _, v := range strings.Fields(val) {
			if err := oneOf(v, Tags()); err != nil {
				return err
			}
			st.Highlight = append(st.Highlight, v)
		}
	case key == "extra":
		if err := oneOf(val, extras); err != nil {
			return err
		}
		st.Extra = val
	case key == "answer":
		st.AnswerExpr = val
	case key == "compare":
		if err := oneOf(val, comparisonNames()); err != nil {
			return err
		}
		st.Compare = val
	case key == "wrong":
		when, say, ok := strings.Cut(val, " => ")
		if !ok || strings.TrimSpace(say) == "" {
			return fmt.Errorf("wrong: want \"CONDITION => what to say\", got %q", val)
		}
		st.Wrong = append(st.Wrong, WrongAnswer{When: strings.TrimSpace(when), Say: strings.TrimSpace(say)})
	case key == "hint":
		st.Hint = val
	case key == "hide":
		st.Hide = append(st.Hide, strings.Fields(val)...)
	case key == "ask":
		st.Ask = val
	case key == "notes":
		st.Notes = append(st.Notes, val)
	default:
		return fmt.Errorf("unknown key %q (want where, run, pod, host, highlight, extra, ask, answer, compare, wrong, hint, hide or notes)", key)
	}
	return nil
}
