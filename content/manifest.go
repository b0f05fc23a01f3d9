package content

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"podlab/netview"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FormatVersion is the pack format this podlab reads.
const FormatVersion = 1

// Manifest is a pack's pack.yaml.
type Manifest struct {
	Format  int    `yaml:"format"`
	Name    string `yaml:"name"`
	Title   string `yaml:"title"`
	Course  string `yaml:"course"`
	Lesson  string `yaml:"lesson"`
	Version string `yaml:"version"`
	// Places are where the lesson reads state: pod, node, host1,
	// other-node.
	Places []string `yaml:"places"`
	// Panes name the lesson's panes, left to right.
	Panes []string `yaml:"panes"`
	// Readers are the kinds of state it reads: netlink, and those the
	// labs add.
	Readers []string `yaml:"readers"`
	// Labs are the lab kinds it runs on: cluster, sandbox, replay.
	Labs       []string    `yaml:"labs"`
	Privileges []Privilege `yaml:"privileges"`
	// Example holds the lesson's own values by fact name: what the text
	// shows under .Lesson, and what lint evaluates every template and
	// expression with.
	Example map[string]string `yaml:"example"`
	// Differs names the example's values the text sets against the live
	// lab's (.Differs).
	Differs []string   `yaml:"differs"`
	Derived []Derived  `yaml:"derived"`
	Checks  []LabCheck `yaml:"checks"`

	lines map[string]int // top-level key → line, for errors
}

// Privilege is one right the pack's lab needs, and why.
type Privilege struct {
	Need string `yaml:"need"`
	Why  string `yaml:"why"`
}

// Derived is a value a pack names once and reads in its text and
// expressions: a CEL expression over the facts and the derived values
// before it.
type Derived struct {
	Name string `yaml:"name"`
	Expr Expr   `yaml:"expr"`
}

// LabCheck proves one piece of the lab a step points at. A step relies on
// the checks whose tags it highlights.
type LabCheck struct {
	Name  string      `yaml:"name"`
	Tags  []string    `yaml:"tags"`
	Rules []CheckRule `yaml:"rules"`
	Line  int         `yaml:"-"`
}

// CheckRule says what is missing when its expression holds: for each
// element of For's list when it has one ("x in LIST"), the first of its
// cases that fails says so, in the pack's words (a template).
type CheckRule struct {
	For   string      `yaml:"for"`
	Fail  Expr        `yaml:"fail"`
	Say   string      `yaml:"say"`
	Cases []CheckCase `yaml:"cases"`
	Line  int         `yaml:"-"`
}

// CheckCase is one condition and its words.
type CheckCase struct {
	Fail Expr   `yaml:"fail"`
	Say  string `yaml:"say"`
	Line int    `yaml:"-"`
}

// Expr is a CEL expression as written, with the line it is on.
type Expr struct {
	Text string
	Line int
}

func (e *Expr) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: an expression is one string", n.Line)
	}
	e.Text, e.Line = n.Value, n.Line
	return nil
}

func (c *LabCheck) UnmarshalYAML(n *yaml.Node) error {
	type plain LabCheck
	if err := n.Decode((*plain)(c)); err != nil {
		return err
	}
	c.Line = n.Line
	return nil
}

func (r *CheckRule) UnmarshalYAML(n *yaml.Node) error {
	type plain CheckRule
	if err := n.Decode((*plain)(r)); err != nil {
		return err
	}
	r.Line = n.Line
	return nil
}

func (c *CheckCase) UnmarshalYAML(n *yaml.Node) error {
	type plain CheckCase
	if err := n.Decode((*plain)(c)); err != nil {
		return err
	}
	c.Line = n.Line
	return nil
}

