package content

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"text/template"
)

// Result is the verdict on a student's answer to a step's question.
type Result struct {
	OK bool
	// Hint says what to look at when the answer is wrong, without giving
	// the answer away; on a right answer it may say why it is right.
	Hint string
	// Unknown: the lab does not tell podlab the answer, so nothing can be
	// checked (the UI lets the student move on).
	Unknown bool
}

// RevealAfter is how many wrong answers a student gives before the UI
// shows the answer (Step.Answer).
const RevealAfter = 2

// checkKinds are the questions a step may ask; each is answered by one
// field of Vars (its Data key, which RenderAsking hides).
var checkKinds = map[string]string{
	"pod-ip":          "PodIP",
	"peer-index":      "PodPeerIndex",
	"host-if":         "HostIf",
	"host-peer-index": "HostPeerIndex",
	"gateway":         "Gateway",
	"node":            "Node",
	"own-block":       "OwnBlock",
	"remote-node":     "RemoteNode",
	"block-size":      "BlockSize",
}

// CheckKinds are the kinds a step's "check:" may name, sorted.
func CheckKinds() []string {
	var out []string
	for k := range checkKinds {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Question is the step's question with the placeholders filled from v,
// or "" for a step without a check.
func (s Step) Question(v Vars) string {
	if s.CheckKind == "" {
		return ""
	}
	t := s.askTmpl
	if t == nil {
		var err error
		if t, err = parseBody(s.ID()+" ask", s.Ask); err != nil {
			return s.Ask
		}
	}
	out, err := execute(t, v.Data())
	if err != nil {
		return s.Ask
	}
	return strings.TrimSpace(out)
}

// RenderAsking is the body as shown while the step's question is not yet
// answered: the value asked for reads "?", so the text does not answer
// for the student what their terminal should. Without a check it is Render.
func (s Step) RenderAsking(v Vars) string {
	key, ok := checkKinds[s.CheckKind]
	if !ok {
		return s.Render(v)
	}
	t := s.tmpl
	if t == nil {
		var err error
		if t, err = parseBody(s.Title, s.Body); err != nil {
			return s.Body
		}
	}
	d := v.Data()
	d[key] = "?"
	// Fields that would give the value away by another name.
	switch key {
	case "BlockSize":
		d["BlockAddrs"] = ""
	case "RemoteNode":
		d["RemoteBlocks"] = ""
	}
	// The comparison with the lesson's value would name it.
	d["Differs"].(map[string]bool)[key] = false
	out, err := execute(t, d)
	if err != nil {
		return s.Body
	}
	return out
}

// Answer is the right answer to the step's question in v, as text, and
// whether it is known.
func (s Step) Answer(v Vars) (string, bool) {
	var a string
	switch s.CheckKind {
	case "pod-ip":
		a = addrText(v.PodIP)
	case "peer-index":
		a = positive(v.PodPeerIndex)
	case "host-peer-index":
		a = positive(v.HostPeerIndex)
	case "host-if":
		a = v.HostIf
	case "gateway":
		a = v.gateway().String()
	case "node":
		a = v.Node
	case "own-block":
		a = prefixText(v.OwnBlock)
	case "remote-node":
		a = v.RemoteNode
	case "block-size":
		a = lengthText(v.BlockSize)
	}
	return a, a != ""
}

func positive(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// Check judges a student's answer to the step's question against the live
// values. It forgives case, spaces, quotes and the forms the terminal
// prints the value in (@if9 for 9, 198.19.22.132/32 for the address); a
// wrong answer gets a hint at where to look.
func (s Step) Check(v Vars, answer string) Result {
	want, ok := s.Answer(v)
	if !ok {
		return Result{Unknown: true, Hint: "podlab cannot tell the answer from this lab; move on with n"}
	}
	in := normalize(answer)
	if in == "" {
		return Result{Hint: "type an answer, then enter"}
	}
	switch s.CheckKind {
	case "pod-ip", "gateway":
		return checkAddr(s.CheckKind, v, in, want)
	case "peer-index", "host-peer-index":
		return checkIndex(s.CheckKind, v, in, want)
	case "host-if":
		return checkHostIf(v, in, want)
	case "node", "remote-node":
		return checkNode(s.CheckKind, v, in, want)
	case "own-block":
		return checkBlock(v, in, want)
	case "block-size":
		return checkSize(v, in, want)
	}
	return Result{Unknown: true, Hint: "podlab cannot check this question"}
}

// normalize lowercases and trims an answer and what people wrap it in.
func normalize(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.Trim(s, "`'\".,;!? \t")
	return strings.Join(strings.Fields(s), " ")
}

// lastField is the last word of an answer: "inet 198.19.22.132/32" and
// "via 198.19.0.3" name their value last.
func lastField(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

// parseAddr reads an address, with or without a prefix length.
func parseAddr(s string) (netip.Addr, bool) {
	s = lastField(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Addr(), true
	}
	a, err := netip.ParseAddr(s)
	return a, err == nil
}

func checkAddr(kind string, v Vars, in, want string) Result {
	w, _ := parseAddr(want)
	got, ok := parseAddr(in)
	if !ok {
		return Result{Hint: fmt.Sprintf("%q is not an IP address; answer with one, like 10.1.2.3", in)}
	}
	if got == w {
		return Result{OK: true}
	}
	gw := v.gateway()
	switch kind {
	case "pod-ip":
		if got == gw {
			return Result{Hint: "that is the gateway every pod routes through; the pod's own address is the inet line of eth0 in ip addr"}
		}
		if got.IsLoopback() {
			return Result{Hint: "that is lo's address; the pod's own is on eth0"}
		}
		return Result{Hint: "look at ip addr in the pod: the inet address on eth0 (the IP column of kubectl get pods -o wide says the same)"}
	default:
		if v.PodIP.IsValid() && got == v.PodIP {
			return Result{Hint: "that is the pod's own address; where does its default route send everything else?"}
		}
		return Result{Hint: "look at ip route in the pod: the address after \"default via\""}
	}
}

// indexOf reads an interface number: 9, @if9, if9, eth0@if9.
func indexOf(s string) (int, bool) {
	s = lastField(s)
	if i := strings.LastIndex(s, "@if"); i >= 0 {
		s = s[i+3:]
	} else {
		s = strings.TrimPrefix(s, "if")
	}
	s = strings.TrimSuffix(s, ":")
	n, err := strconv.Atoi(s)
	return n, err == nil && n > 0
}

func checkIndex(kind string, v Vars, in, want string) Result {
	w, _ := strconv.Atoi(want)
	got, ok := indexOf(in)
	if !ok {
		return Result{Hint: "answer with the interface number, e.g. 7 (or @if7)"}
	}
	if got == w {
		return Result{OK: true}
	}
	if kind == "peer-index" {
		if got == v.PodIndex {
			return Result{Hint: "that is eth0's own number, at the start of its line; the far end's number comes after @if"}
		}
		return Result{Hint: "look at eth0's line in ip -c link show up: the number right after @if"}
	}
	if got == v.HostIndex {
		return Result{Hint: "that is the cali interface's own number, at the start of its line; its far end's comes after @if"}
	}
	return Result{Hint: "on the node, look at the pod's cali… line in ip -c link show up: the number right after @if"}
}

func checkHostIf(v Vars, in, want string) Result {
	got := lastField(in)
	if i := strings.Index(got, ":"); i >= 0 && i < len(got)-1 {
		got = got[i+1:] // "9:caliea2aa288365"
	}
	got, _, _ = strings.Cut(got, "@")
	got = strings.TrimSuffix(got, ":")
	if got == strings.ToLower(want) {
		return Result{OK: true}
	}
	where := "the interface whose number is the pod's @ifN"
	if v.PodPeerIndex > 0 {
		where = "interface " + strconv.Itoa(v.PodPeerIndex) + ", the number the pod's @if named"
	}
	prefix := strings.ToLower(v.prefix())
	switch {
	case got == "eth0" || got == strings.ToLower(v.PodIf):
		return Result{Hint: "that is the pod's end of the cable; on the node, its other end has another name: " + where}
	case strings.HasPrefix(got, prefix):
		return Result{Hint: "that is a " + prefix + " interface, but not this pod's; find " + where}
	}
	return Result{Hint: "on the node, ip -c link show up: the name of " + where + ", before the @"}
}

func checkNode(kind string, v Vars, in, want string) Result {
	got := lastField(in)
	w := strings.ToLower(want)
	short, _, _ := strings.Cut(w, ".")
	if got == w || got == short && !strings.Contains(got, ".") {
		return Result{OK: true}
	}
	if _, err := netip.ParseAddr(got); err == nil {
		if kind == "remote-node" && got == addrText(v.RemoteVia) {
			return Result{Hint: "that is the node's address; answer with its name (kubectl get nodes -o wide pairs them)"}
		}
		return Result{Hint: "answer with the node's name, not an address"}
	}
	if kind == "node" {
		if got == "host1" {
			return Result{Hint: "host1 is where you type kubectl; the pod runs on one of the cluster's nodes"}
		}
		return Result{Hint: "kubectl get pods -o wide names it in the NODE column"}
	}
	if got == strings.ToLower(v.Node) {
		return Result{Hint: "that is the node you are on; this block belongs to another one"}
	}
	if v.RemoteVia.IsValid() {
		return Result{Hint: "the route goes via " + v.RemoteVia.String() + ": which node has that address? (kubectl get nodes -o wide)"}
	}
	return Result{Hint: "the route names a next hop: which node has that address? (kubectl get nodes -o wide)"}
}

func checkBlock(v Vars, in, want string) Result {
	w, _ := netip.ParsePrefix(want)
	s := lastField(in)
	p, err := netip.ParsePrefix(s)
	if err != nil {
		if a, aerr := netip.ParseAddr(s); aerr == nil {
			if a == w.Masked().Addr() {
				return Result{Hint: "give the whole block: its first address, a slash and the prefix length"}
			}
			if w.Contains(a) {
				return Result{Hint: "that address is inside the block; give the block itself (ADDRESS/LENGTH)"}
			}
			return Result{Hint: "give a block as ADDRESS/LENGTH, the way ip route prints it"}
		}
		return Result{Hint: fmt.Sprintf("%q is not a block; give one as ADDRESS/LENGTH, the way ip route prints it", in)}
	}
	if p.Masked() == w.Masked() {
		return Result{OK: true}
	}
	if r := v.RemoteBlock; r.IsValid() && p.Masked() == r.Masked() || strings.Contains(v.RemoteBlocks, p.String()+" ") {
		return Result{Hint: "that block belongs to another node (its route goes via that node); this node's own block is the one it blackholes"}
	}
	if p.Contains(w.Addr()) || w.Contains(p.Addr()) {
		return Result{Hint: "close: check the prefix length, and look for the blackhole line of ip route on the node"}
	}
	return Result{Hint: "look at ip route on the node: the blackhole line names the node's own block"}
}

func checkSize(v Vars, in, want string) Result {
	w, _ := strconv.Atoi(strings.TrimPrefix(want, "/"))
	s := lastField(in)
	if i := strings.LastIndex(s, "/"); i >= 0 {
		s = s[i+1:]
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return Result{Hint: "answer with the prefix length, e.g. /24"}
	}
	if n == w {
		return Result{OK: true}
	}
	if addrs := blockAddrs(w); w > 0 && addrs != "" && s == addrs {
		return Result{OK: true, Hint: "that many addresses, yes: a /" + strconv.Itoa(w)}
	}
	return Result{Hint: "look at the routes marked proto bird on the node: the number after the slash"}
}

// parseAsk checks a step's question when the lesson is loaded, as finish
// does its body.
func parseAsk(id, ask string) (*template.Template, error) {
	t, err := parseBody(id+" ask", ask)
	if err != nil {
		return nil, err
	}
	for _, v := range []Vars{LessonVars(), {}} {
		if _, err := execute(t, v.Data()); err != nil {
			return nil, err
		}
	}
	return t, nil
}
