package content

import (
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"podlab/netview"
	"podlab/packs"
)

// copyPack is a pack's files as a map file system, to edit.
func copyPack(t *testing.T, fsys fs.FS, dir string) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		out["p/"+strings.TrimPrefix(p, dir+"/")] = &fstest.MapFile{Data: data}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func edit(t *testing.T, m fstest.MapFS, file, old, new string) {
	t.Helper()
	s := string(m[file].Data)
	if !strings.Contains(s, old) {
		t.Fatalf("%s has no %q", file, old)
	}
	m[file] = &fstest.MapFile{Data: []byte(strings.Replace(s, old, new, 1))}
}

func TestPacksLintClean(t *testing.T) {
	lab := lessonPair(t)
	for _, tc := range []struct {
		name string
		fsys fs.FS
		dir  string
	}{
		{"built-in", packs.FS, BuiltinName},
		{"bgp-peering", packs.FS, "bgp-peering"},
		{"kube-proxy", packs.FS, "kube-proxy"},
		{"example", os.DirFS("../examples"), "gateway-basics"},
		{"scaffold", scaffold(t), "p"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if errs := Lint(tc.fsys, tc.dir, lab); len(errs) > 0 {
				t.Errorf("lint: %v", errs)
			}
		})
	}
}

func scaffold(t *testing.T) fstest.MapFS {
	t.Helper()
	files, err := NewPack("my-lesson")
	if err != nil {
		t.Fatal(err)
	}
	m := fstest.MapFS{}
	for name, text := range files {
		m["p/"+name] = &fstest.MapFile{Data: []byte(text)}
	}
	return m
}

// TestLintFinds: each kind of mistake an author makes is caught, with the
// file and line it is on.
func TestLintFinds(t *testing.T) {
	const sec = "p/2-pods.md"
	tests := []struct {
		name, file, old, new string
		want                 string // file:line and words of the error
	}{
		{"unknown view", sec, "pod: addr link route\n", "pod: addr links route\n", `p/2-pods.md:33: pod: "links" is not one of`},
		{"unknown pane", sec, "pod: addr link route\n", "node: addr\n", `p/2-pods.md:33: unknown key "node"`},
		{"unknown fact in an answer", sec, "answer: PodPeerIndex\n", "answer: PodPeerIdx\n", `p/2-pods.md:69: step "The pod's end of the veth pair": answer: PodPeerIdx: undeclared reference to 'PodPeerIdx'`},
		{"unknown function", sec, "wrong: isLoopback(got)", "wrong: isLoopbak(got)", `undeclared reference to 'isLoopbak'`},
		{"wrong type for its comparison", sec, "answer: PodPeerIndex\n", "answer: PodIP\n", `p/2-pods.md:69: step "The pod's end of the veth pair": answer: PodIP is string, want int`},
		{"template error", sec, "`ip addr` shows two interfaces.", "`ip addr` shows {{.Interfaces}} interfaces.", `p/2-pods.md:54: step "The pod's addresses": <.Interfaces>: map has no entry for key`},
		{"template function refused", sec, "`ip addr` shows two interfaces.", "{{printf \"%099999999d\" 1}}", `the function "printf" is not allowed`},
		{"template loop refused", sec, "`ip addr` shows two interfaces.", "{{range .Lesson}}x{{end}}", `{{range}} is not allowed`},
		{"missing manifest field", "p/pack.yaml", "title: Pod Connectivity Fundamentals\n", "", `p/pack.yaml:1: missing "title"`},
		{"unknown manifest key", "p/pack.yaml", "title: Pod", "colour: red\ntitle: Pod", `p/pack.yaml:5: field colour not found`},
		{"reader not declared", "p/pack.yaml", "readers: [netlink]", "readers: []", `p/2-pods.md:3: step "Find the customer pod": view addr needs the netlink reader, which pack.yaml does not declare`},
		{"unknown reader", "p/pack.yaml", "readers: [netlink]", "readers: [netlink, birdc]", `p/pack.yaml:11: readers: "birdc" is not one of`},
		{"place not declared", "p/pack.yaml", "places: [host1, pod, node]", "places: [pod, node]", `step "Find the customer pod": where: host1 is not one of the pack's places`},
		{"bad check expression", "p/pack.yaml", `fail: "!VethAgree"`, `fail: "VethAgree + 1"`, `p/pack.yaml:`},
		{"check not bool", "p/pack.yaml", `fail: "!VethAgree"`, `fail: VethReason`, `VethReason is string, want bool`},
		{"check template error", "p/pack.yaml", "say: the node has no default route", "say: the node has {{.Nope}}", `p/pack.yaml:`},
		{"bad example", "p/pack.yaml", "PodIndex: \"3\"", "PodIndex: three", `p/pack.yaml:18: example: PodIndex: "three" is not a number`},
		{"unknown tag", sec, "highlight: veth-pod netnsid\n", "highlight: veth-pod netns\n", `p/2-pods.md:74: highlight: "netns" is not one of`},
		{"newer format", "p/pack.yaml", "format: 1", "format: 2", `p/pack.yaml:3: format 2 is not one this podlab reads`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := copyPack(t, packs.FS, BuiltinName)
			edit(t, m, tt.file, tt.old, tt.new)
			errs := Lint(m, "p", lessonPair(t))
			if len(errs) == 0 {
				t.Fatalf("lint found nothing, want %q", tt.want)
			}
			var all []string
			for _, e := range errs {
				all = append(all, e.Error())
				if !strings.HasPrefix(e.Error(), "p/") || strings.Contains(e.Error(), "\n") {
					t.Errorf("error %q is not one file:line line", e)
				}
			}
			if !strings.Contains(strings.Join(all, "\n"), tt.want) {
				t.Errorf("lint said:\n%s\nwant a line with %q", strings.Join(all, "\n"), tt.want)
			}
		})
	}
}

