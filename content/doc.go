// Package content is podlab's lesson-pack engine: it loads a pack (a
// pack.yaml manifest and one markdown file per section, see packs/ and
// docs/packs.md), checks it, and renders its steps, questions and lab
// checks from a lab's facts. Questions, derived values and lab checks are
// CEL expressions; the tolerant comparisons of answers stay Go. It does no
// I/O beyond reading a pack through an fs.FS.
//
// # Files
//
// A section file is named "<number>-<slug>.md"; the number orders the
// sections. Its first line is the section title as a level-1 heading:
//
//	# How Pods See the Network
//
// # Steps
//
// Every step starts with a level-2 heading, its title, followed at once by
// an HTML comment that opens with "<!-- step" and holds one "key: value"
// per line (markdown viewers hide it):
//
//	## The pod's addresses
//	<!-- step
//	where: pod
//	run: ip addr
//	pod: addr
//	host: link
//	highlight: pod-ip veth-pod
//	-->
//	Markdown body, up to the next "## " heading (outside code fences).
//
// Keys (all optional, "run" may repeat):
//
//	where:     where the student types at this step: local (their own
//	           computer), host1, pod or node
//	run:       a command, typed where "where:" says; "run@pod: exit"
//	           names another place for that one command
//	pod:       views of the pod pane, main one first: addr link route neigh
//	host:      views of the host pane, same names; on a dual-stack
//	           side the pane adds ip -6 addr and ip -6 route after addr
//	           and route by itself (netview.Refresh.Views)
//	highlight: netview tag names to light up (veth-pod, gateway,
//	           route-local-pod, ...), space separated
//	extra:     hash, arp, lookup or delete for the steps that go beyond the lesson
//	           text; the UI may attach a live widget to them
//	ask:       a question for a self-paced student, one line, with
//	           {{placeholders}} as in a body; it comes with answer: and
//	           compare:, and not on a step with "extra: lookup"
//	answer:    a CEL expression over the facts giving the right answer
//	           ("" or 0: not known here)
//	compare:   how an answer is held against it: address, cidr, index,
//	           int, interface, length, node or text (Comparisons)
//	wrong:     "CONDITION => hint": a CEL condition on the student's
//	           answer (got, the right one as want) and what to say then
//	           (a template); repeatable, the first that holds is said
//	hint:      what to say of any other wrong answer (a template)
//	hide:      text values blanked while the question is open, besides
//	           the one the answer names
//	notes:     a paragraph of the presenter's speaker notes (plain text,
//	           repeatable): what to ask the class, what usually
//	           confuses; a paragraph that begins "Answer:" is the
//	           answer, which podlab --present shows only on a key, with
//	           the question's own answer
//
// Commands are kept exactly as the lesson prints them (e.g. "ssh node1");
// the body says when a live lab needs something else. A command that must
// name what is in the lab now may hold placeholders as a body does (step
// 4.8's `delete-pod {{.DeletePod}}`, a pod on the node that exists now);
// Step.RenderCommands fills them.
//
// # Bodies
//
// A body is a text/template (if, else, with, and, or, not, eq, ne, lt,
// le, gt, ge, len and index only) over the facts (Facts): the live values
// ({{.PodIP}}, {{.HostIf}}, {{.PodPeerIndex}}, ...), the pack's derived
// values, its example's values under .Lesson ({{.Lesson.PodPeerIndex}}),
// and under .Differs whether a live value is known and differs from the
// example's:
//
//	{{if .Differs.PodPeerIndex}}(The lesson showed @if{{.Lesson.PodPeerIndex}}.){{end}}
//
// A value that is not known renders as a stand-in that reads well in prose
// and in a command alike ("POD_IP", "NODE", "cali…", "@ifB"), so a body
// always makes sense. While a step's question is unanswered, the UI shows
// RenderAsking, where the value asked for reads "?". Load executes every
// text once with the example's values and once with none, and compiles
// every expression, so a misspelt field fails Load (and lint), not a
// student's screen; the built-in pack, which the tests lint, is compiled
// when first needed instead.
package content
