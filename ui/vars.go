package ui

import (
	"cmp"

	"podlab/content"
)

// whereName says where a command is typed, in the lab's own names.
func whereName(w string, v content.Vars) string {
	switch w {
	case "node":
		if v.Node != "" {
			return v.Node
		}
	case "local":
		return "you"
	}
	return w
}

// vars are the live values the lesson text is written with; none until
// the lab has been read.
func (m Model) vars() content.Vars {
	if m.lab() == nil {
		return content.Vars{}
	}
	return m.lab().Vars
}

// paneTitles are who the panes show, from the pair's facts: the pod's
// name and its node's.
func (m Model) paneTitles() (pod, node string) {
	pod, node = "pod", "node"
	if m.lab() != nil {
		f := &m.lab().Pair.Facts
		pod = cmp.Or(f.Pod.Name, pod)
		node = cmp.Or(f.NodeName(), node)
	}
	return pod, node
}
