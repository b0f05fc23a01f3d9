//go:build podlabtest

package ui

import (
	"os"
	"time"
)

// In a binary built with -tags podlabtest, PODLAB_TEST_STALL_MAP=FILE
// makes drawing the map create FILE and then never return: a render
// that holds the event loop, for the tests of how podlab ends.
func init() {
	path := os.Getenv("PODLAB_TEST_STALL_MAP")
	if path == "" {
		return
	}
	stallMap = func() {
		_ = os.WriteFile(path, nil, 0o600)
		for {
			time.Sleep(time.Hour)
		}
	}
}
