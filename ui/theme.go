package ui

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"

	"podlab/netview"
	"podlab/prose"
)

// This file holds every colour the program uses; nothing else names one.

// palette is one colour per meaning, for a light or a dark background.
type palette struct {
	veth, gateway, podIP, mac, muted, accent, bad, good color.Color
	classes                                             map[netview.Class]color.Color
	titleFg, titleBg, titleFocusBg, selBg               color.Color
	// The lesson's text: headings, inline code, code blocks, links.
	heading, h1Fg, h1Bg, code, codeBg, codeBlock, link, url color.Color
}

func newPalette(dark bool) palette {
	ld := lipgloss.LightDark(dark)
	c := func(light, dark string) color.Color { return ld(lipgloss.Color(light), lipgloss.Color(dark)) }
	return palette{
		veth:    c("#AF00AF", "#E070E0"),
		gateway: c("#AF5F00", "#FFAF00"),
		podIP:   c("#005F87", "#5FD7FF"),
		mac:     c("#5F5F87", "#AFAFD7"),
		muted:   c("#8A8A8A", "#6C6C6C"),
		accent:  c("#005FD7", "#87AFFF"),
		bad:     c("#D70000", "#FF5F5F"),
		good:    c("#008700", "#87D75F"),
		classes: map[netview.Class]color.Color{
			netview.ClassPodDefault:          c("#878700", "#D7D787"),
			netview.ClassPodGateway:          c("#AF5F00", "#FFAF00"),
			netview.ClassLocalPod:            c("#008700", "#87D75F"),
			netview.ClassLocalBlockBlackhole: c("#D70000", "#FF5F5F"),
			netview.ClassRemoteBlock:         c("#0000D7", "#5F87FF"),
			netview.ClassRemotePod:           c("#008787", "#5FD7AF"),
			netview.ClassTunnelEndpoint:      c("#5F00D7", "#AF87FF"),
			netview.ClassServiceRange:        c("#AF5F00", "#FFAF00"),
			netview.ClassDefault:             c("#878700", "#D7D787"),
			netview.ClassConnected:           c("#5F5F87", "#AFAFD7"),
			netview.ClassOther:               c("#6C6C6C", "#9E9E9E"),
		},
		titleFg:      c("#000000", "#FFFFFF"),
		titleBg:      c("#D0D0D0", "#3A3A3A"),
		titleFocusBg: c("#AFAFFF", "#5F5FAF"),
		selBg:        c("#D7D7FF", "#303050"),
		heading:      c("#005FFF", "#00AFFF"),
		h1Fg:         c("#FFFF87", "#FFFF87"),
		h1Bg:         c("#5F5FFF", "#5F5FFF"),
		code:         c("#FF5F5F", "#FF5F5F"),
		codeBg:       c("#E4E4E4", "#303030"),
		codeBlock:    c("#6C6C6C", "#808080"),
		link:         c("#00875F", "#00AF5F"),
		url:          c("#00AF87", "#008787"),
	}
}

// classOrder is the order classes appear in legends.
var classOrder = []netview.Class{
	netview.ClassPodDefault, netview.ClassPodGateway,
	netview.ClassLocalPod, netview.ClassLocalBlockBlackhole,
	netview.ClassRemoteBlock, netview.ClassRemotePod, netview.ClassTunnelEndpoint, netview.ClassServiceRange,
	netview.ClassDefault, netview.ClassConnected, netview.ClassOther,
}

// classCode is the two-letter marker a route line carries when there is no
// colour, so the class survives NO_COLOR.
var classCode = map[netview.Class]string{
	netview.ClassPodDefault:          "PD",
	netview.ClassPodGateway:          "PG",
	netview.ClassLocalPod:            "LP",
	netview.ClassLocalBlockBlackhole: "BH",
	netview.ClassRemoteBlock:         "RB",
	netview.ClassRemotePod:           "RP",
	netview.ClassTunnelEndpoint:      "TE",
	netview.ClassServiceRange:        "SR",
	netview.ClassDefault:             "DF",
	netview.ClassConnected:           "CN",
	netview.ClassOther:               "OT",
}

