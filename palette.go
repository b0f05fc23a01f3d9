package main

import (
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/x/term"

	"podlab/netview"
)

// palette maps netview's tags to ANSI colours for `podlab show`; the TUI
// has its own theme (ui/theme.go). It is empty when colour is off.
type palette struct{ on bool }

func newPalette(on bool) palette { return palette{on: on} }

// sgr holds the SGR parameters for each tag, in the same hues as the TUI's
// dark theme: veth ends share one colour, the gateway has its own, and each
// route class has one.
var sgr = map[netview.Tag]string{
	netview.TagVethPod:                                 "1;36",
	netview.TagVethHost:                                "1;36",
	netview.TagGateway:                                 "1;35",
	netview.TagPodIP:                                   "1;33",
	netview.TagNetnsID:                                 "36",
	netview.TagMAC:                                     "33",
	netview.TagIfName:                                  "36",
	netview.TagState:                                   "32",
	netview.TagMuted:                                   "2",
	netview.RouteTag(netview.ClassPodDefault):          "35",
	netview.RouteTag(netview.ClassPodGateway):          "35",
	netview.RouteTag(netview.ClassLocalPod):            "32",
	netview.RouteTag(netview.ClassLocalBlockBlackhole): "31",
	netview.RouteTag(netview.ClassRemoteBlock):         "34",
	netview.RouteTag(netview.ClassRemotePod):           "94",
	netview.RouteTag(netview.ClassDefault):             "33",
	netview.RouteTag(netview.ClassConnected):           "2",
}

func (p palette) tagged(s string, t netview.Tag) string {
	code, ok := sgr[t]
	if !p.on || !ok || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p palette) heading(s string) string {
	if !p.on {
		return s
	}
	return "\x1b[1m" + s + "\x1b[0m"
}

func (p palette) line(l netview.Line) string {
	var b strings.Builder
	for _, s := range l.Spans {
		b.WriteString(p.tagged(s.Text, s.Tag))
	}
	return b.String()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}
