package cli

import (
	"strings"
	"testing"
)

// --place takes pod or host1, and host1 only from the sandbox, never as
// a picture.
func TestShowPlaceErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"show", "--place", "node9"}, `podlab: --place "node9": use pod or host1`},
		{[]string{"show", "--place", "host1", "--lab", "recording"}, "podlab: --place host1 reads the sandbox's host1: use --lab sandbox"},
		{[]string{"show", "--place", "host1", "--lab", "sandbox", "--map"}, "podlab: --place host1 and --map do not go together"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, stderr := podlab(t, tt.args...)
			if code != 2 || !strings.HasPrefix(stderr, tt.want) || strings.Count(stderr, "\n") != 1 || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and one line starting %q", code, out, stderr, tt.want)
			}
		})
	}
}