// classShort is a class's name in a legend.
var classShort = map[netview.Class]string{
	netview.ClassPodDefault:          "pod default",
	netview.ClassPodGateway:          "gateway route",
	netview.ClassLocalPod:            "local pod",
	netview.ClassLocalBlockBlackhole: "blackhole",
	netview.ClassRemoteBlock:         "remote block",
	netview.ClassRemotePod:           "remote pod",
	netview.ClassTunnelEndpoint:      "tunnel endpoint",
	netview.ClassServiceRange:        "service range",
	netview.ClassDefault:             "default",
	netview.ClassConnected:           "connected",
	netview.ClassOther:               "other",
}

// Theme is every style of the program, for one background and colour mode.
type Theme struct {
	NoColor bool
	Dark    bool
	pal     palette

	Header, HeaderDim, Progress, ProgressEmpty lipgloss.Style
	Title, TitleFocus, Tab, TabActive          lipgloss.Style
	Command, Where                             lipgloss.Style
	Explain, ExplainKey                        lipgloss.Style
	Status, StatusErr, StatusChange            lipgloss.Style
	Added, Removed, Muted                      lipgloss.Style
	Selected                                   lipgloss.Style
	Good, Bad                                  lipgloss.Style
	Prompt                                     lipgloss.Style
	Help                                       help.Styles
	// Prose is the lesson's text.
	Prose prose.Styles
}

// NewTheme builds the styles for a dark or light background; noColor keeps
// only bold, underline and reverse so meaning survives NO_COLOR.
func NewTheme(dark, noColor bool) Theme {
	p := newPalette(dark)
	t := Theme{NoColor: noColor, Dark: dark, pal: p}
	s := lipgloss.NewStyle
	if noColor {
		t.Header = s().Bold(true)
		t.HeaderDim = s()
		t.Progress = s()
		t.ProgressEmpty = s()
		t.Title = s().Underline(true)
		t.TitleFocus = s().Reverse(true).Bold(true)
		t.Tab = s()
		t.TabActive = s().Reverse(true).Bold(true)
		t.Command = s().Bold(true)
		t.Where = s()
		t.Explain = s()
		t.ExplainKey = s().Bold(true)
		t.Status = s()
		t.StatusErr = s().Bold(true)
		t.StatusChange = s().Bold(true)
		t.Added = s().Bold(true)
		t.Removed = s()
		t.Muted = s()
		t.Selected = s().Reverse(true)
		t.Good = s().Bold(true)
		t.Bad = s().Bold(true)
		t.Prompt = s().Bold(true)
		t.Help = help.Styles{
			Ellipsis: s(), ShortKey: s().Bold(true), ShortDesc: s(), ShortSeparator: s(),
			FullKey: s().Bold(true), FullDesc: s(), FullSeparator: s(),
		}
		t.Prose = prose.Styles{
			H1: s().Bold(true).Underline(true), Heading: s().Bold(true),
			Strong: s().Bold(true), Emph: s().Underline(true),
			Code: s(), CodeBlock: s(), Link: s().Bold(true), URL: s().Underline(true),
			Marker: s(), Rule: s(),
		}
		return t
	}
	t.Header = s().Bold(true).Foreground(p.accent)
	t.HeaderDim = s().Foreground(p.muted)
	t.Progress = s().Foreground(p.accent)
	t.ProgressEmpty = s().Foreground(p.muted)
	t.Title = s().Foreground(p.titleFg).Background(p.titleBg)
	t.TitleFocus = s().Foreground(p.titleFg).Background(p.titleFocusBg).Bold(true)
	t.Tab = s().Foreground(p.muted)
	t.TabActive = s().Foreground(p.titleFg).Background(p.titleFocusBg).Bold(true)
	t.Command = s().Bold(true).Foreground(p.accent)
	t.Where = s().Foreground(p.muted)
	t.Explain = s()
	t.ExplainKey = s().Bold(true).Foreground(p.accent)
	t.Status = s().Foreground(p.muted)
	t.StatusErr = s().Bold(true).Foreground(p.bad)
	t.StatusChange = s().Bold(true).Foreground(p.gateway)
	t.Added = s().Bold(true).Foreground(p.good)
	t.Removed = s().Foreground(p.bad)
	t.Muted = s().Foreground(p.muted)
	t.Selected = s().Background(p.selBg)
	t.Good = s().Bold(true).Foreground(p.good)
	t.Bad = s().Bold(true).Foreground(p.bad)
	t.Prompt = s().Bold(true).Foreground(p.accent)
	t.Help = help.DefaultStyles(dark)
	t.Prose = prose.Styles{
		H1:        s().Bold(true).Foreground(p.h1Fg).Background(p.h1Bg),
		Heading:   s().Bold(true).Foreground(p.heading),
		Strong:    s().Bold(true),
		Emph:      s().Italic(true),
		Code:      s().Foreground(p.code).Background(p.codeBg),
		CodeBlock: s().Foreground(p.codeBlock),
		Link:      s().Bold(true).Foreground(p.link),
		URL:       s().Underline(true).Foreground(p.url),
		Marker:    s().Foreground(p.muted),
		Rule:      s().Foreground(p.muted),
	}
	return t
}

