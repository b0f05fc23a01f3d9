package e2e

import (
	"strings"
	"testing"
)

// TestLookupBoxInTerminal: at 80x24, letters typed into the lookup box
// stay in it (the lesson does not move), a CIDR is looked up by its
// address, and the answer is never cut mid-word without a mark.
func TestLookupBoxInTerminal(t *testing.T) {
	tm := newTerm(t, 80, 24, "--lab", "recording")
	tm.waitText(wait, "recording", "refreshed")
	tm.keys("3", "n")
	tm.waitText(wait, "step 2/5")
	tm.keys("/")
	tm.waitText(wait, "route lookup ›", "esc close")
	tm.text("hello")
	s := tm.waitText(wait, "route lookup › hello")
	if !strings.Contains(s, "step 2/5") {
		t.Fatalf("typing hello moved the lesson:\n%s", s)
	}
	tm.keys("Escape")
	// Wait for the box to close: an escape with "/" right behind it
	// reads as alt+/.
	tm.waitFor("the box closed", wait, func(s string) bool { return !strings.Contains(s, "route lookup ›") })
	tm.keys("/")
	tm.waitText(wait, "route lookup ›")
	tm.text("198.19.21.70/32")
	tm.keys("Enter")
	s = tm.waitText(wait, "route to 198.19.21.70 → 198.19.21.64/26 via 198.19.0.3")
	t.Logf("the lookup of a CIDR at 80x24:\n%s", s)
	// At 80 columns the answer takes a second row for its class.
	if l := line(s, "route to 198.19.21.70"); !strings.HasSuffix(strings.TrimSpace(l), "proto bird") || !strings.Contains(s, "\n [remote-block]") {
		t.Errorf("the answer is cut, or wrapped mid-word:\n%s", s)
	}
	tm.quit()
}
