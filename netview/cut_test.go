package netview

import (
	"strings"
	"testing"
)

func TestCut(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"fits", "caliea2aa288365", 15, "caliea2aa288365"},
		{"one over", "caliea2aa2883650", 15, "caliea2aa288365…"},
		{"1 MB", strings.Repeat("x", 1<<20), 15, "xxxxxxxxxxxxxxx…"},
		// An escape counts as the bytes it stands for: a hostile name
		// Linux could hold is shown whole.
		{"escapes count as their bytes", "d\x1b]0;x\x07\u009b2J", 15, `d\x1b]0;x\x07\u009b2J`},
		{"cut after an escape", "\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b", 15, strings.Repeat(`\x1b`, 15) + "…"},
		{"never inside a rune", "abcdefghijklmn" + "é", 15, "abcdefghijklmn…"},
		{"never inside a C1 escape", "abcdefghijklmn\u009b", 15, "abcdefghijklmn…"},
		{"4-byte rune", strings.Repeat("🙂", 5), 15, "🙂🙂🙂…"},
		{"empty", "", 15, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Cut(tt.in, tt.max)
			if got != tt.want {
				t.Errorf("Cut(%.40q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
			if again := Cut(got, tt.max); again != got {
				t.Errorf("Cut is not idempotent: %q then %q", got, again)
			}
			if !IsClean(got) {
				t.Errorf("Cut leaves %q unclean", got)
			}
		})
	}
}

// A recording's 1 MB interface name comes out of Sanitize cut to what
// Linux allows, and Cuts says which kind of name was cut.
func TestSanitizeCutsLongNames(t *testing.T) {
	rec := lessonRecording()
	long := strings.Repeat("\x1bA", 1<<19)
	for i := range rec.Host.Links {
		if rec.Host.Links[i].Name == "caliea2aa288365" {
			rec.Host.Links[i].Name += long
		}
	}
	rec.Facts.Pod.Namespace = strings.Repeat("n", 64)
	if got := rec.Pair.Cuts(); got != nil {
		t.Fatalf("Cuts before Sanitize = %q", got)
	}
	rec.Sanitize()
	l := rec.Host.LinkByName("caliea2aa288365…")
	if l == nil {
		t.Fatalf("no link caliea2aa288365… after Sanitize; links: %v", rec.Host.Links)
	}
	if rec.Facts.Pod.Namespace != strings.Repeat("n", 63)+"…" {
		t.Errorf("namespace = %q", rec.Facts.Pod.Namespace)
	}
	want := []string{textCaps[kindIfName].what, textCaps[kindK8sLabel].what}
	if got := rec.Pair.Cuts(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Cuts = %q, want %q", got, want)
	}
	clean := lessonRecording()
	clean.Sanitize()
	if got := clean.Pair.Cuts(); got != nil {
		t.Errorf("Cuts on the lesson's recording = %q, want none", got)
	}
}
