package content

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"podlab/netview"
)

// Result is the verdict on a student's answer to a step's question.
type Result struct {
	OK bool
	// Hint says what to look at when the answer is wrong, without giving
	// the answer away; on a right answer it may say why it is right.
	Hint string
	// Unknown: the lab does not tell podlab the answer, so nothing can be
	// checked (the UI lets the student move on).
	Unknown bool
}

// RevealAfter is how many wrong answers a student gives before the UI
// shows the answer (Step.Answer).
const RevealAfter = 2

// Tags are the tag names a step may highlight, sorted.
func Tags() []string {
	out := []string{string(netview.TagVethPod), string(netview.TagVethHost), string(netview.TagGateway),
		string(netview.TagPodIP), string(netview.TagNetnsID), string(netview.TagMAC)}
	for _, c := range netview.Classes() {
		out = append(out, string(netview.RouteTag(c)))
	}
	for _, t := range netview.ExtraTags() {
		out = append(out, string(t))
	}
	return out
}

// Asks says the step asks a question.
func (s Step) Asks() bool { return s.AnswerExpr != "" && s.Compare != "" && s.Ask != "" }

// compiled is the step's question, compiled; nil when it has none.
func (s Step) compiled() *question { return s.pack().x().questions[s.Pos()] }

// pack is the step's pack; a hand-built step reads as the built-in one's.
// LeftPane is what the step's left pane shows: pod, host1 or cluster,
// as its pack's panes say.
func (s Step) LeftPane() string { return s.pack().LeftPane() }

func (s Step) pack() *Pack {
	if s.pk != nil {
		return s.pk
	}
	if pk, err := loadLesson(); err == nil {
		return pk
	}
	return emptyPack()
}

// emptyPack stands in when not even the built-in pack loads.
func emptyPack() *Pack {
	return &Pack{derived: map[string]bool{}, usesDerived: map[*tmpl]bool{}}
}

// compileQuestion checks a step's question when its file is read:
// "ask", "answer" and "compare" come together, and the question does not
// share the step with the lookup prompt (both take what the student
// types). Its expressions compile with the pack's (Pack.x).
func (st *Step) compileQuestion() error {
	set := 0
	for _, s := range []string{st.Ask, st.AnswerExpr, st.Compare} {
		if s != "" {
			set++
		}
	}
	switch {
	case set == 0 && len(st.Wrong) == 0 && st.Hint == "" && len(st.Hide) == 0:
		return nil
	case set < 3:
		return fmt.Errorf("a question needs ask:, answer: and compare: together")
	case st.Extra == "lookup":
		return fmt.Errorf("a question and \"extra: lookup\" cannot share a step: both take typed input")
	}
	pk := st.pk
	var err error
	for i := range st.Wrong {
		w := &st.Wrong[i]
		if w.say, err = pk.tryTemplate(st.ID()+" wrong", w.Say); err != nil {
			return fmt.Errorf("wrong: %w", err)
		}
	}
	if st.Hint != "" {
		if st.hintTmpl, err = pk.tryTemplate(st.ID()+" hint", st.Hint); err != nil {
			return fmt.Errorf("hint: %w", err)
		}
	}
	if st.askTmpl, err = pk.tryTemplate(st.ID()+" ask", st.Ask); err != nil {
		return fmt.Errorf("ask: %w", err)
	}
	return nil
}

// validateQuestions runs each question's answer with the example's
// values and with none, and checks what it hides names a value.
func (pk *Pack) validateQuestions() []error {
	var errs []error
	data := pk.data(&Vars{})
	for _, sec := range pk.Sections {
		for _, st := range sec.Steps {
			q := pk.x().questions[st.Pos()]
			if q == nil {
				continue
			}
			at := func(format string, a ...any) {
				errs = append(errs, fmt.Errorf("%s:%d: step %q: %s", st.File, st.Line, st.Title, fmt.Sprintf(format, a...)))
			}
			for _, h := range append(slices.Clone(st.Hide), st.askedKey()) {
				if _, ok := data[h]; !ok && h != "" {
					at("hide: %q is no value of the text", h)
				}
			}
			for _, v := range []Vars{pk.example, {}} {
				if _, err := eval(q.answer, pk.x().activation(&v)); err != nil {
					at("answer: %v", err)
					break
				}
			}
		}
	}
	return errs
}

// tryTemplate parses a text of the pack and executes it once with the
// example's values and once with none, so a misspelt field fails when
// the pack loads, not on a student's screen.
func (pk *Pack) tryTemplate(name, text string) (*tmpl, error) {
	t, err := parseBody(name, text)
	if err != nil {
		return nil, templateError(name, err)
	}
	if pk.readsDerived(t) {
		pk.usesDerived[t] = true
	}
	if pk.lazy {
		return t, nil
	}
	for _, v := range []Vars{pk.example, {}} {
		if _, err := execute(t, pk.dataFor(t, &v)); err != nil {
			return nil, templateError(name, err)
		}
	}
	return t, nil
}