// TestEditedPackShows: a copy of the lesson with one step's text and one
// question's answer edited loads and shows both edits.
func TestEditedPackShows(t *testing.T) {
	m := copyPack(t, packs.FS, BuiltinName)
	edit(t, m, "p/2-pods.md", "`ip addr` shows two interfaces.", "`ip addr` shows two interfaces, said the edited pack.")
	edit(t, m, "p/2-pods.md", "answer: PodPeerIndex\n", "answer: PodIndex\n")
	pk, errs := Load(m, "p")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	st := pk.Sections[1].Steps[2]
	if !strings.Contains(st.Render(pk.Example()), "said the edited pack") {
		t.Errorf("the edited text is not shown:\n%s", st.Render(pk.Example()))
	}
	q := pk.Sections[1].Steps[3]
	if a, _ := q.Answer(pk.Example()); a != "3" {
		t.Errorf("the edited answer is %q, want the pod's own index 3", a)
	}
	if !q.Check(pk.Example(), "3").OK || q.Check(pk.Example(), "9").OK {
		t.Errorf("the edited question does not judge by its new answer")
	}
}

var _ = netview.Clean

// TestFunctions: podlab's CEL functions compute what a lab's names are.
func TestFunctions(t *testing.T) {
	env, err := newEnv(false)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ expr, want string }{
		{`kubeSvcChain("yaobank", "summary", "http", "tcp")`, "KUBE-SVC-OIQIZJVJK6E34BR4"},
		{`caliName("yaobank", "customer-574bd6cc75-2blnv")`, "caliea2aa288365"},
		{`vethName("tap", "yaobank", "customer-574bd6cc75-2blnv")`, "tapea2aa288365"},
		{`masked("198.19.22.130/26")`, "198.19.22.128/26"},
		{`string(overlaps("198.19.22.128/26", "198.19.22.128/24"))`, "true"},
		{`string(isLoopback("127.0.0.1")) + string(isAddress("node1"))`, "truefalse"},
		{`kubeSepChain("yaobank", "summary", "http", "tcp", "198.19.21.66:80").startsWith("KUBE-SEP-")`, ""},
		{`blockOwner("198.19.21.70", [{"cidr": "198.19.21.0/26", "node": "control"}, {"cidr": "198.19.21.64/26", "node": "node2"}])`, "node2"},
		{`blockOwner("198.19.21.64/26", [{"cidr": "198.19.21.64/26", "node": "node2"}])`, "node2"},
		{`blockOwner("10.0.0.1", [{"cidr": "198.19.21.64/26", "node": "node2"}]) == ""`, ""},
	} {
		prog, err := compile(env, "t", Expr{Text: tc.expr}, nil, ValueCostLimit)
		if err != nil {
			t.Fatal(err)
		}
		out, err := eval(prog, map[string]any{})
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if got := fmt.Sprint(out.Value()); tc.want != "" && got != tc.want || tc.want == "" && got != "true" {
			t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
		}
	}
}
