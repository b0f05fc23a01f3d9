package content

import (
	"errors"
	"fmt"
	"strings"
	"text/template"
	"text/template/parse"
)

// tmpl is a pack's text with {{placeholders}}: Go's text/template, cut
// down to what text needs (fields, if/else/with, and, or, not, eq, ne,
// lt, le, gt, ge, len, index), so a pack's template can loop on nothing,
// call nothing and print nothing but the facts.
type tmpl = template.Template

// MaxRenderBytes bounds what one template writes.
const MaxRenderBytes = 1 << 20

var allowedFuncs = map[string]bool{
	"and": true, "or": true, "not": true, "eq": true, "ne": true, "lt": true,
	"le": true, "gt": true, "ge": true, "len": true, "index": true,
}

// parseTemplate parses text, refusing what a pack may not use. name is
// "file:line" for errors.
func parseTemplate(name, text string, missingKeyError bool) (*tmpl, error) {
	t := template.New(name)
	if missingKeyError {
		t = t.Option("missingkey=error")
	}
	t, err := t.Parse(text)
	if err != nil {
		return nil, err
	}
	for _, tr := range t.Templates() {
		if tr.Name() != name {
			return nil, fmt.Errorf("%s: a pack's text defines no templates", name)
		}
		if tr.Tree == nil || tr.Root == nil {
			continue
		}
		if err := allowed(tr.Root); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func allowed(n parse.Node) error {
	switch n := n.(type) {
	case nil:
		return nil
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := allowed(c); err != nil {
				return err
			}
		}
	case *parse.RangeNode:
		return errors.New("{{range}} is not allowed in a pack's text")
	case *parse.TemplateNode:
		return errors.New("{{template}} is not allowed in a pack's text")
	case *parse.IfNode:
		return branch(&n.BranchNode)
	case *parse.WithNode:
		return branch(&n.BranchNode)
	case *parse.ActionNode:
		return pipe(n.Pipe)
	case *parse.TextNode, *parse.CommentNode:
	default:
		return fmt.Errorf("%s is not allowed in a pack's text", n)
	}
	return nil
}

func branch(b *parse.BranchNode) error {
	if err := pipe(b.Pipe); err != nil {
		return err
	}
	if err := allowed(b.List); err != nil {
		return err
	}
	if b.ElseList != nil {
		return allowed(b.ElseList)
	}
	return nil
}

func pipe(p *parse.PipeNode) error {
	if p == nil {
		return nil
	}
	if len(p.Decl) > 0 {
		return errors.New("variables ($x :=) are not allowed in a pack's text")
	}
	for _, c := range p.Cmds {
		for _, a := range c.Args {
			switch a := a.(type) {
			case *parse.IdentifierNode:
				if !allowedFuncs[a.Ident] {
					return fmt.Errorf("the function %q is not allowed in a pack's text", a.Ident)
				}
			case *parse.PipeNode:
				if err := pipe(a); err != nil {
					return err
				}
			case *parse.FieldNode, *parse.StringNode, *parse.NumberNode, *parse.BoolNode, *parse.DotNode, *parse.NilNode, *parse.ChainNode:
			case *parse.VariableNode:
				return errors.New("variables are not allowed in a pack's text")
			default:
				return fmt.Errorf("%s is not allowed in a pack's text", a)
			}
		}
	}
	return nil
}

// boundedWriter fails a render that writes more than MaxRenderBytes.
type boundedWriter struct {
	b strings.Builder
}

var errTooLong = errors.New("the text renders longer than a pack's text may be")

func (w *boundedWriter) Write(p []byte) (int, error) {
	if w.b.Len()+len(p) > MaxRenderBytes {
		return 0, errTooLong
	}
	return w.b.Write(p)
}

func execute(t *tmpl, data map[string]any) (string, error) {
	var w boundedWriter
	if err := t.Execute(&w, data); err != nil {
		return "", err
	}
	return w.b.String(), nil
}