// TagStyle is the style of a span with that tag; hi says the step is about
// that tag, which makes it bold (and underlined without colour).
func (t Theme) TagStyle(tag netview.Tag, hi bool) lipgloss.Style {
	s := lipgloss.NewStyle()
	if t.NoColor {
		switch tag {
		case netview.TagVethPod, netview.TagVethHost:
			s = s.Underline(true)
		case netview.TagGateway:
			s = s.Bold(true)
		case netview.TagCounterMoved, netview.TagSessionDown:
			s = s.Reverse(true)
		}
		if hi && tag != netview.TagNone && tag != netview.TagMuted {
			s = s.Bold(true).Underline(true)
		}
		return s
	}
	switch tag {
	case netview.TagVethPod, netview.TagVethHost, netview.TagNetnsID:
		s = s.Foreground(t.pal.veth)
	case netview.TagGateway:
		s = s.Foreground(t.pal.gateway)
	case netview.TagPodIP:
		s = s.Foreground(t.pal.podIP)
	case netview.TagMAC:
		s = s.Foreground(t.pal.mac)
	case netview.TagMuted:
		s = s.Foreground(t.pal.muted)
	case netview.TagSessionUp:
		s = s.Foreground(t.pal.good)
	case netview.TagSessionDown:
		s = s.Foreground(t.pal.bad)
	case netview.TagKubeServices, netview.TagServiceRange, netview.TagPoolExternal, netview.TagNodePort:
		s = s.Foreground(t.pal.gateway)
	case netview.TagKubeSVC, netview.TagService, netview.TagPeer:
		s = s.Foreground(t.pal.accent)
	case netview.TagKubeSEP, netview.TagEndpoint:
		s = s.Foreground(t.pal.veth)
	case netview.TagDNAT, netview.TagPool:
		s = s.Foreground(t.pal.podIP)
	case netview.TagProbability:
		s = s.Foreground(t.pal.mac)
	case netview.TagCounterMoved:
		// What a request just moved stands out whether or not the step
		// highlights it.
		s = s.Reverse(true)
	default:
		if c, ok := t.classColor(tag); ok {
			s = s.Foreground(c)
		}
	}
	if hi && tag != netview.TagNone && tag != netview.TagMuted {
		s = s.Bold(true)
	}
	return s
}

func (t Theme) classColor(tag netview.Tag) (color.Color, bool) {
	for c, col := range t.pal.classes {
		if netview.RouteTag(c) == tag {
			return col, true
		}
	}
	return nil, false
}

// Swatch is a legend's sample of a tag's style.
func (t Theme) Swatch(tag netview.Tag, label string) string {
	if t.NoColor {
		return t.TagStyle(tag, false).Render(label)
	}
	return t.TagStyle(tag, false).Render("■") + " " + label
}
