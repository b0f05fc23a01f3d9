package cli

import (
	"errors"
	"strings"
	"testing"
)

// TestCheckSudoCollect: under sudo, collect takes its address, then
// --bird, then --nat, each optional, and refuses every other flag, form,
// order, repeat or argument, as the sudoers rule's regular expression
// does.
func TestCheckSudoCollect(t *testing.T) {
	tests := []struct {
		args []string
		ok   bool
	}{
		{[]string{"collect", "--pod-ip", "198.51.100.7"}, true},
		{[]string{"collect", "--pod-ip", "2001:db8::7"}, true},
		{[]string{"collect", "--pod-ip=198.51.100.7"}, true},
		{[]string{"collect", "--pod-ip", "198.51.100.7", "--bird"}, true},
		{[]string{"collect", "--pod-ip", "198.51.100.7", "--nat"}, true},
		{[]string{"collect", "--pod-ip", "198.51.100.7", "--bird", "--nat"}, true},
		{[]string{"collect", "--pod-ip=198.51.100.7", "--bird", "--nat"}, true},

		{[]string{"collect", "--pod-ip", "198.51.100.7", "--nat", "--bird"}, false},
		{[]string{"collect", "--pod-ip", "198.51.100.7", "--bird", "--bird"}, false},
		{[]string{"collect", "--pod-ip", "198.51.100.7", "--nat", "--nat"}, false},
		{[]string{"collect", "--pod-ip", "198.51.100.7", "--bird=true"}, false},
		{[]string{"collect", "--pod-ip", "198.51.100.7", "--nat=false"}, false},
		{[]string{"collect", "--pod-ip", "198.51.100.7", "--bird", "/run/other.ctl"}, false},
		{[]string{"collect", "--pod-ip", "198.51.100.7", "--bird-socket", "/run/other.ctl"}, false},
		{[]string{"collect", "--pod-ip", "198.51.100.7", "--bird", "--host-netns", "pid:1"}, false},
		{[]string{"collect", "--pod-ip", "198.51.100.7", "--nat", "--host-netns=/proc/1/ns/net"}, false},
		{[]string{"collect", "--bird", "--pod-ip", "198.51.100.7"}, false},
		{[]string{"collect", "--bird", "--nat"}, false},
		{[]string{"collect", "--pod-ip", "198.51.100.7 --bird"}, false},
		{[]string{"collect", "--pod-ip", "198.51.100.7", "--bird --nat"}, false},
		{[]string{"collect", "--pod-ip", "198.51.100.7", "-b"}, false},
		{[]string{"collect", "--pod-ip", "198.51.100.7", "--", "--bird"}, false},
		{[]string{"collect", "--pod-ip", "198.51.100.7", "--bird", "extra"}, false},
		{[]string{"collect", "--pod-ip", "198.51.100.7", "--pod-ip", "198.51.100.8"}, false},
		{[]string{"collect", "--pod-ip", "not-an-address", "--bird"}, false},
		{[]string{"collect", "--pod-ip"}, false},
		{[]string{"collect"}, false},
		{[]string{"--bird", "collect", "--pod-ip", "198.51.100.7"}, false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			err := checkSudoCollect(tt.args)
			if (err == nil) != tt.ok {
				t.Fatalf("checkSudoCollect: %v; want accepted: %v", err, tt.ok)
			}
			if err != nil && (!errors.Is(err, errUsage) || !strings.Contains(err.Error(), "under sudo, collect takes --pod-ip ADDRESS and nothing else") || strings.Contains(err.Error(), "\n")) {
				t.Errorf("refusal %q is not the one-line usage error", err)
			}
		})
	}
}
