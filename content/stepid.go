package content

import (
	"strconv"
	"strings"
)

// StepID names a step: its section and its place in that section, both
// from 1. Its one string form is "2.4": the lesson's files, the progress
// file, the status line and the classroom's reports all write it so.
type StepID struct{ Section, Step int }

// maxStepNumber bounds either number of a step id that comes from
// outside (a classroom report): no lesson has a hundred sections.
const maxStepNumber = 99

func (id StepID) String() string {
	return strconv.Itoa(id.Section) + "." + strconv.Itoa(id.Step)
}

// Valid says whether both numbers are from 1 to 99.
func (id StepID) Valid() bool {
	return id.Section >= 1 && id.Section <= maxStepNumber && id.Step >= 1 && id.Step <= maxStepNumber
}

// ParseStepID reads a step id's string form, exactly as String writes
// it (no sign, space or leading zero); ok is false for anything else and
// for an id that is not Valid.
func ParseStepID(s string) (StepID, bool) {
	a, b, ok := strings.Cut(s, ".")
	if !ok {
		return StepID{}, false
	}
	sec, err1 := strconv.Atoi(a)
	st, err2 := strconv.Atoi(b)
	id := StepID{sec, st}
	if err1 != nil || err2 != nil || !id.Valid() || id.String() != s {
		return StepID{}, false
	}
	return id, true
}
