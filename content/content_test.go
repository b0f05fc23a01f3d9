package content

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"podlab/netview"
)

// allSteps returns every step of the lesson, in order.
func allSteps(t *testing.T) []Step {
	t.Helper()
	secs, err := Lesson()
	if err != nil {
		t.Fatalf("Lesson: %v", err)
	}
	var out []Step
	for _, s := range secs {
		out = append(out, s.Steps...)
	}
	return out
}

func TestLessonSections(t *testing.T) {
	secs, err := Lesson()
	if err != nil {
		t.Fatalf("Lesson: %v", err)
	}
	want := []string{
		"Lab Setup",
		"How Pods See the Network",
		"How Hosts See Connections to Pods",
		"How Hosts Route Pod Traffic",
	}
	if len(secs) != len(want) {
		t.Fatalf("got %d sections, want %d", len(secs), len(want))
	}
	total := 0
	for i, title := range want {
		t.Run(title, func(t *testing.T) {
			s := secs[i]
			if s.Number != i+1 || s.Title != title {
				t.Errorf("section %d: got %d %q, want %d %q", i, s.Number, s.Title, i+1, title)
			}
			if len(s.Steps) == 0 {
				t.Errorf("no steps")
			}
			for j, st := range s.Steps {
				if st.Section != s.Number || st.Index != j+1 {
					t.Errorf("step %q: numbered %s, want %d.%d", st.Title, st.ID(), s.Number, j+1)
				}
			}
		})
		total += len(secs[i].Steps)
	}
	if total < 14 || total > 22 {
		t.Errorf("lesson has %d steps; aim for roughly 14-20", total)
	}
}

// TestLessonCopies checks that a caller cannot change the lesson for the
// next caller.
func TestLessonCopies(t *testing.T) {
	a, err := Lesson()
	if err != nil {
		t.Fatal(err)
	}
	a[0].Title = "changed"
	a[1].Steps[0].Highlight = append(a[1].Steps[0].Highlight[:0], "changed")
	b, err := Lesson()
	if err != nil {
		t.Fatal(err)
	}
	if b[0].Title == "changed" || slices.Contains(b[1].Steps[0].Highlight, "changed") {
		t.Error("a change to Lesson's result leaked into the next call")
	}
}

// knownTags are every tag netview renders: its Tag constants and the tag
// of each route class.
func knownTags() map[string]bool {
	tags := map[string]bool{}
	for _, tg := range []netview.Tag{
		netview.TagVethPod, netview.TagVethHost, netview.TagGateway,
		netview.TagPodIP, netview.TagNetnsID, netview.TagMAC,
		netview.TagIfName, netview.TagFlags, netview.TagState, netview.TagMuted,
	} {
		tags[string(tg)] = true
	}
	for _, c := range []netview.Class{
		netview.ClassPodDefault, netview.ClassPodGateway, netview.ClassLocalPod,
		netview.ClassLocalBlockBlackhole, netview.ClassRemoteBlock,
		netview.ClassRemotePod, netview.ClassDefault, netview.ClassConnected,
		netview.ClassOther,
	} {
		tags[string(netview.RouteTag(c))] = true
	}
	return tags
}

func TestSteps(t *testing.T) {
	tags := knownTags()
	for _, st := range allSteps(t) {
		t.Run(st.ID()+" "+st.Title, func(t *testing.T) {
			if strings.TrimSpace(st.Title) == "" {
				t.Error("no title")
			}
			if strings.TrimSpace(st.Body) == "" {
				t.Error("no body")
			}
			if !slices.Contains(places, st.Where) {
				t.Errorf("where %q is not one of %v", st.Where, places)
			}
			for _, c := range st.Commands {
				if c.Text == "" || !slices.Contains(places, c.Where) {
					t.Errorf("command %+v: want text and a place among %v", c, places)
				}
			}
			for _, v := range append(slices.Clone(st.PodViews), st.HostViews...) {
				if !slices.Contains(views, v) {
					t.Errorf("view %q is not one of %v", v, views)
				}
			}
			for _, h := range st.Highlight {
				if !tags[h] {
					t.Errorf("highlight %q is not a netview tag", h)
				}
			}
			if st.Extra != "" && !slices.Contains(extras, st.Extra) {
				t.Errorf("extra %q is not one of %v", st.Extra, extras)
			}
			// An 80x24 pane leaves about 14 lines for the body.
			if n := strings.Count(strings.TrimSpace(st.Render(LessonVars())), "\n") + 1; n > 16 {
				t.Errorf("body renders to %d lines; keep it to about 14", n)
			}
		})
	}
}

