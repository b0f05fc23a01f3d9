package content

import (
	"bufio"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template"
)

//go:embed lesson/*.md
var files embed.FS

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
	// first: "addr", "link", "route", "neigh".
	PodViews, HostViews []string
	// Highlight names netview tags to light up: veth-pod, gateway,
	// route-local-pod, ...
	Highlight []string
	// Body is markdown with {{placeholders}}; see Render.
	Body string
	// Extra is "hash", "arp", "lookup" or "delete" for the steps beyond the lesson
	// text, "" otherwise.
	Extra string
	// CheckKind names what a self-paced student is asked at this step
	// (pod-ip, peer-index, host-if, ...; see CheckKinds), "" for none.
	CheckKind string
	// Ask is the question, with {{placeholders}} like Body; see Question.
	Ask string
	// Notes are the presenter's speaker notes, one paragraph a "notes:"
	// line: what to ask the class, what usually confuses, the answers.
	Notes []string

	tmpl, askTmpl *template.Template
	// cmdTmpls are the Commands' texts as templates, in order.
	cmdTmpls []*template.Template
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
	views  = []string{"addr", "link", "route", "neigh"}
	extras = []string{"hash", "arp", "lookup", "delete"}
)

var load = sync.OnceValues(func() ([]Section, error) { return parseFS(files, "lesson") })

// Lesson returns the lesson's sections in order. The embedded files are
// parsed once; each call returns its own copy.
func Lesson() ([]Section, error) {
	secs, err := load()
	if err != nil {
		return nil, err
	}
	out := slices.Clone(secs)
	for i := range out {
		out[i].Steps = slices.Clone(out[i].Steps)
		for j := range out[i].Steps {
			st := &out[i].Steps[j]
			st.Commands = slices.Clone(st.Commands)
			st.cmdTmpls = slices.Clone(st.cmdTmpls)
			st.PodViews = slices.Clone(st.PodViews)
			st.HostViews = slices.Clone(st.HostViews)
			st.Highlight = slices.Clone(st.Highlight)
			st.Notes = slices.Clone(st.Notes)
		}
	}
	return out, nil
}

// Render returns the step's body with the placeholders filled from v.
func (s Step) Render(v Vars) string {
	t := s.tmpl
	if t == nil {
		var err error
		if t, err = parseBody(s.Title, s.Body); err != nil {
			return s.Body
		}
	}
	out, err := execute(t, v.Data())
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
	data := v.Data()
	for i, t := range s.cmdTmpls {
		if text, err := execute(t, data); err == nil {
			out[i].Text = text
		}
	}
	return out
}

func parseBody(name, body string) (*template.Template, error) {
	return template.New(name).Option("missingkey=error").Parse(body)
}

func execute(t *template.Template, data map[string]any) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

