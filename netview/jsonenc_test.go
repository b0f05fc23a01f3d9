package netview

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"podlab/internal/fill"
	"podlab/internal/hostile"
)

// jsonDoc holds every type JSONWriter writes, one level down as the
// show document holds them.
type jsonDoc struct {
	Snapshot Snapshot  `json:"snapshot"`
	Facts    Facts     `json:"facts"`
	Analysis *Analysis `json:"analysis"`
}

func (d *jsonDoc) write(j *JSONWriter) {
	j.BeginObject()
	j.Key("snapshot")
	j.Snapshot(&d.Snapshot)
	j.Key("facts")
	j.Facts(&d.Facts)
	j.Key("analysis")
	j.Analysis(d.Analysis)
	j.EndObject()
}

// jsonTexts are the strings whose escaping encoding/json decides: HTML
// characters, quotes and backslashes, every short escape, other C0
// controls, DEL, C1 controls, U+2028 and U+2029, invalid and truncated
// UTF-8, surrogate halves, and the terminal attacks of internal/hostile.
var jsonTexts = []string{
	"", "cali12345678901", `a "quoted" \name\`, "<script>&amp;</script>",
	"\b\f\n\r\t", "\x00\x01\x1f", "\x1b[31mred\x7f", "\u0080\u009b\u009f",
	"line\u2028sep\u2029para", "\xff", "\xe2\x80", "a\xc3", "\xed\xa0\x80", "\xc0\xaf",
	"é✓ 🙂", hostile.Text,
}

// writeJSON is what JSONWriter writes of d, and encoding/json's
// MarshalIndent of it (with json.Encoder's newline).
func writeJSON(t testing.TB, d *jsonDoc) (got, want []byte, gotErr, wantErr error) {
	t.Helper()
	var buf bytes.Buffer
	j := NewJSONWriter(&buf)
	d.write(j)
	gotErr = j.End()
	want, wantErr = json.MarshalIndent(d, "", "  ")
	return buf.Bytes(), append(want, '\n'), gotErr, wantErr
}

// sameJSON fails t unless JSONWriter and encoding/json agree on d: the
// same bytes, or both refuse it.
func sameJSON(t testing.TB, d *jsonDoc) {
	t.Helper()
	got, want, gotErr, wantErr := writeJSON(t, d)
	if (gotErr != nil) != (wantErr != nil) {
		t.Fatalf("JSONWriter: %v; encoding/json: %v", gotErr, wantErr)
	}
	if wantErr != nil {
		return
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < min(len(got), len(want)) && got[i] == want[i] {
			i++
		}
		t.Fatalf("differs from encoding/json at byte %d of %d/%d:\n got …%q\nwant …%q", i, len(got), len(want),
			got[max(0, i-120):min(len(got), i+80)], want[max(0, i-120):min(len(want), i+80)])
	}
}

func lessonDoc(t testing.TB, p *Pair) *jsonDoc {
	t.Helper()
	a := Analyze(p)
	return &jsonDoc{Snapshot: p.Host, Facts: p.Facts, Analysis: &a}
}

func TestJSONWriterMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name string
		doc  func(t *testing.T) *jsonDoc
	}{
		{"lesson host", func(t *testing.T) *jsonDoc { return lessonDoc(t, &loadLesson(t).Pair) }},
		{"lesson pod", func(t *testing.T) *jsonDoc {
			d := lessonDoc(t, &loadLesson(t).Pair)
			d.Snapshot = loadLesson(t).Pod
			return d
		}},
		{"node at scale", func(t *testing.T) *jsonDoc { return lessonDoc(t, scalePair(t, 3000)) }},
		{"lesson tainted", func(t *testing.T) *jsonDoc {
			rec := loadLesson(t)
			hostile.Taint(rec)
			return lessonDoc(t, &rec.Pair)
		}},
		{"no analysis", func(t *testing.T) *jsonDoc { return &jsonDoc{Snapshot: loadLesson(t).Host} }},
		{"zero", func(t *testing.T) *jsonDoc { return &jsonDoc{Analysis: &Analysis{}} }},
		{"empty lists and maps", func(t *testing.T) *jsonDoc {
			s := Snapshot{Links: []Link{{Flags: []string{}, Sysctls: map[string]int{}}}, Addrs: []Addr{{Flags: []string{}}},
				Routes: []Route{{Flags: []string{}}}, Neighs: []Neigh{}, Sysctls: map[string]int{},
				NS: Namespace{NSIDs: map[int]string{}}}
			return &jsonDoc{Snapshot: s, Facts: Facts{Pods: []PodFact{}, Nodes: []NodeFact{}, Blocks: []Block{}},
				Analysis: &Analysis{Routes: []RouteClass{}, Problems: []string{}, Gateway: Gateway{Confirmed: []string{}}}}
		}},
		// Integer map keys sort as text: "10" before "9".
		{"nsids", func(t *testing.T) *jsonDoc {
			return &jsonDoc{Snapshot: Snapshot{NS: Namespace{NSIDs: map[int]string{9: "a", 10: "b", -1: "c", 100: "d"}}}}
		}},
	}
	// Every field set, to each hostile text: a field the writer leaves
	// out, or escapes otherwise, fails here.
	for i, text := range jsonTexts {
		tests = append(tests, struct {
			name string
			doc  func(t *testing.T) *jsonDoc
		}{fmt.Sprintf("every field, text %d %q", i, text), func(t *testing.T) *jsonDoc {
			var d jsonDoc
			fill.Every(&d, text)
			return &d
		}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sameJSON(t, tt.doc(t))
		})
	}
}

// TestJSONWriterRandom compares the encoders on documents filled at
// random (FuzzJSONWriter goes on from here).
func TestJSONWriterRandom(t *testing.T) {
	for seed := range uint64(300) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			sameJSON(t, randomDoc(seed, jsonTexts))
		})
	}
}

func randomDoc(seed uint64, texts []string) *jsonDoc {
	var d jsonDoc
	fill.Random(&d, rand.New(rand.NewPCG(seed, seed>>32^0x9e3779b97f4a7c15)), texts)
	return &d
}

// FuzzJSONWriter: whatever the strings and the shape of a document,
// JSONWriter writes what encoding/json writes.
func FuzzJSONWriter(f *testing.F) {
	f.Add(uint64(1), "cali0", "eth0")
	f.Add(uint64(2), "<a&b>", "\u2028\xff")
	f.Add(uint64(3), hostile.Text, `"\`)
	f.Fuzz(func(t *testing.T, seed uint64, a, b string) {
		sameJSON(t, randomDoc(seed, []string{a, b, a + b}))
	})
}

