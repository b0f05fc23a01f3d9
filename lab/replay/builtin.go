package replay

import (
	"bytes"
	_ "embed"
)

// builtinRecording is the sandbox, built with the lesson's values and
// recorded with `podlab record --lab sandbox`: what podlab shows on a
// machine with no cluster, no root and nothing installed.
//
//go:embed builtin.json
var builtinRecording []byte

// Builtin is the lab of the recording built into podlab.
func Builtin() (*Lab, error) {
	return New("built-in", bytes.NewReader(builtinRecording))
}
