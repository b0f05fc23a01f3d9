package cli

import (
	"strings"
	"testing"
)

// TestClassFlagErrors: mistakes in the class flags are one line, before
// anything is served or opened.
func TestClassFlagErrors(t *testing.T) {
	t.Setenv("PODLAB_CLASS_TOKEN", "")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--serve", "7777"}, `--serve "7777": want HOST:PORT`},
		{[]string{"--serve", "127.0.0.1:0", "--follow", "http://127.0.0.1:1"}, "--serve and --follow do not go together"},
		{[]string{"--name", "ana"}, "--name and --no-report go with --follow"},
		{[]string{"--no-report"}, "--name and --no-report go with --follow"},
		{[]string{"--follow", "127.0.0.1:7777", "--class-token", "t"}, "want the presenter's URL"},
		{[]string{"--follow", "http://127.0.0.1:7777"}, "--follow needs the class token"},
		{[]string{"--serve", "192.0.2.1:7777"}, "serve the class on 192.0.2.1:7777"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := podlab(t, append(tt.args, "--lab", "recording")...)
			if code == 0 || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("exit %d, stderr %q; want one line with %q", code, stderr, tt.want)
			}
		})
	}
}