// TestJSONWriterStreams: a long document reaches the writer in pieces
// as it is written, not at the end.
func TestJSONWriterStreams(t *testing.T) {
	d := lessonDoc(t, scalePair(t, 3000))
	var w countingWriter
	j := NewJSONWriter(&w)
	d.write(j)
	if w.writes < 2 {
		t.Fatalf("%d writes of %d bytes before End", w.writes, w.n)
	}
	if err := j.End(); err != nil {
		t.Fatal(err)
	}
}

type countingWriter struct{ writes, n int }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	w.n += len(p)
	return len(p), nil
}

// TestJSONWriterStopsAtWriteError: the first error of the writer is
// End's, and nothing is written after it.
func TestJSONWriterStopsAtWriteError(t *testing.T) {
	d := lessonDoc(t, scalePair(t, 3000))
	w := &failingWriter{after: 1}
	j := NewJSONWriter(w)
	d.write(j)
	err := j.End()
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("End = %v, want the writer's error", err)
	}
	if w.calls != 2 {
		t.Fatalf("%d calls to Write, want 2 (one good, one failing)", w.calls)
	}
}

type failingWriter struct{ after, calls int }

func (w *failingWriter) Write(p []byte) (int, error) {
	w.calls++
	if w.calls > w.after {
		return 0, fmt.Errorf("disk full")
	}
	return len(p), nil
}

func BenchmarkShowJSON(b *testing.B) {
	for _, n := range scales {
		p := scalePair(b, n)
		a := Analyze(p)
		d := &jsonDoc{Snapshot: p.Host, Facts: p.Facts, Analysis: &a}
		b.Run(fmt.Sprintf("writer/routes=%d", n), func(b *testing.B) {
			var w countingWriter
			b.ReportAllocs()
			for b.Loop() {
				j := NewJSONWriter(&w)
				d.write(j)
				if err := j.End(); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(w.n / b.N))
		})
		b.Run(fmt.Sprintf("encoding-json/routes=%d", n), func(b *testing.B) {
			var w countingWriter
			b.ReportAllocs()
			for b.Loop() {
				enc := json.NewEncoder(&w)
				enc.SetIndent("", "  ")
				if err := enc.Encode(d); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(w.n / b.N))
		})
	}
}

// TestJSONWriterDeep: objects nested deeper than the model goes are
// indented as encoding/json indents them, and keys given to Key are
// escaped.
func TestJSONWriterDeep(t *testing.T) {
	var v any = "leaf"
	for i := range 40 {
		v = map[string]any{fmt.Sprintf("k%d<&>\u2028", i): v}
	}
	want, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	j := NewJSONWriter(&buf)
	for i := 39; i >= 0; i-- {
		j.BeginObject()
		j.Key(fmt.Sprintf("k%d<&>\u2028", i))
	}
	j.String("leaf")
	for range 40 {
		j.EndObject()
	}
	if err := j.End(); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != string(want)+"\n" {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}