// TestExtras checks each step beyond the lesson text is there once.
func TestExtras(t *testing.T) {
	count := map[string]int{}
	for _, st := range allSteps(t) {
		if st.Extra != "" {
			count[st.Extra]++
		}
	}
	for _, x := range extras {
		if count[x] != 1 {
			t.Errorf("extra %q appears in %d steps, want 1", x, count[x])
		}
	}
}

// TestSeedCommands checks every command the lesson text has the student
// type is in some step, typed in the right place.
func TestSeedCommands(t *testing.T) {
	steps := allSteps(t)
	tests := []struct {
		text, where string
		min         int // how many times the lesson has it typed
	}{
		{"multipass shell host1", "local", 1},
		{"kubectl get pods -n yaobank -l app=customer -o wide", "host1", 3},
		{"CUSTOMER_POD=$(kubectl get pods -n yaobank -l app=customer -o name)", "host1", 1},
		{"kubectl exec -ti -n yaobank $CUSTOMER_POD -- /bin/bash", "host1", 1},
		{"ip addr", "pod", 1},
		{"ip -c link show up", "pod", 1},
		{"ip route", "pod", 1},
		{"exit", "pod", 1},
		{"ssh node1", "host1", 2},
		{"ip -c link show up", "node", 1},
		{"exit", "node", 2},
		{"ip route", "node", 1},
	}
	for _, tc := range tests {
		t.Run(tc.where+": "+tc.text, func(t *testing.T) {
			n := 0
			for _, st := range steps {
				for _, c := range st.Commands {
					if c.Text == tc.text && c.Where == tc.where {
						n++
					}
				}
			}
			if n < tc.min {
				t.Errorf("typed %d times, want at least %d", n, tc.min)
			}
		})
	}
}

// live is a lab that differs from the lesson's example everywhere.
func live() Vars {
	return Vars{
		PodName:       "customer-7d9f8b6c4d-x2x9q",
		PodNamespace:  "yaobank",
		PodIP:         netip.MustParseAddr("198.19.22.70"),
		Node:          "node2",
		PodIf:         "eth0",
		PodIndex:      4,
		PodPeerIndex:  12,
		PodNetNSID:    "1",
		HostIf:        "cali1234567890a",
		HostIndex:     12,
		HostPeerIndex: 4,
		HostLinkNetns: "cni-0000",
		// As the analysis names it; the live host end (HostIf) differs.
		ExpectedHostIf: netview.VethName("cali", "yaobank", "customer-7d9f8b6c4d-x2x9q"),
		Gateway:        netip.MustParseAddr("169.254.1.1"),
		HostProxyARP:   "1",
		OwnBlock:       netip.MustParsePrefix("198.19.22.64/26"),
		RemoteBlock:    netip.MustParsePrefix("198.19.21.0/26"),
		RemoteVia:      netip.MustParseAddr("198.19.0.1"),
		RemoteNode:     "control",
		BlockSize:      26,
		FreeIP:         netip.MustParseAddr("198.19.22.99"),
	}
}

