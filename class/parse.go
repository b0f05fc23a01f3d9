package class

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"podlab/content"
)

// What travels is parsed here, apart from the network: a report on the
// server's side, a step event on the follower's. Both come from the
// other end of a network and are hostile until checked.

// reportError is why a report is refused, with its HTTP status.
type reportError struct {
	code int
	msg  string
}

func (e *reportError) Error() string { return e.msg }

// stepOK says whether (section, step) may be reported: a step of the
// lesson (steps), or any from 1.1 to 99.99 when steps is nil.
func stepOK(steps map[string]bool, section, step int) bool {
	id := content.StepID{Section: section, Step: step}
	return id.Valid() && (steps == nil || steps[id.String()])
}

// parseReport checks a report's body against the lesson's steps (nil
// takes any from 1.1 to 99.99): a name, a step of the lesson, and at most
// MaxAnswered ids of its steps. The name comes back cleaned (CleanName),
// the answered ids sorted and without repeats.
func parseReport(body []byte, steps map[string]bool) (Report, *reportError) {
	if len(body) > MaxReportBytes {
		return Report{}, &reportError{http.StatusRequestEntityTooLarge, fmt.Sprintf("report larger than %d bytes", MaxReportBytes)}
	}
	var rep Report
	if err := json.Unmarshal(body, &rep); err != nil {
		return Report{}, &reportError{http.StatusBadRequest, "bad report: want {name, section, step, answered}"}
	}
	rep.Name = CleanName(rep.Name)
	switch {
	case rep.Name == "":
		return Report{}, &reportError{http.StatusBadRequest, "bad report: no name"}
	case !stepOK(steps, rep.Section, rep.Step):
		return Report{}, &reportError{http.StatusBadRequest, "bad report: no such step in the presenter's lesson"}
	case len(rep.Answered) > MaxAnswered:
		return Report{}, &reportError{http.StatusBadRequest, fmt.Sprintf("bad report: more than %d answers", MaxAnswered)}
	}
	for _, a := range rep.Answered {
		if _, ok := content.ParseStepID(a); !ok || steps != nil && !steps[a] {
			return Report{}, &reportError{http.StatusBadRequest, "bad report: answered holds the ids of the lesson's steps, like 2.4"}
		}
	}
	rep.Answered = slices.Compact(slices.Sorted(slices.Values(rep.Answered)))
	return rep, nil
}

// parseEvent reads one line of the step stream: a position from a "data:"
// line, ok false for anything else (pings, blank lines, other fields, a
// position out of range).
func parseEvent(line string) (Position, bool) {
	data, ok := strings.CutPrefix(line, "data:")
	if !ok {
		return Position{}, false
	}
	data = strings.TrimPrefix(data, " ")
	var p Position
	if json.Unmarshal([]byte(data), &p) != nil || !stepOK(nil, p.Section, p.Step) {
		return Position{}, false
	}
	return p, true
}

// CleanName makes a follower's name safe for the presenter's terminal:
// control and other unprintable characters are escaped (\x1b, \u2028),
// invalid UTF-8 is replaced, space is trimmed, and the result is cut to
// MaxNameRunes.
func CleanName(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD")) {
		var piece string
		switch {
		case r == utf8.RuneError:
			piece = "\uFFFD"
		case unicode.IsPrint(r):
			piece = string(r)
		case r < 0x100:
			piece = fmt.Sprintf(`\x%02x`, r)
		default:
			piece = fmt.Sprintf(`\u%04x`, r)
		}
		if n+utf8.RuneCountInString(piece) > MaxNameRunes {
			break
		}
		b.WriteString(piece)
		n += utf8.RuneCountInString(piece)
	}
	return strings.TrimSpace(b.String()) // the cut may end in a space
}
