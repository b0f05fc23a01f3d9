package content

import (
	"fmt"
	"strings"
)

// Reference is the part of the pack author's guide written from the code:
// the facts, podlab's CEL functions and the comparison kinds, as markdown.
// docs/packs.md holds it between its "generated" markers, and a test fails
// when the two differ, so the guide cannot drift from what podlab reads.
func Reference() string {
	var b strings.Builder
	b.WriteString("### Facts\n\n")
	b.WriteString("Text, questions and checks read these by name (`{{.PodIP}}` in text, `PodIP` in an\n")
	b.WriteString("expression). In text an unknown value reads as a stand-in (POD_IP, NODE, cali…);\n")
	b.WriteString("in an expression it is `\"\"`, `0` or `false`.\n\n")
	for _, sec := range []struct{ in, title string }{
		{"all", "Everywhere"},
		{"text", "In text only"},
		{"checks", "In lab checks only"},
	} {
		fmt.Fprintf(&b, "%s:\n\n| fact | type | what it is |\n|---|---|---|\n", sec.title)
		for _, f := range facts {
			if f.In == sec.in {
				fmt.Fprintf(&b, "| `%s` | %s | %s |\n", f.Name, f.Type, f.Doc)
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("### Functions\n\nBesides CEL's own and its string extension (`lowerAscii`, `split`, ...):\n\n")
	b.WriteString("| function | what it gives |\n|---|---|\n")
	for _, f := range functions {
		fmt.Fprintf(&b, "| `%s` | %s |\n", f.Signature, f.Doc)
	}
	b.WriteString("\n### Comparisons\n\nA question's `compare:` names one; it forgives what the student's terminal prints around\nthe value.\n\n")
	b.WriteString("| compare | the answer |\n|---|---|\n")
	for _, c := range Comparisons() {
		fmt.Fprintf(&b, "| `%s` | %s |\n", c[0], c[1])
	}
	b.WriteString("\n### Tags\n\nWhat `highlight:` and a check's `tags:` may name: ")
	var tags []string
	for _, t := range Tags() {
		tags = append(tags, "`"+t+"`")
	}
	b.WriteString(strings.Join(tags, ", ") + ".\n\n")
	fmt.Fprintf(&b, "### Views\n\nWhat a pane's views may name, and the reader each needs: ")
	var vs []string
	for _, v := range views {
		vs = append(vs, fmt.Sprintf("`%s` (%s)", v, viewReaders[v]))
	}
	b.WriteString(strings.Join(vs, ", ") + ".\n\n")
	fmt.Fprintf(&b, "### Bounds\n\n")
	fmt.Fprintf(&b, "- pack.yaml at most %d KiB, a section file %d KiB, a line %d KiB; %d section files, %d steps\n",
		MaxManifestBytes>>10, MaxSectionBytes>>10, maxLine>>10, MaxSections, MaxSteps)
	fmt.Fprintf(&b, "- an expression at most %d bytes; its evaluation at most %d cost units and %s\n", MaxExprBytes, ExprCostLimit, ExprTimeout)
	fmt.Fprintf(&b, "- what one template writes at most %d KiB\n", MaxRenderBytes>>10)
	return b.String()
}