func TestRender(t *testing.T) {
	steps := allSteps(t)
	byTitle := func(t *testing.T, title string) Step {
		t.Helper()
		for _, st := range steps {
			if st.Title == title {
				return st
			}
		}
		t.Fatalf("no step %q", title)
		return Step{}
	}
	tests := []struct {
		name    string
		vars    Vars
		step    string
		want    []string
		notWant []string
	}{
		{"lesson peer index", LessonVars(), "The pod's end of the veth pair",
			[]string{"@if9", "link-netnsid 0"}, []string{"lesson's example has"}},
		{"live peer index", live(), "The pod's end of the veth pair",
			[]string{"@if12", "number **12**", "@if9"}, nil},
		{"unknown peer index", Vars{}, "The pod's end of the veth pair",
			[]string{"@ifB"}, []string{"@if0", "@if9"}},
		{"lesson host end", LessonVars(), "The host's end of the veth pair",
			[]string{"9: caliea2aa288365@if3", "cni-f7159375"}, []string{"lesson's example reads"}},
		{"live host end", live(), "The host's end of the veth pair",
			[]string{"12: cali1234567890a@if4", "9: caliea2aa288365@if3"}, nil},
		{"live node", live(), "Which node runs the pod?",
			[]string{"ssh node2", "ssh node1"}, nil},
		{"lesson node", LessonVars(), "Which node runs the pod?",
			[]string{"ssh node1"}, []string{"instead"}},
		{"lesson pod words", LessonVars(), "The host's end of the veth pair",
			[]string{"this is the customer pod's cable"}, nil},
		{"another pod's words", Vars{PodNamespace: "bank", PodName: "teller-1", Node: "node1"}, "The host's end of the veth pair",
			[]string{"this is pod bank/teller-1's cable"}, []string{"customer pod"}},
		{"another pod's words on the routes", Vars{PodNamespace: "bank", PodName: "teller-1", Node: "node1", PodIP: netip.MustParseAddr("198.19.22.9")}, "Routes to pods on this node",
			[]string{"pod bank/teller-1's address"}, []string{"customer pod"}},
		{"lesson pod ip", LessonVars(), "Find the customer pod",
			[]string{"198.19.22.132", "node1"}, []string{"lesson's"}},
		{"live pod ip", live(), "Find the customer pod",
			[]string{"198.19.22.70", "198.19.22.132"}, nil},
		{"lesson hash", LessonVars(), "Why that name?",
			[]string{"yaobank.customer-574bd6cc75-2blnv", "cali + ea2aa288365 = caliea2aa288365", "exactly **caliea2aa288365**", "FELIX_INTERFACEPREFIX"}, nil},
		{"hash disagrees", live(), "Why that name?",
			[]string{"yaobank.customer-7d9f8b6c4d-x2x9q", "is not that"}, []string{"exactly"}},
		{"hash unknown", Vars{}, "Why that name?",
			[]string{"needs the pod's name"}, []string{"sha1sum"}},
		{"custom prefix", Vars{PodName: "p", PodNamespace: "n", InterfacePrefix: "xyz"}, "Why that name?",
			[]string{"prefix `xyz`", "xyz + "}, nil},
		{"arp resolved", LessonVars(), "Who answers for 169.254.1.1?",
			[]string{"already lists 169.254.1.1", "**caliea2aa288365**"}, nil},
		{"arp not yet", live(), "Who answers for 169.254.1.1?",
			[]string{"has not asked yet"}, nil},
		{"proxy arp off", Vars{HostProxyARP: "0"}, "Who answers for 169.254.1.1?",
			[]string{"podlab reads\n0"}, nil},
		{"remote block live", live(), "Routes learned over BGP",
			[]string{"198.19.21.0/26 via 198.19.0.1", "(control)", "198.19.21.64/26 via 198.19.0.3"}, nil},
		{"blackhole", LessonVars(), "The blackhole for this node's block",
			[]string{"blackhole 198.19.22.128/26 proto bird"}, nil},
		{"block size", Vars{BlockSize: 24}, "Blocks, not pods",
			[]string{"**/24**, 256 addresses"}, nil},
		{"lookup free ip", LessonVars(), "Where does an address go?",
			[]string{"198.19.22.140, which no pod holds", "blackhole"}, nil},
		{"lookup unknown", Vars{}, "Where does an address go?",
			[]string{"a free address in OWN_BLOCK"}, nil},
		{"delete the lesson's pod", LessonVars(), "Delete a pod",
			[]string{"yaobank/summary-85c56b76d7-28hm5 at\n198.19.22.130", "kubectl delete pod -n yaobank summary-85c56b76d7-28hm5"}, []string{"recording"}},
		{"delete a live pod", Vars{Node: "node2", DeletePod: "bank/teller-7", DeleteIP: netip.MustParseAddr("10.0.0.9")}, "Delete a pod",
			[]string{"node2's pods, bank/teller-7 at\n10.0.0.9", "kubectl delete pod -n bank teller-7"}, []string{"summary"}},
		{"delete on a recording", Vars{Recorded: true}, "Delete a pod",
			[]string{"NAMESPACE/POD", "This is a recording, so nothing here changes"}, nil},
		{"local pod route", live(), "Routes to pods on this node",
			[]string{"198.19.22.70 dev cali1234567890a scope link"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := byTitle(t, tc.step).Render(tc.vars)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("render lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(got, w) {
					t.Errorf("render has %q:\n%s", w, got)
				}
			}
		})
	}
}

