package prose

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"podlab/content"
	"podlab/internal/hostile"
)

// testStyles gives every kind of text a style of its own, in the basic
// colours so that goldens stay readable.
func testStyles() Styles {
	s := lipgloss.NewStyle
	return Styles{
		H1:        s().Bold(true).Reverse(true),
		Heading:   s().Bold(true).Foreground(lipgloss.Blue),
		Strong:    s().Bold(true),
		Emph:      s().Italic(true),
		Code:      s().Foreground(lipgloss.Red).Background(lipgloss.White),
		CodeBlock: s().Foreground(lipgloss.Cyan),
		Link:      s().Foreground(lipgloss.Green),
		URL:       s().Foreground(lipgloss.Magenta),
		Marker:    s().Foreground(lipgloss.Yellow),
		Rule:      s().Foreground(lipgloss.BrightBlack),
	}
}

// lines is the expected rendering, one string a line.
func lines(l ...string) string { return strings.Join(l, "\n") }

func TestRenderPlain(t *testing.T) {
	tests := []struct {
		name  string
		md    string
		width int
		want  string
	}{
		{"empty", "", 40, ""},
		{"paragraph joins its lines", "one\ntwo\nthree", 40, "  one two three"},
		{"paragraphs apart", "one\n\ntwo", 40, lines("  one", "", "  two")},
		{"wraps at spaces", "aaa bbb ccc ddd", 9, lines("  aaa bbb", "  ccc ddd")},
		{"fills to the width exactly", "aaaa bbbb", 11, "  aaaa bbbb"},
		{"collapses blanks", "a  \t b", 40, "  a b"},
		{"cuts a word wider than a line", "abcdefghijkl x", 7, lines("  abcde", "  fghij", "  kl x")},
		{"cuts wide characters whole", "日本語日本語", 7, lines("  日本", "  語日", "  本語")},
		{"h1", "# Title", 40, "   Title"},
		{"h2", "## Sub title", 40, "  ## Sub title"},
		{"h3 wraps", "### one two three", 12, lines("  ### one", "  two three")},
		{"heading then text", "## A\ntext", 40, lines("  ## A", "", "  text")},
		{"strong and emphasis lose their markers", "a **b** *c* _d_ __e__", 40, "  a b c d e"},
		{"inline code padded", "run `ip addr` now", 40, "  run  ip addr  now"},
		{"inline code keeps its blanks", "`a  b`", 40, "   a  b"},
		{"inline code pads stay with its words", "xx `ab cd`.", 8, lines("  xx  ab", "  cd .")},
		{"inline code at a line's end drops its blank pad", "aaaa `bb` cc", 11, lines("  aaaa  bb", "  cc")},
		{"link text and address", "see [the docs](https://x.example/a) now", 60, "  see the docs https://x.example/a now"},
		{"link to itself shown once", "[https://x.example](https://x.example)", 60, "  https://x.example"},
		{"autolink", "at <https://x.example/b>.", 60, "  at https://x.example/b."},
		{"email autolink", "<ops@x.example>", 60, "  ops@x.example"},
		{"image", "![a map](map.png)", 60, "  a map map.png"},
		{"link without text", "[](https://x.example)", 60, "  https://x.example"},
		{"bullets", "- one\n- two", 40, lines("  • one", "  • two")},
		{"bullet text hangs under its first line", "- aaa bbb ccc", 11, lines("  • aaa bbb", "    ccc")},
		{"nested bullets", "- a\n  - b\n  - c\n- d", 40, lines("  • a", "    • b", "    • c", "  • d")},
		{"ordered", "1. one\n2. two", 40, lines("  1. one", "  2. two")},
		{"ordered numbers align", "9. nine\n10. ten", 40, lines("   9. nine", "  10. ten")},
		{"ordered with a paren", "3) three", 40, "  3) three"},
		{"loose list", "- one\n\n- two", 40, lines("  • one", "", "  • two")},
		{"item with paragraphs", "- one\n\n  more\n- two", 40, lines("  • one", "", "    more", "", "  • two")},
		{"empty item", "-\n- b", 40, lines("  •", "  • b")},
		{"quote", "> aaa bbb ccc", 11, lines("  │ aaa bbb", "  │ ccc")},
		{"quote of paragraphs", "> a\n>\n> b", 40, lines("  │ a", "  │", "  │ b")},
		{"fenced code", "```sh\nip addr\n  ip route   \n```", 40, lines("    ip addr", "      ip route")},
		{"indented code", "text\n\n    a = 1\n\n    b = 2", 40, lines("  text", "", "    a = 1", "", "    b = 2")},
		{"code tabs", "```\n\tx\ty\n```", 40, "        x   y"},
		{"code longer than the line", "```\nabcdefghij\n```", 10, lines("    abcdef", "    ghij")},
		{"code keeps markdown as it is", "```\n**a** `b`\n```", 40, "    **a** `b`"},
		{"thematic break", "a\n\n---\n\nb", 40, lines("  a", "", "  ────────", "", "  b")},
		{"hard breaks", "a  \nb\\\nc", 40, lines("  a", "  b", "  c")},
		{"html block dropped", "<!-- note -->\n\ntext", 40, "  text"},
		{"inline html dropped", "a <b>bold</b> c", 40, "  a bold c"},
		{"backslash escapes", `\*not\* \# \[x\]`, 40, "  *not* # [x]"},
		{"references", "&amp; &#35; &#x41; &copy; &nosuch; &#;", 40, "  & # A © &nosuch; &#;"},
		{"NUL reference", "a&#0;b", 40, "  a\uFFFDb"},
		{"narrowest has no margin", "ab cd", 1, lines("a", "b", "c", "d")},
		{"narrow margin", "ab cd", 2, lines(" a", " b", " c", " d")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Render(tt.md, tt.width, Styles{})
			if got != tt.want {
				t.Errorf("Render(%q, %d):\n%s\nwant:\n%s", tt.md, tt.width, show(got), show(tt.want))
			}
		})
	}
}