func parseFS(fsys fs.FS, dir string) ([]Section, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.md"))
	if err != nil {
		return nil, err
	}
	var secs []Section
	for _, name := range names {
		num, _, ok := strings.Cut(path.Base(name), "-")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n < 1 {
			return nil, fmt.Errorf("content: %s: file name must start with the section number and a dash", name)
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		sec, err := parseSection(name, n, string(data))
		if err != nil {
			return nil, err
		}
		secs = append(secs, sec)
	}
	slices.SortFunc(secs, func(a, b Section) int { return a.Number - b.Number })
	for i, s := range secs {
		if s.Number != i+1 {
			return nil, fmt.Errorf("content: sections must be numbered 1, 2, 3, ...: found %d where %d belongs", s.Number, i+1)
		}
	}
	if len(secs) == 0 {
		return nil, fmt.Errorf("content: no lesson files in %s", dir)
	}
	return secs, nil
}

// parseSection reads one section file; errors name the file and line.
func parseSection(name string, number int, text string) (Section, error) {
	sec := Section{Number: number}
	fail := func(line int, format string, a ...any) (Section, error) {
		return Section{}, fmt.Errorf("content: %s:%d: %s", name, line, fmt.Sprintf(format, a...))
	}
	var (
		st      *Step
		body    []string
		inFence bool
		inMeta  bool
		metaAt  int
	)
	finish := func() error {
		if st == nil {
			return nil
		}
		st.Body = strings.TrimSpace(strings.Join(body, "\n")) + "\n"
		t, err := parseBody(st.ID(), st.Body)
		if err != nil {
			return fmt.Errorf("content: %s: step %q: %w", name, st.Title, err)
		}
		// Fail now, not on a student's screen, on a misspelt field.
		for _, v := range []Vars{LessonVars(), {}} {
			if _, err := execute(t, v.Data()); err != nil {
				return fmt.Errorf("content: %s: step %q: %w", name, st.Title, err)
			}
		}
		st.tmpl = t
		for i, c := range st.Commands {
			ct, err := parseBody(fmt.Sprintf("%s run %d", st.ID(), i+1), c.Text)
			if err == nil {
				for _, v := range []Vars{LessonVars(), {}} {
					if _, err = execute(ct, v.Data()); err != nil {
						break
					}
				}
			}
			if err != nil {
				return fmt.Errorf("content: %s: step %q: run: %w", name, st.Title, err)
			}
			st.cmdTmpls = append(st.cmdTmpls, ct)
		}
		if err := st.checkAsk(); err != nil {
			return fmt.Errorf("content: %s: step %q: %w", name, st.Title, err)
		}
		sec.Steps = append(sec.Steps, *st)
		return nil
	}
	sc := bufio.NewScanner(strings.NewReader(text))
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
			if err := st.setKey(trimmed); err != nil {
				return fail(ln, "%v", err)
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
				return Section{}, err
			}
			st = &Step{Section: number, Index: len(sec.Steps) + 1, Title: strings.TrimSpace(line[3:])}
			body = nil
			metaAt = ln + 1
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
			body = append(body, line)
		}
	}
	if inMeta {
		return fail(metaAt, "step block not closed with \"-->\"")
	}
	if inFence {
		return Section{}, fmt.Errorf("content: %s: code fence not closed", name)
	}
	if err := finish(); err != nil {
		return Section{}, err
	}
	if len(sec.Steps) == 0 {
		return Section{}, fmt.Errorf("content: %s: no steps", name)
	}
	for i := range sec.Steps {
		st := &sec.Steps[i]
		if st.Where == "" {
			return Section{}, fmt.Errorf("content: %s: step %q: missing \"where:\"", name, st.Title)
		}
		if strings.TrimSpace(st.Body) == "" {
			return Section{}, fmt.Errorf("content: %s: step %q: empty body", name, st.Title)
		}
		for j := range st.Commands {
			if st.Commands[j].Where == "" {
				st.Commands[j].Where = st.Where
			}
		}
	}
	return sec, nil
}

// setKey applies one "key: value" line of a step block.
func (st *Step) setKey(line string) error {
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
	case key == "pod", key == "host":
		for _, v := range strings.Fields(val) {
			if err := oneOf(v, views); err != nil {
				return err
			}
			if key == "pod" {
				st.PodViews = append(st.PodViews, v)
			} else {
				st.HostViews = append(st.HostViews, v)
			}
		}
	case key == "highlight":
		st.Highlight = append(st.Highlight, strings.Fields(val)...)
	case key == "extra":
		if err := oneOf(val, extras); err != nil {
			return err
		}
		st.Extra = val
	case key == "check":
		if err := oneOf(val, CheckKinds()); err != nil {
			return err
		}
		st.CheckKind = val
	case key == "ask":
		st.Ask = val
	case key == "notes":
		st.Notes = append(st.Notes, val)
	default:
		return fmt.Errorf("unknown key %q (want where, run, pod, host, highlight, extra, check, ask or notes)", key)
	}
	return nil
}

// checkAsk validates a step's question: "check:" and "ask:" come
// together, the question's placeholders exist, and it does not share the
// step with the lookup prompt (both take what the student types).
func (st *Step) checkAsk() error {
	switch {
	case st.CheckKind == "" && st.Ask == "":
		return nil
	case st.CheckKind == "":
		return fmt.Errorf("\"ask:\" needs a \"check:\" saying what answers it")
	case st.Ask == "":
		return fmt.Errorf("\"check: %s\" needs an \"ask:\" question", st.CheckKind)
	case st.Extra == "lookup":
		return fmt.Errorf("\"check:\" and \"extra: lookup\" cannot share a step: both take typed input")
	}
	t, err := parseAsk(st.ID(), st.Ask)
	if err != nil {
		return fmt.Errorf("ask: %w", err)
	}
	st.askTmpl = t
	return nil
}
