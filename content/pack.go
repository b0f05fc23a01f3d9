package content

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"podlab/netview"
	"podlab/packs"
)

// Pack is one lesson as data: its manifest and its sections, loaded,
// checked and ready to render. Never changed once loaded.
type Pack struct {
	Manifest
	Sections []Section
	// Source says where it came from: "built-in" or the directory.
	Source string

	example Vars
	// lazy: the pack is built in and its tests lint it, so its
	// expressions are compiled when first needed, off the start-up path.
	lazy    bool
	xOnce   sync.Once
	xv      *exprs
	xerrs   []error
	derived map[string]bool // the derived values' names
	// usesDerived says which templates read a derived value, so the rest
	// are rendered without evaluating any.
	usesDerived map[*tmpl]bool
}

// x is the pack's compiled expressions, compiled once.
func (pk *Pack) x() *exprs {
	pk.xOnce.Do(func() {
		pk.xv, pk.xerrs = compileManifest(pk, path.Join(pk.Source, "pack.yaml"))
		if pk.xv == nil {
			pk.xv = &exprs{questions: map[StepID]*question{}}
		}
		for _, sec := range pk.Sections {
			for i := range sec.Steps {
				st := &sec.Steps[i]
				if err := pk.xv.compileQuestion(st); err != nil {
					pk.xerrs = append(pk.xerrs, fmt.Errorf("%s:%d: step %q: %w", st.File, st.Line, st.Title, err))
				}
			}
		}
	})
	return pk.xv
}

// Size bounds of a pack: it is outside input, like a recording.
const (
	MaxManifestBytes = 64 << 10
	MaxSectionBytes  = 256 << 10
	MaxSections      = 32
	MaxSteps         = 256
)

// BuiltinName is the pack podlab runs when none is named.
const BuiltinName = "pod-connectivity"

var builtins sync.Map // name → func() (*Pack, error)

// Builtin returns a pack built into podlab, loaded once.
func Builtin(name string) (*Pack, error) {
	if !slices.Contains(BuiltinNames(), name) {
		return nil, fmt.Errorf("no built-in pack %q (podlab pack list names them)", netview.Clean(name))
	}
	f, _ := builtins.LoadOrStore(name, sync.OnceValues(func() (*Pack, error) {
		pk, errs := load(packs.FS, name, true)
		if len(errs) > 0 {
			return nil, errs[0]
		}
		pk.Source = "built-in"
		return pk, nil
	}))
	return f.(func() (*Pack, error))()
}

// BuiltinNames are the packs built into podlab, sorted.
func BuiltinNames() []string {
	ents, _ := fs.ReadDir(packs.FS, ".")
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

var loadLesson = sync.OnceValues(func() (*Pack, error) { return Builtin(BuiltinName) })

// Lesson returns the built-in lesson's sections in order; each call
// returns its own copy.
func Lesson() ([]Section, error) {
	pk, err := loadLesson()
	if err != nil {
		return nil, err
	}
	return pk.Copy(), nil
}

// Copy returns the pack's sections, each call its own copy.
func (pk *Pack) Copy() []Section {
	out := slices.Clone(pk.Sections)
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
			st.Wrong = slices.Clone(st.Wrong)
			st.Hide = slices.Clone(st.Hide)
		}
	}
	return out
}

// Example is the pack's example lab's values.
func (pk *Pack) Example() Vars { return pk.example }

// LessonVars are the values of the built-in lesson's own example.
func LessonVars() Vars {
	pk, err := loadLesson()
	if err != nil {
		return Vars{}
	}
	return pk.example
}

// ID names the pack and its version: "pod-connectivity@1.0.0".
func (pk *Pack) ID() string { return pk.Name + "@" + pk.Version }

// Load reads, checks and compiles the pack in dir of fsys. Every error
// names its file and line; a pack with errors is not returned.
func Load(fsys fs.FS, dir string) (*Pack, []error) { return load(fsys, dir, false) }

