package content

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"podlab/netview"
)

// viewReaders says which reader each view of a pane needs.
var viewReaders = map[string]string{"addr": "netlink", "link": "netlink", "route": "netlink", "neigh": "netlink",
	"bird": "bird", "nat": "nat", "pools": "resources", "peers": "resources", "bgp": "resources",
	"services": "resources", "endpoints": "resources"}

// Lint loads the pack in dir and checks it as a student's podlab would
// use it: every error as "file:line: what is wrong". Beyond Load, it runs
// every derived value, wrong-answer condition and lab check against an
// empty lab, the pack's example values and each lab given (the built-in
// recording, for one), and holds each step's views and places against
// what the manifest declares.
func Lint(fsys fs.FS, dir string, labs ...*netview.Pair) []error {
	pk, errs := Load(fsys, dir)
	if len(errs) > 0 {
		return errs
	}
	mf := path.Join(dir, "pack.yaml")
	places := append([]string{"local"}, pk.Places...)
	for _, sec := range pk.Sections {
		for _, st := range sec.Steps {
			at := func(format string, a ...any) {
				errs = append(errs, fmt.Errorf("%s:%d: step %q: %s", st.File, st.Line, st.Title, fmt.Sprintf(format, a...)))
			}
			for _, v := range slices.Concat(st.PodViews, st.HostViews) {
				if r := viewReaders[v]; !slices.Contains(pk.Readers, r) {
					at("view %s needs the %s reader, which pack.yaml does not declare (readers:)", v, r)
				}
			}
			if st.Where != "" && !slices.Contains(places, st.Where) {
				at("where: %s is not one of the pack's places (places: in pack.yaml)", st.Where)
			}
			for _, c := range st.Commands {
				if c.Where != "" && !slices.Contains(places, c.Where) {
					at("run@%s: not one of the pack's places (places: in pack.yaml)", c.Where)
				}
			}
			for _, v := range []Vars{{}, pk.example} {
				act := pk.x().activation(&v)
				// got as the comparison reads an answer: a number for
				// index and int, text for the rest.
				act["got"], act["want"] = any(""), ""
				if st.Compare == "index" || st.Compare == "int" {
					act["got"] = int64(0)
				}
				q := pk.x().questions[st.Pos()]
				for i, w := range st.Wrong {
					if q == nil || i >= len(q.wrong) {
						break
					}
					if _, err := eval(q.wrong[i], act); err != nil {
						at("wrong: %s: %v", clean(w.When), err)
					}
				}
			}
		}
	}
	for _, d := range pk.x().derived {
		for _, v := range []Vars{{}, pk.example} {
			if _, err := eval(d.prog, pk.x().activation(&v)); err != nil {
				errs = append(errs, fmt.Errorf("%s:1: derived value %s: %v", mf, d.name, err))
			}
		}
	}
	for _, p := range append([]*netview.Pair{{}}, labs...) {
		for name, missing := range pk.runChecks(p, ptr(netview.Analyze(p))) {
			for _, m := range missing {
				if strings.HasPrefix(m, "the check could not run") || strings.HasPrefix(m, "the check's words could not") {
					line := 1
					for _, c := range pk.Checks {
						if c.Name == name {
							line = c.Line
						}
					}
					errs = append(errs, fmt.Errorf("%s:%d: check %s: %s", mf, line, name, m))
				}
			}
		}
	}
	slices.SortStableFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return slices.CompactFunc(errs, func(a, b error) bool { return a.Error() == b.Error() })
}

func ptr[T any](v T) *T { return &v }

// NewPack is the scaffold `podlab pack new` writes: a manifest and one
// section, which lint clean and run on the built-in recording.
func NewPack(name string) (map[string]string, error) {
	if !packName.MatchString(name) {
		return nil, fmt.Errorf("pack name %q: lowercase letters, digits and dashes, starting with a letter", clean(name))
	}
	return map[string]string{
		"pack.yaml": fmt.Sprintf(`# A podlab lesson pack. docs/packs.md says what every key means;
# podlab pack lint DIR checks it.
format: %d
name: %s
title: A new lesson
course: Your course
lesson: Your lesson
version: 0.1.0
places: [host1, pod, node]
panes: [pod, host]
readers: [netlink]
labs: [cluster, sandbox, replay]
privileges:
  - need: root on the pod's node, or sudo -n podlab collect --pod-ip ADDRESS
    why: to read the pod's and the node's network namespaces (read only)

# Your lesson's own values: the text can show them beside the student's.
example:
  PodIP: 198.19.22.132
  Node: node1
differs: [PodIP, Node]

checks:
  - name: pod-address
    tags: [pod-ip]
    rules:
      - fail: PodIP == ""
        say: the pod has no address podlab can see
`, FormatVersion, name),
		"1-first-look.md": `# A First Look

## The pod's address
<!-- step
where: pod
run: ip addr
pod: addr
host: route
highlight: pod-ip
ask: What address does the pod's eth0 hold?
answer: PodIP
compare: address
wrong: got == Gateway => that is the gateway; the pod's own address is on eth0
hint: look at the inet line of eth0 in ip addr
notes: Ask: why a /32?
-->
The pod's eth0 holds **{{.PodIP}}**, and the pod runs on **{{.Node}}**.{{if .Differs.PodIP}}
(The lesson showed {{.Lesson.PodIP}}.){{end}}
`,
	}, nil
}