// TestRenderComplete renders every step with the lesson's values, a live
// lab's and nothing at all: no placeholder may survive.
func TestRenderComplete(t *testing.T) {
	for _, vc := range []struct {
		name string
		vars Vars
	}{{"lesson", LessonVars()}, {"live", live()}, {"empty", Vars{}}} {
		for _, st := range allSteps(t) {
			t.Run(vc.name+"/"+st.ID(), func(t *testing.T) {
				got := st.Render(vc.vars)
				for _, bad := range []string{"{{", "}}", "<no value>", "%!", "@if0"} {
					if strings.Contains(got, bad) {
						t.Errorf("render has %q:\n%s", bad, got)
					}
				}
			})
		}
	}
}

func TestLiveDiffers(t *testing.T) {
	tests := []struct {
		name string
		vars Vars
		want bool
	}{
		{"lesson", LessonVars(), false},
		{"empty", Vars{}, false},
		{"live", live(), true},
		{"one index", func() Vars { v := LessonVars(); v.PodPeerIndex = 12; return v }(), true},
		{"set by caller", Vars{LiveDiffers: true}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.vars.Data()["LiveDiffers"]; got != tc.want {
				t.Errorf("LiveDiffers = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRenderHandBuilt covers a Step not made by Lesson.
func TestRenderHandBuilt(t *testing.T) {
	tests := []struct{ body, want string }{
		{"pod {{.PodIP}}", "pod 198.19.22.132"},
		{"broken {{.Nope}}", "broken {{.Nope}}"},
		{"broken {{if}}", "broken {{if}}"},
	}
	for _, tc := range tests {
		t.Run(tc.body, func(t *testing.T) {
			if got := (Step{Body: tc.body}).Render(LessonVars()); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	const head = "# Title\n\n## Step\n<!-- step\nwhere: pod\n"
	tests := []struct {
		name, text, want string
	}{
		{"no title", "## Step\n", "starts with its title"},
		{"text before steps", "# T\nhello\n", "text before the first"},
		{"no block", "# T\n## Step\nbody\n", "followed by a \"<!-- step\""},
		{"unclosed block", "# T\n## Step\n<!-- step\nwhere: pod\n", "not closed"},
		{"unknown key", head + "colour: red\n-->\nbody\n", "unknown key \"colour\""},
		{"bad where", "# T\n## S\n<!-- step\nwhere: moon\n-->\nbody\n", "\"moon\" is not one of"},
		{"bad run place", head + "run@moon: ls\n-->\nbody\n", "\"moon\" is not one of"},
		{"bad view", head + "pod: addresses\n-->\nbody\n", "\"addresses\" is not one of"},
		{"bad extra", head + "extra: magic\n-->\nbody\n", "\"magic\" is not one of"},
		{"no colon", head + "where pod\n-->\nbody\n", "want \"key: value\""},
		{"empty value", head + "run:\n-->\nbody\n", "empty value"},
		{"no where", "# T\n## S\n<!-- step\nrun: ls\n-->\nbody\n", "missing \"where:\""},
		{"empty body", head + "-->\n\n", "empty body"},
		{"bad field", head + "-->\n{{.Nope}}\n", "Nope"},
		{"bad template", head + "-->\n{{if}}\n", "missing value for if"},
		{"open fence", head + "-->\n```\ncode\n", "code fence not closed"},
		{"no steps", "# T\n", "no steps"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseSection("x.md", 1, tc.text)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %v, want one containing %q", err, tc.want)
			}
			for _, l := range strings.Split(err.Error(), "\n") {
				if !regexp.MustCompile(`^x\.md:\d+: `).MatchString(l) {
					t.Errorf("error line %q does not start with file:line", l)
				}
			}
		})
	}
}

func TestParseSyntax(t *testing.T) {
	text := "# Title\n\n## First\n<!-- step\nrun: ls\nwhere: node\nrun@pod: exit\npod: addr route\nhost: link\nhighlight: gateway pod-ip\nextra: arp\n-->\nBody one.\n\n```\n## not a heading\n```\n\n## Second\n<!-- step\nwhere: host1\n-->\nBody two.\n"
	sec, err := parseSection("x.md", 3, text)
	if err != nil {
		t.Fatal(err)
	}
	if sec.Title != "Title" || len(sec.Steps) != 2 {
		t.Fatalf("got %q with %d steps", sec.Title, len(sec.Steps))
	}
	st := sec.Steps[0]
	want := []Command{{"ls", "node"}, {"exit", "pod"}}
	if !slices.Equal(st.Commands, want) {
		t.Errorf("commands %+v, want %+v", st.Commands, want)
	}
	if st.ID() != "3.1" || st.Where != "node" || st.Extra != "arp" ||
		!slices.Equal(st.PodViews, []string{"addr", "route"}) ||
		!slices.Equal(st.HostViews, []string{"link"}) ||
		!slices.Equal(st.Highlight, []string{"gateway", "pod-ip"}) {
		t.Errorf("step parsed as %+v", st)
	}
	if !strings.Contains(st.Body, "## not a heading") {
		t.Errorf("a heading inside a code fence ended the step: %q", st.Body)
	}
	if sec.Steps[1].Body != "Body two.\n" || sec.Steps[1].ID() != "3.2" {
		t.Errorf("second step %+v", sec.Steps[1])
	}
}

// seedPath finds the lesson text, ../shared/seed from the repository root,
// by walking up from this package.
func seedPath() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, "shared", "seed", "pod-connectivity-fundamentals.txt")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		up := filepath.Dir(dir)
		if up == dir {
			return ""
		}
		dir = up
	}
}

var (
	codeBlock = regexp.MustCompile("(?s)```.*?```")
	codeSpan  = regexp.MustCompile("`[^`]*`")
	indented  = regexp.MustCompile(`(?m)^(    |\t).*$`)
	word      = regexp.MustCompile(`[a-z0-9]+`)
)

// shingles are the runs of n consecutive normalised words of s. Numbers
// are left out: addresses and indices are facts, not wording.
func shingles(s string, n int) map[string]bool {
	var words []string
	for _, w := range word.FindAllString(strings.ToLower(s), -1) {
		if strings.Trim(w, "0123456789") != "" {
			words = append(words, w)
		}
	}
	out := map[string]bool{}
	for i := 0; i+n <= len(words); i++ {
		out[strings.Join(words[i:i+n], " ")] = true
	}
	return out
}

// ngram is how many consecutive words make a copied sentence.
const ngram = 8

// seedHashes is where TestOwnWords keeps the lesson text's runs of words,
// hashed: the check then runs wherever the tests do, the text itself
// being kept outside the repository.
var seedHashes = filepath.Join("testdata", "seed-shingles.txt")

var update = flag.Bool("update", false, "rewrite testdata/seed-shingles.txt from the lesson text")

func shingleHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}

// TestOwnWords checks no prose sentence of the lesson text was copied: no
// run of 8 words outside code may match the seed. Commands and example
// output are the same on purpose, so code is left out.
func TestOwnWords(t *testing.T) {
	if p := seedPath(); p != "" {
		seed, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for sh := range shingles(string(seed), ngram) {
			lines = append(lines, shingleHash(sh))
		}
		slices.Sort(lines)
		want := "# sha256[:8] of each run of 8 words of the lesson text; go test ./content -run TestOwnWords -update rewrites it\n" +
			strings.Join(lines, "\n") + "\n"
		if *update {
			if err := os.WriteFile(seedHashes, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got, _ := os.ReadFile(seedHashes); string(got) != want {
			t.Fatalf("%s is not the lesson text's: run go test ./content -run TestOwnWords -update", seedHashes)
		}
	}
	data, err := os.ReadFile(seedHashes)
	if err != nil {
		t.Fatalf("%v: run go test ./content -run TestOwnWords -update where the lesson text is", err)
	}
	seedSh := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			seedSh[l] = true
		}
	}
	if len(seedSh) < 100 {
		t.Fatalf("%s holds only %d runs of words", seedHashes, len(seedSh))
	}
	for _, st := range allSteps(t) {
		t.Run(st.ID(), func(t *testing.T) {
			prose := st.Title + "\n" + st.Render(LessonVars())
			prose = codeBlock.ReplaceAllString(prose, " ")
			prose = indented.ReplaceAllString(prose, " ")
			prose = codeSpan.ReplaceAllString(prose, " ")
			for sh := range shingles(prose, ngram) {
				if seedSh[shingleHash(sh)] {
					t.Errorf("copied from the lesson text: %q", sh)
				}
			}
		})
	}
}

// TestNotes: every step carries speaker notes for the presenter.
func TestNotes(t *testing.T) {
	for _, st := range allSteps(t) {
		if len(st.Notes) == 0 {
			t.Errorf("step %s %q has no notes:", st.ID(), st.Title)
		}
		for _, n := range st.Notes {
			if strings.Contains(n, "{{") {
				t.Errorf("step %s: notes are plain text, not a template: %q", st.ID(), n)
			}
		}
	}
}

// TestRenderCommands: a step's commands are typed as the lesson prints
// them, except where they name what is in the lab now.
func TestRenderCommands(t *testing.T) {
	var del Step
	for _, st := range allSteps(t) {
		if st.Extra == "delete" {
			del = st
		}
	}
	tests := []struct {
		name string
		vars Vars
		want string
	}{
		{"the lesson's", LessonVars(), "sudo podlab sandbox delete-pod yaobank/summary-85c56b76d7-28hm5"},
		{"a pod that exists now", Vars{DeletePod: "yaobank/summary-85c56b76d7-q8wm5"}, "sudo podlab sandbox delete-pod yaobank/summary-85c56b76d7-q8wm5"},
		{"none known", Vars{}, "sudo podlab sandbox delete-pod NAMESPACE/POD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := del.RenderCommands(tt.vars)
			if len(cs) != 1 || cs[0].Text != tt.want || cs[0].Where != "host1" {
				t.Errorf("RenderCommands = %+v, want %q on host1", cs, tt.want)
			}
		})
	}
	// The rest are as the lesson prints them.
	for _, st := range allSteps(t) {
		for i, c := range st.RenderCommands(live()) {
			if !strings.Contains(st.Commands[i].Text, "{{") && c != st.Commands[i] {
				t.Errorf("step %s: %q became %q", st.ID(), st.Commands[i].Text, c.Text)
			}
		}
	}
}