func load(fsys fs.FS, dir string, lazy bool) (*Pack, []error) {
	mf := path.Join(dir, "pack.yaml")
	data, err := readBounded(fsys, mf, MaxManifestBytes)
	if err != nil {
		return nil, []error{err}
	}
	m, errs := parseManifest(mf, data)
	if m == nil {
		return nil, errs
	}
	pk := &Pack{Manifest: *m, Source: dir, lazy: lazy, derived: map[string]bool{}, usesDerived: map[*tmpl]bool{}}
	for _, d := range m.Derived {
		pk.derived[d.Name] = true
	}
	for name, val := range m.Example {
		_ = setFact(&pk.example, name, val) // checked by parseManifest
	}
	if !lazy {
		// Compiled now, so each step's expressions compile as it is read.
		pk.x()
		errs = append(errs, pk.xerrs...)
	}
	// The sections are read even when the manifest has mistakes, so lint
	// lists both at once.
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, append(errs, fmt.Errorf("%s: %w", dir, errors.Unwrap(err)))
	}
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".md") {
			names = append(names, path.Join(dir, e.Name()))
		}
	}
	if len(names) > MaxSections {
		return nil, []error{fmt.Errorf("%s: %d section files, more than a pack may hold (%d)", dir, len(names), MaxSections)}
	}
	steps := 0
	for _, name := range names {
		num, _, ok := strings.Cut(path.Base(name), "-")
		n, err := atoiSection(num)
		if !ok || err != nil {
			errs = append(errs, fmt.Errorf("%s:1: a section file's name starts with its number and a dash", name))
			continue
		}
		data, err := readBounded(fsys, name, MaxSectionBytes)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sec, serrs := pk.parseSection(name, n, cleanText(string(data)))
		if len(serrs) > 0 {
			errs = append(errs, serrs...)
			continue
		}
		steps += len(sec.Steps)
		pk.Sections = append(pk.Sections, sec)
	}
	if steps > MaxSteps {
		errs = append(errs, fmt.Errorf("%s: %d steps, more than a pack may hold (%d)", dir, steps, MaxSteps))
	}
	slices.SortFunc(pk.Sections, func(a, b Section) int { return a.Number - b.Number })
	for i, s := range pk.Sections {
		if s.Number != i+1 && len(errs) == 0 {
			errs = append(errs, fmt.Errorf("%s: sections must be numbered 1, 2, 3, ...: found %d where %d belongs", dir, s.Number, i+1))
		}
	}
	if len(pk.Sections) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("%s: no section files (1-first.md, 2-second.md, ...)", dir))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if !lazy {
		if errs := pk.validateQuestions(); len(errs) > 0 {
			return nil, errs
		}
	}
	return pk, nil
}

func atoiSection(s string) (int, error) {
	n := 0
	if s == "" || len(s) > 3 {
		return 0, errors.New("not a section number")
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errors.New("not a section number")
		}
		n = n*10 + int(c-'0')
	}
	if n < 1 {
		return 0, errors.New("not a section number")
	}
	return n, nil
}

// readBounded reads one file of a pack, refusing one over limit bytes.
func readBounded(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, errors.Unwrap(err))
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s:1: not a regular file", name)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s:1: longer than a pack file may be (%d KiB)", name, limit>>10)
	}
	return data, nil
}

// cleanText makes a pack's markdown safe for a terminal: each line as
// netview.Clean makes a name (a tab reads as spaces), the newlines kept.
func cleanText(s string) string {
	if netview.IsClean(strings.ReplaceAll(s, "\n", " ")) {
		return s
	}
	lines := strings.Split(strings.ReplaceAll(s, "\t", "    "), "\n")
	for i, l := range lines {
		lines[i] = netview.Clean(strings.TrimSuffix(l, "\r"))
	}
	return strings.Join(lines, "\n")
}

// clean is netview.Clean, for the pack's own strings.
func clean(s string) string { return netview.Clean(s) }

// parseSection reads one section file as a section of a pack with the
// built-in lesson's manifest, checked as Load checks, for tests of the
// step format.
func parseSection(name string, number int, text string) (Section, error) {
	b, err := loadLesson()
	if err != nil {
		return Section{}, err
	}
	pk := &Pack{Manifest: b.Manifest, Source: b.Source, example: b.example, derived: b.derived, usesDerived: map[*tmpl]bool{}}
	pk.x()
	sec, errs := pk.parseSection(name, number, text)
	if len(errs) > 0 {
		return Section{}, errors.Join(errs...)
	}
	pk.Sections = []Section{sec}
	return sec, errors.Join(append(pk.xerrs, pk.validateQuestions()...)...)
}