// TemplateError is a text's mistake, at a line of the text.
type TemplateError struct {
	Line int // 1-based within the text; 0 not known
	Msg  string
}

func (e *TemplateError) Error() string { return e.Msg }

var tmplPos = regexp.MustCompile(`^(?:template: )?(.*?):(\d+)(?::\d+)?: (?:executing ".*?" at (<.*?>): )?`)

// templateError reads text/template's "template: NAME:LINE:COL: executing
// "NAME" at <.X>: what" into a line of the text and what.
func templateError(name string, err error) error {
	msg := err.Error()
	line := 0
	if m := tmplPos.FindStringSubmatch(msg); m != nil && m[1] == name {
		line, _ = strconv.Atoi(m[2])
		if msg = msg[len(m[0]):]; m[3] != "" {
			msg = m[3] + ": " + msg
		}
	} else {
		msg = strings.TrimPrefix(strings.TrimPrefix(msg, "template: "), name+": ")
	}
	return &TemplateError{Line: line, Msg: clean(msg)}
}

// askedKey is the text's value the question asks for, when the answer
// expression names one fact.
func (s Step) askedKey() string {
	if identifier(s.AnswerExpr) {
		return s.AnswerExpr
	}
	return ""
}

// Question is the step's question with the placeholders filled from v,
// or "" for a step without one.
func (s Step) Question(v Vars) string {
	if !s.Asks() || s.askTmpl == nil {
		return ""
	}
	out, err := execute(s.askTmpl, s.pack().dataFor(s.askTmpl, &v))
	if err != nil {
		return s.Ask
	}
	return strings.TrimSpace(out)
}

// RenderAsking is the body as shown while the step's question is not yet
// answered: the value asked for reads "?", so the text does not answer
// for the student what their terminal should. Without a question it is
// Render.
func (s Step) RenderAsking(v Vars) string {
	if !s.Asks() || s.tmpl == nil {
		return s.Render(v)
	}
	d := s.pack().dataFor(s.tmpl, &v)
	if key := s.askedKey(); key != "" {
		d[key] = "?"
		// The comparison with the example's value would name it.
		if diff, ok := d["Differs"].(map[string]bool); ok {
			diff[key] = false
		}
	}
	for _, h := range s.Hide {
		d[h] = ""
	}
	out, err := execute(s.tmpl, d)
	if err != nil {
		return s.Body
	}
	return out
}

// Answer is the right answer to the step's question in v, as text, and
// whether it is known.
func (s Step) Answer(v Vars) (string, bool) {
	q := s.compiled()
	if !s.Asks() || q == nil {
		return "", false
	}
	out, err := eval(q.answer, s.pack().x().activation(&v))
	if err != nil {
		return "", false
	}
	a := comparisons[s.Compare].text(out.Value())
	return a, a != ""
}

// Check judges a student's answer to the step's question against the live
// values. The comparison forgives case, spaces, quotes and the forms the
// terminal prints the value in (@if9 for 9, 198.19.22.132/32 for the
// address); a wrong answer gets the pack's hint at where to look.
func (s Step) Check(v Vars, answer string) Result {
	want, ok := s.Answer(v)
	if !ok {
		return Result{Unknown: true, Hint: "podlab cannot tell the answer from this lab; move on with n"}
	}
	in := normalize(answer)
	if in == "" {
		return Result{Hint: "type an answer, then enter"}
	}
	cmp := comparisons[s.Compare]
	got, form := cmp.read(in, want)
	if form != "" {
		return Result{Hint: form}
	}
	if same, why := cmp.same(got, want); same {
		return Result{OK: true, Hint: why}
	}
	pk := s.pack()
	act := pk.x().activation(&v)
	act["got"], act["want"] = got, want
	q := s.compiled()
	for i, w := range s.Wrong {
		if i >= len(q.wrong) {
			break
		}
		if out, err := eval(q.wrong[i], act); err == nil && out.Value() == true {
			return Result{Hint: s.say(w.say, v)}
		}
	}
	return Result{Hint: s.say(s.hintTmpl, v)}
}

func (s Step) say(t *tmpl, v Vars) string {
	if t == nil {
		return "not quite; look again at what this step shows"
	}
	out, err := execute(t, s.pack().dataFor(t, &v))
	if err != nil {
		return "not quite; look again at what this step shows"
	}
	return strings.TrimSpace(out)
}
