package content

import "text/template/parse"

// data is what a template of the pack sees: every fact as text (a
// stand-in when unknown), values computed from them, the pack's derived
// values, .Lesson with the example's values and .Differs with, per value
// the pack compares, whether the live value is known and differs.
func (pk *Pack) data(v *Vars) map[string]any { return pk.values(v, true) }

// dataFor is data for one template: the derived values only when it
// reads one, so most text renders without evaluating an expression.
func (pk *Pack) dataFor(t *tmpl, v *Vars) map[string]any { return pk.values(v, pk.usesDerived[t]) }

func (pk *Pack) values(v *Vars, derived bool) map[string]any {
	d := v.fields(true)
	raw := v.fields(false)
	les := pk.example.fields(true)
	differs := map[string]bool{}
	for _, k := range pk.Differs {
		differs[k] = raw[k] != "" && raw[k] != les[k]
		if differs[k] {
			d["LiveDiffers"] = true
		}
	}
	d["Lesson"] = les
	d["Differs"] = differs
	if derived && len(pk.Derived) > 0 {
		x := pk.x()
		act := x.activation(v)
		for _, dp := range x.derived {
			d[dp.name] = act[dp.name]
		}
	}
	return d
}

// Data is what a body of the built-in lesson sees; see Pack.data.
func (v Vars) Data() map[string]any {
	pk, err := loadLesson()
	if err != nil {
		return v.fields(true)
	}
	return pk.data(&v)
}

// readsDerived says whether a template reads one of the pack's derived
// values.
func (pk *Pack) readsDerived(t *tmpl) bool {
	if len(pk.derived) == 0 || t.Tree == nil {
		return false
	}
	found := false
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c)
				}
			}
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n != nil {
				for _, c := range n.Cmds {
					for _, a := range c.Args {
						walk(a)
					}
				}
			}
		case *parse.FieldNode:
			if len(n.Ident) > 0 && pk.derived[n.Ident[0]] {
				found = true
			}
		case *parse.ChainNode:
			walk(n.Node)
		}
	}
	walk(t.Root)
	return found
}
