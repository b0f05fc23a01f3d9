// Package content is the lesson podlab walks through: "Pod Connectivity
// Fundamentals", one embedded markdown file per section under lesson/,
// parsed once into sections and steps.
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
//	check:     what a self-paced student is asked to read off their own
//	           terminal at this step, answered from the live values:
//	           pod-ip, peer-index (the N of eth0@ifN), host-if,
//	           host-peer-index, gateway, node, own-block, remote-node
//	           (the node behind RemoteBlock) or block-size
//	ask:       the question, one line, with {{placeholders}} as in a
//	           body; "check" and "ask" come together, and not on a step
//	           with "extra: lookup"
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
// A body is a text/template over the fields that Vars.Data returns: the
// live values ({{.PodIP}}, {{.HostIf}}, {{.PodPeerIndex}}, ...), the
// lesson's own values under .Lesson ({{.Lesson.PodPeerIndex}}), and under
// .Differs whether a live value is known and differs from the lesson's:
//
//	{{if .Differs.PodPeerIndex}}(The lesson showed @if{{.Lesson.PodPeerIndex}}.){{end}}
//
// A value that is not known renders as a stand-in that reads well in prose
// and in a command alike ("POD_IP", "NODE", "cali…", "@ifB"), so a body
// always makes sense. While a step's question is unanswered, the UI shows
// RenderAsking, where the value asked for reads "?". Every body and question is executed
// once with the lesson's values and once with none when the lesson is
// loaded, so a misspelt field fails Lesson, not a student's screen.
package content
