package netview

import "strings"

// Tag says what a piece of rendered text means; ui and `podlab show` map
// tags to styles, never to meanings of their own.
type Tag string

// Tags. Route classes tag their lines with "route-" + the class.
const (
	TagNone     Tag = ""
	TagVethPod  Tag = "veth-pod"  // the pod's eth0 and its @ifN
	TagVethHost Tag = "veth-host" // the host's cali… end and its @ifM
	TagGateway  Tag = "gateway"   // CalicoGateway wherever it appears
	TagPodIP    Tag = "pod-ip"    // the pod's own address
	TagNetnsID  Tag = "netnsid"   // link-netnsid N / link-netns cni-…
	TagMAC      Tag = "mac"       // CalicoMAC and the pod MAC
	TagIfName   Tag = "ifname"    // any other interface name
	TagFlags    Tag = "flags"     // <BROADCAST,...>
	TagState    Tag = "state"     // state UP/DOWN
	TagMuted    Tag = "muted"     // valid_lft lines and other noise
)

// RouteTag is the tag of a route class.
func RouteTag(c Class) Tag {
	if t, ok := routeTags[c]; ok {
		return t // no new string for each of a node's routes
	}
	return Tag("route-" + string(c))
}

// Classes are every route class, pod-side ones first: for legends and
// styles that must cover each.
func Classes() []Class {
	return []Class{ClassPodDefault, ClassPodGateway, ClassLocalPod, ClassLocalBlockBlackhole,
		ClassRemoteBlock, ClassRemotePod, ClassTunnelEndpoint, ClassDefault, ClassConnected, ClassOther}
}

var routeTags = func() map[Class]Tag {
	m := map[Class]Tag{}
	for _, c := range Classes() {
		m[c] = Tag("route-" + string(c))
	}
	return m
}()

// Span is a run of text with one meaning.
type Span struct {
	Text string `json:"text"`
	Tag  Tag    `json:"tag,omitempty"`
}

// Line is one line of a rendered view. Key identifies what the line is
// about (e.g. "link:9", "route:198.19.22.132"), so a UI can select it
// and explain it.
type Line struct {
	Key   string `json:"key,omitempty"`
	Spans []Span `json:"spans"`
}

// String is the line's plain text.
func (l Line) String() string {
	var b strings.Builder
	for _, s := range l.Spans {
		b.WriteString(s.Text)
	}
	return b.String()
}

// HasTag reports whether any span of the line carries the tag.
func (l Line) HasTag(t Tag) bool {
	for _, s := range l.Spans {
		if s.Tag == t {
			return true
		}
	}
	return false
}

// Plain joins lines into text with no styling.
func Plain(lines []Line) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.String())
		b.WriteByte('\n')
	}
	return b.String()
}
