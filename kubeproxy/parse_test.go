package kubeproxy

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"podlab/internal/hostile"
)

func readSave(t *testing.T, name string) *Table {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	tab, err := ParseSave(f, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// testdata/yaobank2.save is what iptables-save v1.8.9 (nf_tables) -c -t
// nat printed of a namespace loaded with kube-proxy's rules for the
// lesson's three services (`kpbench gen -yaobank 2 | iptables-restore`),
// the date lines left out.
func TestParseSave(t *testing.T) {
	tab := readSave(t, "yaobank2.save")
	if tab.Name != "nat" || tab.Mode != ModeIPTables || tab.Skipped != 0 {
		t.Fatalf("table %q mode %q skipped %d", tab.Name, tab.Mode, tab.Skipped)
	}
	if got, want := len(tab.Chains), 16; got != want {
		t.Errorf("%d chains, want %d", got, want)
	}
	svc := tab.Chain("KUBE-SVC-OIQIZJVJK6E34BR4")
	if svc == nil || len(svc.Rules) != 3 {
		t.Fatalf("summary's chain: %+v", svc)
	}
	masq, pick, last := svc.Rules[0].Match(), svc.Rules[1].Match(), svc.Rules[2].Match()
	for _, tt := range []struct {
		name string
		got  any
		want any
	}{
		{"masq source negated", masq.Source, Match{Value: "198.19.16.0/20", Not: true}},
		{"masq dest", masq.Dest, Match{Value: "10.49.117.163/32"}},
		{"masq dport", masq.DPort, Match{Value: "80"}},
		{"masq protocol", masq.Protocol, Match{Value: "tcp"}},
		{"masq target", svc.Rules[0].Target, "KUBE-MARK-MASQ"},
		{"pick comment", pick.Comment, "yaobank/summary:http -> 198.19.22.129:80"},
		{"pick probability", pick.Probability, "0.50000000000"},
		{"last pick has none", last.Probability, ""},
		{"counted", svc.Rules[1].Counted, true},
		{"read from the text", svc.Rules[1].Parsed == nil, true},
		{"dnat", tab.Chain(svc.Rules[1].Target).Rules[1].Match().ToDest, "198.19.22.129:80"},
		{"text", svc.Rules[2].Text, `-m comment --comment "yaobank/summary:http -> 198.19.21.65:80" -j KUBE-SEP-MJL5PZCXRMOUHU26`},
		{"policy", tab.Chain("PREROUTING").Policy, "ACCEPT"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

func TestParseSaveCounters(t *testing.T) {
	in := "*nat\n:PREROUTING ACCEPT [7:420]\n:KUBE-SERVICES - [0:0]\n[12:720] -A KUBE-SERVICES -j RETURN\nCOMMIT\n"
	tab, err := ParseSave(strings.NewReader(in), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if c := tab.Chain("PREROUTING"); c.Packets != 7 || c.Bytes != 420 {
		t.Errorf("policy counters %d/%d", c.Packets, c.Bytes)
	}
	if r := tab.Chain("KUBE-SERVICES").Rules[0]; r.Packets != 12 || r.Bytes != 720 || !r.Counted {
		t.Errorf("rule counters %+v", r)
	}
}

// Each bound is an error in one line that names it.
func TestParseSaveBounds(t *testing.T) {
	small := Limits{Lines: 10, Rules: 3, LineBytes: 80}
	rules := func(n int) string {
		return "*nat\n:X - [0:0]\n" + strings.Repeat("-A X -j RETURN\n", n) + "COMMIT\n"
	}
	for _, tt := range []struct {
		name, in, want string
	}{
		{"lines", strings.Repeat("# x\n", 11), "longer than 10 lines"},
		{"rules", rules(4), "more than 3 rules"},
		{"line length", "*nat\n-A X -m comment --comment \"" + strings.Repeat("a", 100) + "\" -j RETURN\n", "longer than 80 bytes"},
		{"two tables", "*nat\nCOMMIT\n*filter\nCOMMIT\n", "a second table"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSave(strings.NewReader(tt.in), small)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v, want one line with %q", err, tt.want)
			}
		})
	}
	if _, err := ParseSave(strings.NewReader(rules(3)), small); err != nil {
		t.Errorf("at the bound: %v", err)
	}
}

// A rule someone else wrote can carry anything in a comment, a chain
// name or a target: none of it reaches the model unclean, and a line
// that does not read is left out and counted, not fatal.
func TestParseSaveHostile(t *testing.T) {
	evil := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(hostile.Text)
	in := "*nat\n:KUBE-SERVICES - [0:0]\n:EVIL" + "\x1b[2J" + " - [0:0]\n" +
		`[1:2] -A KUBE-SERVICES -m comment --comment "` + evil + `" -d 10.0.0.1/32 -j EVIL` + "\x1b]0;x\x07\n" +
		`-A KUBE-SERVICES -m comment --comment "unterminated` + "\n" +
		"-A EVIL\x1b[2J -j RETURN\n" +
		"-A\n[x:y] -A KUBE-SERVICES -j RETURN\n-A KUBE-SERVICES -j\nnonsense\nCOMMIT\n"
	tab, err := ParseSave(strings.NewReader(in), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if dirty := hostile.Unclean(tab); len(dirty) > 0 {
		t.Errorf("control characters in %v", dirty)
	}
	if tab.Skipped != 5 {
		t.Errorf("skipped %d lines, want 5", tab.Skipped)
	}
	if c := tab.Chain(`EVIL\x1b[2J`); c == nil || len(c.Rules) != 1 || len(tab.Chains) != 2 {
		t.Errorf("the hostile chain's rule is not in it: %+v", tab.Chains)
	}
	r := tab.Chain(ChainServices).Rules[0]
	if m := r.Match(); !strings.HasPrefix(m.Comment, `\x1b]52;c;`) || m.Dest.Value != "10.0.0.1/32" || r.Parsed == nil {
		t.Errorf("the hostile rule reads as %+v %+v", r, m)
	}
}

func TestWords(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
		ok   bool
	}{
		{`-A X -j Y`, []string{"-A", "X", "-j", "Y"}, true},
		{`--comment "a b" x`, []string{"--comment", "a b", "x"}, true},
		{`--comment "say \"hi\" \\ it's"`, []string{"--comment", `say "hi" \ it's`}, true},
		{`--comment ""`, []string{"--comment", ""}, true},
		{`--comment "open`, nil, false},
		{`--comment "trailing\"`, nil, false},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := words(tt.in, nil)
			if ok != tt.ok || ok && strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q %v, want %q %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// A chain whose rules come apart (iptables-save keeps them together;
// other input need not) keeps all of them, in order, and no chain's
// rules are written over by another's; also past the size of a block.
func TestParseSaveChainsApart(t *testing.T) {
	var b strings.Builder
	b.WriteString("*nat\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "-A A -j A%d\n-A B -j B%d\n", i, i)
		if i%7 == 0 {
			fmt.Fprintf(&b, "-A C%d -j C\n", i)
		}
	}
	tab, err := ParseSave(strings.NewReader(b.String()), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"A", "B"} {
		c := tab.Chain(name)
		if len(c.Rules) != 3000 {
			t.Fatalf("%s: %d rules", name, len(c.Rules))
		}
		for i, r := range c.Rules {
			if r.Target != fmt.Sprintf("%s%d", name, i) {
				t.Fatalf("%s rule %d jumps to %s", name, i, r.Target)
			}
		}
	}
	for i := 0; i < 3000; i += 7 {
		if c := tab.Chain(fmt.Sprintf("C%d", i)); len(c.Rules) != 1 || c.Rules[0].Target != "C" {
			t.Fatalf("C%d: %+v", i, c.Rules)
		}
	}
}

// Rules of many small chains, each after the other as iptables-save
// prints them, crossing blocks.
func TestParseSaveManyChains(t *testing.T) {
	var b strings.Builder
	b.WriteString("*nat\n")
	for i := range 5000 {
		for j := range i % 5 {
			fmt.Fprintf(&b, "-A S%d -j T%d.%d\n", i, i, j)
		}
	}
	tab, err := ParseSave(strings.NewReader(b.String()), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5000 {
		c := tab.Chain(fmt.Sprintf("S%d", i))
		if i%5 == 0 {
			if c != nil {
				t.Fatalf("S%d exists", i)
			}
			continue
		}
		if len(c.Rules) != i%5 {
			t.Fatalf("S%d: %d rules", i, len(c.Rules))
		}
		for j, r := range c.Rules {
			if r.Target != fmt.Sprintf("T%d.%d", i, j) {
				t.Fatalf("S%d rule %d: %s", i, j, r.Target)
			}
		}
	}
}

// However the reader cuts what it reads, the table is the same: lines
// that span reads, a last line without its newline, a reader's error.
func TestParseSaveReads(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "yaobank3.save"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := ParseSave(bytes.NewReader(b), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	trimmed := bytes.TrimSuffix(b, []byte("\n"))
	for _, tt := range []struct {
		name string
		r    io.Reader
	}{
		{"one byte a read", iotest.OneByteReader(bytes.NewReader(b))},
		{"half a read", iotest.HalfReader(bytes.NewReader(b))},
		{"error with the data", iotest.DataErrReader(bytes.NewReader(b))},
		{"no newline at the end", bytes.NewReader(trimmed)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSave(tt.r, DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Chains, want.Chains) {
				t.Errorf("the table differs")
			}
		})
	}
	_, err = ParseSave(iotest.TimeoutReader(iotest.OneByteReader(bytes.NewReader(b))), DefaultLimits)
	if err == nil || !strings.HasPrefix(err.Error(), "reading the nat table: ") {
		t.Errorf("a reader's error reads as %v", err)
	}
	// A long line that spans reads is still too long.
	long := "*nat\n-A X -m comment --comment \"" + strings.Repeat("a", 200) + "\" -j RETURN\n"
	_, err = ParseSave(iotest.OneByteReader(strings.NewReader(long)), Limits{Lines: 10, Rules: 10, LineBytes: 100})
	if err == nil || !strings.Contains(err.Error(), "line 2 is longer than 100 bytes") {
		t.Errorf("a long line in pieces reads as %v", err)
	}
}