// leftPanes are the panes of m that take the left of the screen.
func (m *Manifest) leftPanes() []string {
	var out []string
	for _, p := range m.Panes {
		if p != "host" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// LeftPane is what the pack's left pane shows: pod (the default),
// host1 or cluster.
func (m *Manifest) LeftPane() string {
	if l := m.leftPanes(); len(l) > 0 {
		return l[0]
	}
	return "pod"
}

// Wants is what a lab must read for the pack beyond the pod's and its
// node's namespaces: host1 when a pane shows it, and the readers it
// declares besides netlink.
func (m *Manifest) Wants() netview.Wants {
	return netview.Wants{
		Host1:     slices.Contains(m.Panes, "host1"),
		Bird:      slices.Contains(m.Readers, "bird"),
		NAT:       slices.Contains(m.Readers, "nat"),
		Resources: slices.Contains(m.Readers, "resources") || slices.Contains(m.Panes, "cluster"),
	}
}

// Places, panes, readers and lab kinds a manifest may name.
var (
	manifestPlaces = []string{"pod", "node", "host1", "other-node"}
	// A pack's left pane is one of pod, host1 and cluster; its right
	// pane is host, the pod's node.
	knownPanes   = []string{"pod", "host", "host1", "cluster"}
	knownReaders = []string{"netlink", "bird", "nat", "resources"}
	knownLabs    = []string{"cluster", "sandbox", "replay"}
)

var (
	packName    = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	packVersion = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.+-]{0,31}$`)
)

// parseManifest reads pack.yaml; every error is "file:line: what".
func parseManifest(file string, data []byte) (*Manifest, []error) {
	var m Manifest
	var errs []error
	fail := func(line int, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", file, line, fmt.Sprintf(format, a...)))
	}
	// Top-level keys start a line; their lines name errors.
	m.lines = map[string]int{}
	for i, l := range strings.Split(string(data), "\n") {
		if k, _, ok := strings.Cut(l, ":"); ok && k != "" && k[0] != ' ' && k[0] != '#' && k[0] != '-' {
			if _, seen := m.lines[k]; !seen {
				m.lines[k] = i + 1
			}
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, []error{fmt.Errorf("%s:1: a manifest is a mapping of keys (format, name, title, ...)", file)}
		}
		return nil, []error{yamlError(file, err)}
	}
	m.clean()
	line := func(key string) int { return max(m.lines[key], 1) }
	for _, req := range []struct {
		key string
		set bool
	}{{"format", m.Format != 0}, {"name", m.Name != ""}, {"title", m.Title != ""}, {"course", m.Course != ""},
		{"lesson", m.Lesson != ""}, {"version", m.Version != ""}, {"places", len(m.Places) > 0},
		{"panes", len(m.Panes) > 0}, {"labs", len(m.Labs) > 0}} {
		if !req.set {
			fail(1, "missing %q", req.key)
		}
	}
	if m.Format != 0 && m.Format != FormatVersion {
		fail(line("format"), "format %d is not one this podlab reads (%d): a newer podlab may", m.Format, FormatVersion)
	}
	if m.Version != "" && !packVersion.MatchString(m.Version) {
		fail(line("version"), "version %q: letters, digits, dots, dashes and pluses, at most 32 (1.0.0)", m.Version)
	}
	if m.Name != "" && !packName.MatchString(m.Name) {
		fail(line("name"), "name %q: lowercase letters, digits and dashes, starting with a letter", clean(m.Name))
	}
	for _, l := range []struct {
		key     string
		got     []string
		allowed []string
	}{{"places", m.Places, manifestPlaces}, {"panes", m.Panes, knownPanes}, {"readers", m.Readers, knownReaders}, {"labs", m.Labs, knownLabs}} {
		for _, v := range l.got {
			if !slices.Contains(l.allowed, v) {
				fail(line(l.key), "%s: %q is not one of %s", l.key, clean(v), strings.Join(l.allowed, ", "))
			}
		}
	}
	if left := m.leftPanes(); len(left) > 1 {
		fail(line("panes"), "panes: %s all take the left pane; name one of them, and host for the right", strings.Join(left, " and "))
	}
	for name, val := range m.Example {
		f, ok := factNamed(name)
		if !ok || f.field == nil {
			fail(line("example"), "example: %q is not a fact an example can set (see podlab pack facts)", clean(name))
			continue
		}
		var v Vars
		if err := setFact(&v, name, val); err != nil {
			fail(line("example"), "example: %v", err)
		}
	}
	for _, d := range m.Differs {
		if _, ok := m.Example[d]; !ok {
			fail(line("differs"), "differs: %q has no example value to differ from", clean(d))
		}
	}
	return &m, errs
}

// clean makes the manifest's words safe for a terminal, where they enter.
func (m *Manifest) clean() {
	for _, p := range []*string{&m.Name, &m.Title, &m.Course, &m.Lesson, &m.Version} {
		*p = clean(*p)
	}
	for _, l := range [][]string{m.Places, m.Panes, m.Readers, m.Labs, m.Differs} {
		for i := range l {
			l[i] = clean(l[i])
		}
	}
	for i := range m.Privileges {
		m.Privileges[i].Need, m.Privileges[i].Why = clean(m.Privileges[i].Need), clean(m.Privileges[i].Why)
	}
	for k, v := range m.Example {
		m.Example[k] = clean(v)
	}
}

// yamlError puts the file in front of the YAML parser's own message,
// which names the line.
func yamlError(file string, err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			return fmt.Errorf("%s:%s: %s", file, n, after)
		}
	}
	return fmt.Errorf("%s:1: %s", file, msg)
}