// show makes a rendering's blanks and line ends visible in a failure.
func show(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, " ", "·"), "\n", "⏎\n")
}

func TestRenderStyled(t *testing.T) {
	st := testStyles()
	tests := []struct {
		name string
		md   string
		want []string // pieces the output must hold, in order
	}{
		{"strong", "a **b** c", []string{"a ", st.Strong.Render("b"), " c"}},
		{"emphasis", "a *b* c", []string{st.Emph.Render("b")}},
		{"code and its pads", "a `b c` d", []string{"a ", st.Code.Render(" b c "), " d"}},
		{"code in strong inherits bold", "**a `b`**", []string{st.Strong.Render("a "), st.Code.Inherit(st.Strong).Render(" b ")}},
		{"h1", "# T", []string{st.H1.Render(" T ")}},
		{"heading", "## T", []string{st.Heading.Render("## T")}},
		{"code in a heading", "## a `b`", []string{st.Heading.Render("## a "), st.Code.Inherit(st.Heading).Render(" b ")}},
		{"link", "[a](u)", []string{st.Link.Render("a"), " ", st.URL.Render("u")}},
		{"autolink", "<https://x>", []string{st.URL.Render("https://x")}},
		{"bullet", "- a", []string{st.Marker.Render("•") + " a"}},
		{"number", "1. a", []string{st.Marker.Render("1.") + " a"}},
		{"quote bar, blank line too", "> a\n>\n> b", []string{st.Marker.Render("│") + " a\n  " + st.Marker.Render("│") + "\n"}},
		{"code block", "    x\n", []string{"    " + st.CodeBlock.Render("x")}},
		{"rule", "---", []string{st.Rule.Render("────────")}},
		{"code pad with a background stays at a line's end", "aaaa `bb` cc", []string{"aaaa " + st.Code.Render(" bb ") + "\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Render(tt.md, 11, st)
			rest := got
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("Render(%q) = %q, want %q in it (in order)", tt.md, got, w)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

// steps is every step of the lesson, its markdown filled with the
// lesson's own values.
func steps(t testing.TB) map[string]string {
	t.Helper()
	secs, err := content.Lesson()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range secs {
		for _, st := range s.Steps {
			out[st.ID()] = st.Render(content.LessonVars())
		}
	}
	if len(out) == 0 {
		t.Fatal("the lesson has no steps")
	}
	return out
}

// sgr is an SGR sequence: what a styled line may carry.
var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// checkLines fails on a line wider than width, one that ends in a blank
// that does not show, or one that leaves a style open.
func checkLines(t *testing.T, out string, width int, plain bool) {
	t.Helper()
	for i, l := range strings.Split(out, "\n") {
		if w := ansi.StringWidth(l); w > width {
			t.Errorf("line %d is %d columns wide, more than %d: %q", i+1, w, width, l)
		}
		if plain && strings.TrimRight(l, " ") != l {
			t.Errorf("line %d ends in blanks: %q", i+1, l)
		}
		if seqs := sgr.FindAllString(l, -1); len(seqs) > 0 && seqs[len(seqs)-1] != "\x1b[m" {
			t.Errorf("line %d leaves a style open: %q", i+1, l)
		}
		if !plain && strings.HasSuffix(l, " ") {
			t.Errorf("line %d ends in an unstyled blank: %q", i+1, l)
		}
	}
}

// ink is what a rendering prints, blanks and styles apart: wrapping may
// move it to other lines, never lose or add any.
func ink(s string) string {
	return strings.Join(strings.Fields(ansi.Strip(s)), "")
}

// Every step of the lesson, at every width from 10 to 120 columns, fits
// the width, loses no text, and leaves each line clean.
func TestRenderLessonWidths(t *testing.T) {
	for id, md := range steps(t) {
		for _, styled := range []bool{false, true} {
			st := Styles{}
			if styled {
				st = testStyles()
			}
			t.Run(fmt.Sprintf("%s-styled=%v", id, styled), func(t *testing.T) {
				whole := ink(Render(md, 10000, st))
				if whole == "" {
					t.Fatal("the step renders empty")
				}
				for w := 10; w <= 120; w++ {
					out := Render(md, w, st)
					checkLines(t, out, w, !styled)
					if got := ink(out); got != whole {
						t.Fatalf("width %d: the text changed:\n%s\nwant:\n%s", w, got, whole)
					}
					if t.Failed() {
						t.Fatalf("width %d:\n%s", w, out)
					}
				}
			})
		}
	}
}

// The lesson's 80 columns, as the pane of an 80-column terminal shows it.
func TestGoldenLessonStep(t *testing.T) {
	all := steps(t)
	for _, g := range []struct {
		name, step string
		styled     bool
	}{
		{"veth-plain", "2.4", false},
		{"veth-styled", "2.4", true},
		{"hash-plain", "3.4", false},
		{"lookup-styled", "4.7", true},
	} {
		t.Run(g.name, func(t *testing.T) {
			md, ok := all[g.step]
			if !ok {
				t.Fatalf("no step %s", g.step)
			}
			st := Styles{}
			if g.styled {
				st = testStyles()
			}
			golden.RequireEqual(t, Render(md, 79, st)+"\n")
		})
	}
}

// Control characters in the text, wherever they are and however they are
// written, reach the terminal escaped.
func TestRenderHostile(t *testing.T) {
	h := hostile.Text
	tests := []struct {
		name string
		md   string
	}{
		{"text", "a " + h + " b"},
		{"strong", "**" + h + "**"},
		{"code span", "`" + h + "`"},
		{"code block", "```\n" + h + "\n```"},
		{"indented code", "    " + h},
		{"heading", "# " + h},
		{"list", "- " + h + "\n- b"},
		{"quote", "> " + h},
		{"link", "[" + h + "](http://x.invalid/" + h + ")"},
		{"autolink", "<http://x.invalid/" + h + ">"},
		{"references", "&#27;]52;c;eA==&#7; &#x1b;[2J &#x9b;31m &#127; &#x85;"},
		{"escaped as markdown", `\` + h},
		{"carriage returns", "a\rb\r\nc"},
		{"not UTF-8", "a\xff\xfeb `\xc3`"},
	}
	for _, tt := range tests {
		for _, st := range []Styles{{}, testStyles()} {
			out := Render(tt.md, 40, st)
			if err := hostile.Check(out, true); err != nil {
				t.Errorf("%s: %v\n%q", tt.name, err, out)
			}
		}
	}
	if out := Render("a "+h, 200, Styles{}); !strings.Contains(out, `\x1b]52;c;`) {
		t.Errorf("the escape sequence is not shown escaped: %q", out)
	}
}

// One parser serves every caller: renders side by side come out as they
// do one after another (and -race watches them).
func TestRenderConcurrent(t *testing.T) {
	all := steps(t)
	want := map[string]string{}
	for id, md := range all {
		want[id] = Render(md, 60, testStyles())
	}
	differ := make(chan string, 4*len(all))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for id, md := range all {
				if Render(md, 60, testStyles()) != want[id] {
					differ <- id
				}
			}
		})
	}
	wg.Wait()
	close(differ)
	for id := range differ {
		t.Errorf("step %s renders otherwise beside other renders", id)
	}
}

func FuzzRender(f *testing.F) {
	f.Add("# a\n\n- **b** `c`\n\n> d [e](f)\n\n    g", 20)
	f.Add("1. a\n   - b\n\n```\n\tc\n```\n---", 10)
	f.Add("&#27;[2J "+hostile.Text, 3)
	f.Fuzz(func(t *testing.T, md string, width int) {
		width = 10 + int(uint(width)%111)
		out := Render(md, width, testStyles())
		if err := hostile.Check(out, true); err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(out, "\n") {
			if ansi.StringWidth(l) > width {
				t.Fatalf("a line wider than %d: %q", width, l)
			}
		}
	})
}

func BenchmarkRender(b *testing.B) {
	all := steps(b)
	st := testStyles()
	for b.Loop() {
		for _, md := range all {
			Render(md, 79, st)
		}
	}
}
