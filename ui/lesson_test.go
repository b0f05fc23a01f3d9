package ui

import (
	"strings"
	"testing"

	"podlab/content"
)

// lessonDocs is every step's text with the lesson's own values.
func lessonDocs(t testing.TB) []lessonDoc {
	t.Helper()
	secs, err := content.Lesson()
	if err != nil {
		t.Fatal(err)
	}
	var docs []lessonDoc
	for _, s := range secs {
		for _, st := range s.Steps {
			docs = append(docs, lessonDoc{markdown: st.Render(content.LessonVars())})
		}
	}
	return docs
}

// sgrOf is the SGR sequence a style opens its text with.
func sgrOf(t *testing.T, render func(...string) string) string {
	t.Helper()
	open, _, ok := strings.Cut(render("x"), "x")
	if !ok || open == "" {
		t.Fatalf("the style opens with nothing: %q", render("x"))
	}
	return open
}

// The lesson's text keeps bold and underline without colour, and gives
// inline code its colours with colour.
func TestLessonTextStyles(t *testing.T) {
	docs := lessonDocs(t)
	for _, noColor := range []bool{true, false} {
		for _, dark := range []bool{true, false} {
			th := NewTheme(dark, noColor)
			name := "colour"
			if noColor {
				name = "nocolor"
			}
			if dark {
				name += "-dark"
			}
			t.Run(name, func(t *testing.T) {
				var b strings.Builder
				for _, d := range docs {
					l := newLessonPane(&shared{theme: th})
					l.setSize(80, 200)
					l.setDoc(d, true)
					b.WriteString(l.View())
				}
				out := b.String()
				want := map[string]string{"bold": sgrOf(t, th.Prose.Strong.Render), "emphasis": sgrOf(t, th.Prose.Emph.Render)}
				if noColor {
					if sgrColour.MatchString(out) {
						t.Errorf("NoColor lesson text has colours")
					}
				} else {
					want["inline code"] = sgrOf(t, th.Prose.Code.Render)
				}
				for what, seq := range want {
					if !strings.Contains(out, seq) {
						t.Errorf("no %s (%q) in the lesson's text", what, seq)
					}
				}
			})
		}
	}
}

func BenchmarkLessonRefresh(b *testing.B) {
	docs := lessonDocs(b)
	for _, w := range []int{80, 160} {
		b.Run(itoa(w), func(b *testing.B) {
			l := newLessonPane(&shared{theme: NewTheme(true, false)})
			l.setSize(w, 20)
			i := 0
			for b.Loop() {
				l.setDoc(docs[i%len(docs)], true)
				i++
			}
		})
	}
}
